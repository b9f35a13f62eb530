"""Streaming reader of every JUnit XML dialect, recounting from the test cases.

The suites' own ``tests=``/``failures=`` counters are never read: tools get them wrong (pytest
counts a teardown error as a second test, mocha's root suite says 0), so only ``<testcase>``
elements count. The file goes through expat's callbacks without building any element tree: a
case keeps its attributes until its end tag, and only the children that can change its outcome
(and its captured output, for the attachments of a failing case) keep theirs and their text. A
file of any size takes the memory of one test case, and a plain pass costs two callbacks.

Hostile XML is refused in the same parser, the way defusedxml refuses it: a ``<!DOCTYPE`` stops
the parse where it starts, before any entity or external DTD is declared, let alone expanded or
fetched, and parameter entities are never parsed.
"""

from __future__ import annotations

import pyexpat
import re
from itertools import repeat
from math import isnan
from pathlib import Path
from typing import BinaryIO

from .attempts import AttemptFolder
from .model import MAX_MESSAGE, AttachmentRef, Case, InputInfo, Problem, Tally, clip

CHUNK = 1 << 16
# cases held before they are counted together: bounded memory, and enough to amortise the batch
PASS_BATCH = 1_000
CASE_BATCH = 100
ROOTS = ("testsuites", "testsuite")
REFUSAL = "refused: the file declares a DTD; maestro never expands entities or loads DTDs"
# Jenkins' JUnit attachments plugin convention, used by many tools: [[ATTACHMENT|/path/to/file]]
_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]\n]+)\]\]")
_SKIPPED_STATUS = frozenset(("skipped", "notrun", "disabled", "ignored"))
_KINDS = {".png": "screenshot", ".jpg": "screenshot", ".jpeg": "screenshot", ".webp": "screenshot", ".zip": "trace", ".webm": "video", ".mp4": "video", ".log": "log", ".txt": "log"}


class _NotJUnit(Exception):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = root


class _Refused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Child:
    """A child element of a test case that decides its outcome (``<failure>``, ``<skipped>``…)."""

    __slots__ = ("attributes", "parts", "tag", "trace")

    def __init__(self, tag: str, attributes: dict[str, str]) -> None:
        self.tag = tag
        self.attributes = attributes
        self.parts: list[str] = []  # its text up to its first element, as expat hands it over
        self.trace: _Child | None = None  # Surefire's <stackTrace> inside a <flakyFailure>

    @property
    def text(self) -> str | None:
        return "".join(self.parts) or None

    @property
    def message(self) -> str | None:
        """The message attribute, or the body's first line (jest-junit writes the body only)."""
        message = self.attributes.get("message")
        if message:
            return message.strip()[:MAX_MESSAGE]
        text = (self.text or "").strip()
        return text.split("\n", 1)[0].strip()[:MAX_MESSAGE] or None


def read_junit(path: Path, tally: Tally) -> InputInfo:
    """Add every test case of one JUnit file to ``tally``; problems become :class:`Problem`s."""
    folder = AttemptFolder(tally)
    info = InputInfo(str(path), "junit")
    try:
        with open(path, "rb") as stream:
            _parse(stream, path, folder)
    except _NotJUnit as exc:
        info.format, info.ok = "unknown", False
        tally.problems.append(Problem(str(path), f"not a JUnit report: the root element is <{exc.root}>"))
    except _Refused as exc:
        info.ok = False
        tally.problems.append(Problem(str(path), REFUSAL, exc.line))
    except pyexpat.ExpatError as exc:
        info.ok = False
        # expat counts columns from 0; editors and file:line:col links count from 1
        tally.problems.append(Problem(str(path), _parse_message(exc, folder), exc.lineno, exc.offset + 1))
    except OSError as exc:
        info.ok = False
        tally.problems.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
    info.tests = folder.close()
    tally.inputs.append(info)
    return info


def _parse_message(exc: pyexpat.ExpatError, folder: AttemptFolder) -> str:
    reason = str(exc).split(":", 1)[0]
    counted = folder.read
    if reason == "no element found" and not counted:
        return "empty or truncated file: no test case could be read"
    suffix = f" (the {counted} test case(s) before it are counted)" if counted else ""
    return f"malformed XML: {reason}{suffix}"


def _parse(stream: BinaryIO, path: Path, folder: AttemptFolder) -> None:
    """Feed the file to expat, reading each case as its end tag arrives.

    The handlers are closures over the reading state: expat calls them hundreds of thousands of
    times, and a closure's variables are the cheapest state Python has to offer them.
    """
    parser = pyexpat.ParserCreate(namespace_separator="}", intern=None)  # "uri}tag", as ElementTree's "{uri}tag"
    parser.buffer_text = True  # one call per text, not one per line or entity
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    end_group, stem, beside = folder.end_group, path.stem, path.parent
    suite, suite_file = stem, None  # of the innermost open <testsuites>/<testsuite>
    outer: list[tuple[str, str | None]] = []  # of the ones around it
    depth = 0  # 0: outside any test case, 1: in one, 2: in a child of it, ...
    attributes: dict[str, str] = {}  # of the open test case
    plain = True  # whether the open case is a pass so far: no status, nothing but output inside
    children: list[_Child] = []  # the open case's children that are not its output
    outputs: list[list[str]] = []  # the text of its system-out and system-err, in parts
    child: _Child | None = None  # the child being read, when it is one of ``children``
    # what was read of the innermost suite and not counted yet: the attributes of its plain passes,
    # and its other cases, each with the number of passes read before it
    passes: list[dict[str, str]] = []
    cases: list[tuple[int, Case]] = []

    def refuse(*_: object) -> None:
        raise _Refused(parser.CurrentLineNumber)

    def root(tag: str, root_attributes: dict[str, str]) -> None:
        nonlocal suite, suite_file
        if tag not in ROOTS:
            raise _NotJUnit("{" + tag if "}" in tag else tag)
        suite, suite_file = root_attributes.get("name") or stem, root_attributes.get("file")
        parser.StartElementHandler = start

    def start(tag: str, element_attributes: dict[str, str]) -> None:
        nonlocal depth, attributes, plain, child, suite, suite_file
        if depth:
            depth += 1
            if depth == 2:
                if tag == "system-out" or tag == "system-err":
                    parts: list[str] = []
                    outputs.append(parts)
                    parser.CharacterDataHandler = parts.append
                    child = None
                elif tag == "properties":
                    child = None
                else:
                    plain = False
                    child = _Child(tag, element_attributes)
                    children.append(child)
                    parser.CharacterDataHandler = child.parts.append
            else:
                parser.CharacterDataHandler = None  # a child's text is what comes before its first element
                if depth == 3 and tag == "stackTrace" and child is not None and child.trace is None:
                    child.trace = _Child(tag, element_attributes)
                    parser.CharacterDataHandler = child.trace.parts.append
        elif tag == "testcase":
            depth = 1
            attributes = element_attributes
            plain = "status" not in element_attributes
        elif tag == "testsuite":
            count()
            end_group()
            outer.append((suite, suite_file))
            suite = element_attributes.get("name") or suite
            suite_file = element_attributes.get("file") or suite_file

    def end(tag: str) -> None:
        nonlocal depth, children, outputs, suite, suite_file
        if depth == 1:
            depth = 0
            if plain:
                passes.append(attributes)
                if len(passes) == PASS_BATCH:
                    count()
            else:
                cases.append((len(passes), _case(attributes, children, outputs, suite, suite_file, beside)))
                children = []
                if len(cases) == CASE_BATCH:
                    count()
            if outputs:
                outputs = []
        elif depth:
            depth -= 1
            parser.CharacterDataHandler = None
        elif tag == "testsuite" and outer:
            count()
            end_group()
            suite, suite_file = outer.pop()

    def count() -> None:
        nonlocal passes, cases
        if passes or cases:
            folder.add_batch(suite, *_columns(passes), cases)
            passes, cases = [], []

    parser.StartDoctypeDeclHandler = refuse
    parser.StartElementHandler = root
    parser.EndElementHandler = end
    try:
        chunk = stream.read(CHUNK)
        while chunk:
            parser.Parse(chunk, False)
            chunk = stream.read(CHUNK)
        parser.Parse(b"", True)
    finally:
        count()  # what was read before a fault still counts
        # the handlers hold the parser and the parser holds them: a cycle that, with the cyclic
        # collector off while reading, would keep every file's parser and buffers to the end
        parser.StartDoctypeDeclHandler = parser.StartElementHandler = parser.EndElementHandler = None
        parser.CharacterDataHandler = None


def _columns(passes: list[dict[str, str]]) -> tuple[list[str], list[str], list[float]]:
    """The class names, names and seconds of plain passes, read out by C loops when, as nearly
    always, every pass has a class name, a name and a time that is a plain number."""
    classnames = list(map(dict.get, passes, repeat("classname")))
    if not all(classnames):
        classnames = [classname or case.get("class") or "" for classname, case in zip(classnames, passes, strict=True)]
    names = list(map(dict.get, passes, repeat("name")))
    if not all(names):
        names = [name or "(unnamed)" for name in names]
    texts = list(map(dict.get, passes, repeat("time")))
    try:
        times = list(map(float, texts))
    except (TypeError, ValueError):  # a missing time, or one in a locale's format
        return classnames, names, [parse_time(text) if text else 0.0 for text in texts]
    if min(times, default=0.0) < 0 or any(map(isnan, times)):
        times = [parse_time(text) for text in texts]
    return classnames, names, times


def _case(
    attributes: dict[str, str], children: list[_Child], outputs: list[list[str]], suite: str, suite_file: str | None, folder: Path
) -> Case:
    time = attributes.get("time")
    line = attributes.get("line")
    status = attributes.get("status")
    outcome = "skipped" if status and status.lower() in _SKIPPED_STATUS else "passed"
    kind = message = details = rerun_message = None
    reruns = 0
    for child in children:
        tag = child.tag
        if tag in ("failure", "error"):
            if outcome in ("failed", "error"):  # a second one: pytest's teardown error
                details = clip("\n".join(filter(None, (details, f"--- {child.message}", child.text))))
                continue
            outcome = "failed" if tag == "failure" else "error"
            kind = tag
            message = child.message
            details = clip(child.text)  # kept until the suite ends: bounded, like all the rest
        elif tag in ("skipped", "disabled", "ignored"):
            if outcome == "passed":
                outcome = "skipped"
                message = child.message
        elif tag in ("flakyFailure", "flakyError", "rerunFailure", "rerunError"):
            # Maven Surefire: flaky* = failed, then passed on rerun; rerun* = failed on every rerun
            reruns += 1
            if rerun_message is None:
                rerun_message = child.message or (child.trace.message if child.trace is not None else None)
    if reruns and outcome == "passed":
        outcome = "flaky"
    case = Case(
        suite,
        attributes.get("classname") or attributes.get("class") or "",
        attributes.get("name") or "(unnamed)",
        outcome,
        parse_time(time) if time else 0.0,
        attributes.get("file") or suite_file,
        int(line) if line and line.isdigit() else None,
        kind,
        message,
        details,
        reruns,
        rerun_message,
    )
    if outputs and outcome in ("failed", "error"):
        # a relative path is taken from the report's folder, as results.json's attachments are;
        # the texts are joined on a line break, which no attachment reference can span
        text = "\n".join(map("".join, outputs))
        if "[[ATTACHMENT|" in text:
            paths = [folder / path.strip() for path in _ATTACHMENT.findall(text)]
            case.attachments = [AttachmentRef(str(path), _KINDS.get(path.suffix.lower(), "file")) for path in paths]
    return case


def parse_time(text: str) -> float:
    """Seconds from a time attribute, in any locale (Surefire writes ``2,120.532`` or ``2.120,532``)."""
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if value >= 0 else 0.0
    text = text.strip().rstrip("s")
    if "," in text and "." in text:
        grouping = "," if text.rfind(",") < text.rfind(".") else "."
        text = text.replace(grouping, "")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return value if value >= 0 else 0.0
