"""Streaming reader of every JUnit XML dialect, recounting from the test cases.

The suites' own ``tests=``/``failures=`` counters are never read: tools get them wrong (pytest
counts a teardown error as a second test, mocha's root suite says 0), so only ``<testcase>``
elements count. Elements are dropped as soon as they are read, so a file of any size takes the
memory of one test case.

Hostile XML is refused before any of it is parsed. A file whose prolog is only whitespace, the
XML declaration, comments and processing instructions cannot declare an entity or name a DTD, and
goes to the C parser. Anything else (a ``<!DOCTYPE``, a UTF-16 file, garbage) goes through
defusedxml with DTDs, entities and external references forbidden, which refuses the bombs and
reads the rest. The C parser is about twice as fast as defusedxml's pure-Python one, which is why
the check exists at all.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .attempts import AttemptFolder
from .model import MAX_MESSAGE, AttachmentRef, Case, InputInfo, Problem, Tally, clip

CHUNK = 1 << 16
ROOTS = ("testsuites", "testsuite")
_SAFE_PROLOG = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:[ \t\r\n]+|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*<[A-Za-z_:]"
)
# Jenkins' JUnit attachments plugin convention, used by many tools: [[ATTACHMENT|/path/to/file]]
_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]\n]+)\]\]")
_SKIPPED_STATUS = frozenset(("skipped", "notrun", "disabled", "ignored"))
_OUTPUT_TAGS = frozenset(("system-out", "system-err", "properties"))
_KINDS = {".png": "screenshot", ".jpg": "screenshot", ".jpeg": "screenshot", ".webp": "screenshot", ".zip": "trace", ".webm": "video", ".mp4": "video", ".log": "log", ".txt": "log"}


class _NotJUnit(Exception):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = root


def read_junit(path: Path, tally: Tally) -> InputInfo:
    """Add every test case of one JUnit file to ``tally``; problems become :class:`Problem`s."""
    folder = AttemptFolder(tally)
    info = InputInfo(str(path), "junit")
    try:
        with open(path, "rb") as stream:
            head = stream.read(CHUNK)
            _walk(_batches(stream, head, _SAFE_PROLOG.match(head) is not None), path, folder)
    except _NotJUnit as exc:
        info.format, info.ok = "unknown", False
        tally.problems.append(Problem(str(path), f"not a JUnit report: the root element is <{exc.root}>"))
    except ET.ParseError as exc:
        line, column = exc.position
        info.ok = False
        # expat counts columns from 0; editors and file:line:col links count from 1
        tally.problems.append(Problem(str(path), _parse_message(exc, folder), line, column + 1))
    except OSError as exc:
        info.ok = False
        tally.problems.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
    except Exception as exc:  # defusedxml's refusals share no base class but this one
        if type(exc).__module__.split(".")[0] != "defusedxml":
            raise
        info.ok = False
        tally.problems.append(Problem(str(path), _refusal(exc), _doctype_line(path)))
    info.tests = folder.close()
    tally.inputs.append(info)
    return info


def _parse_message(exc: ET.ParseError, folder: AttemptFolder) -> str:
    reason = str(exc).split(":", 1)[0]
    counted = folder.read
    if reason == "no element found" and not counted:
        return "empty or truncated file: no test case could be read"
    suffix = f" (the {counted} test case(s) before it are counted)" if counted else ""
    return f"malformed XML: {reason}{suffix}"


def _refusal(exc: Exception) -> str:
    kind = type(exc).__name__
    what = {
        "DTDForbidden": "declares a DTD",
        "EntitiesForbidden": "declares entities",
        "ExternalReferenceForbidden": "references an external entity",
    }.get(kind, f"was refused ({kind})")
    return f"refused: the file {what}; maestro never expands entities or loads DTDs"


def _doctype_line(path: Path) -> int | None:
    try:
        with open(path, "rb") as stream:
            head = stream.read(CHUNK)
    except OSError:
        return None
    found = head.find(b"<!DOCTYPE")
    return head.count(b"\n", 0, found) + 1 if found >= 0 else None


def _batches(stream: Any, head: bytes, safe_prolog: bool) -> Iterator[list[tuple[str, ET.Element]]]:
    """The parse events of each chunk of the file, as one list per chunk.

    The parser appends events straight into a list through ``_setevents``, the hook that
    ``XMLPullParser`` itself uses (on the C parser and on the pure-Python one that defusedxml
    extends): reading the list is cheaper than ``read_events``' generator step per event.
    """
    if safe_prolog:
        parser: Any = ET.XMLParser()
    else:
        from defusedxml.ElementTree import DefusedXMLParser

        parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    events: list[tuple[str, ET.Element]] = []
    parser._setevents(events, ("start", "end"))
    chunk = head
    try:
        while chunk:
            parser.feed(chunk)
            yield events
            events.clear()
            chunk = stream.read(CHUNK)
        parser.close()
    except Exception:
        yield events  # what was read before a fault still counts
        raise
    yield events


def _walk(batches: Iterator[list[tuple[str, ET.Element]]], path: Path, folder: AttemptFolder) -> None:
    """Read cases as their end tags arrive, dropping each element once it is read."""
    container: ET.Element | None = None  # the innermost open <testsuites>/<testsuite>
    suite, suite_file = path.stem, None  # a suite without a name is named after its file
    stack: list[tuple[ET.Element, str, str | None]] = []  # the ones around it
    add, add_pass, output_tags, beside = folder.add, folder.add_pass, _OUTPUT_TAGS, path.parent
    for batch in batches:
        for event, element in batch:
            tag = element.tag
            if event == "end":
                if tag == "testcase":
                    attributes = element.attrib
                    children = len(element)
                    if "status" not in attributes and (
                        not children or (element[0].tag in output_tags and (children == 1 or _only_output(element)))
                    ):
                        time = attributes.get("time")
                        try:
                            seconds = float(time) if time else 0.0
                        except ValueError:
                            seconds = parse_time(time)  # type: ignore[arg-type]
                        add_pass(
                            suite,
                            attributes.get("classname") or attributes.get("class") or "",
                            attributes.get("name") or "(unnamed)",
                            seconds if seconds >= 0 else 0.0,
                        )
                    else:
                        add(_case(element, suite, suite_file, beside))
                    del container[:]  # type: ignore[index]
                elif tag == "testsuite" and stack:
                    folder.end_group()
                    container, suite, suite_file = stack.pop()
                    del container[:]
            elif container is None:  # the root element
                if tag not in ROOTS:
                    raise _NotJUnit(tag)
                container, suite, suite_file = element, element.get("name") or path.stem, element.get("file")
            elif tag == "testsuite":
                folder.end_group()
                stack.append((container, suite, suite_file))
                container, suite, suite_file = element, element.get("name") or suite, element.get("file") or suite_file


def _only_output(element: ET.Element) -> bool:
    """Whether a case's children are only its output: then it is a plain pass."""
    return all(child.tag in _OUTPUT_TAGS for child in element)


def _case(element: ET.Element, suite: str, suite_file: str | None, folder: Path) -> Case:
    attributes = element.attrib
    time = attributes.get("time")
    case = Case(
        suite=suite,
        classname=attributes.get("classname") or attributes.get("class") or "",
        name=attributes.get("name") or "(unnamed)",
        time=parse_time(time) if time else 0.0,
    )
    _details(element, case, suite_file, folder)
    return case


def _details(element: ET.Element, case: Case, suite_file: str | None, folder: Path) -> None:
    attributes = element.attrib
    case.file = attributes.get("file") or suite_file
    line = attributes.get("line")
    case.line = int(line) if line and line.isdigit() else None
    if attributes.get("status", "").lower() in _SKIPPED_STATUS:
        case.outcome = "skipped"
    output: list[str] = []
    for child in element:
        tag = child.tag
        if tag in ("failure", "error"):
            if case.outcome in ("failed", "error"):  # a second one: pytest's teardown error
                case.details = clip("\n".join(filter(None, (case.details, f"--- {_message(child)}", child.text))))
                continue
            case.outcome = "failed" if tag == "failure" else "error"
            case.kind = tag
            case.message = _message(child)
            case.details = clip(child.text)  # kept until the suite ends: bounded, like all the rest
        elif tag in ("skipped", "disabled", "ignored"):
            if case.outcome == "passed":
                case.outcome = "skipped"
                case.message = _message(child)
        elif tag in ("flakyFailure", "flakyError", "rerunFailure", "rerunError"):
            # Maven Surefire: flaky* = failed, then passed on rerun; rerun* = failed on every rerun
            case.reruns += 1
            if case.rerun_message is None:
                case.rerun_message = _message(child) or _stack_trace(child)
        elif tag in ("system-out", "system-err") and child.text:
            output.append(child.text)
    if case.reruns and case.outcome == "passed":
        case.outcome = "flaky"
    if output and case.outcome in ("failed", "error"):
        # a relative path is taken from the report's folder, as results.json's attachments are
        paths = [folder / path.strip() for text in output for path in _ATTACHMENT.findall(text)]
        case.attachments = [AttachmentRef(str(path), _KINDS.get(path.suffix.lower(), "file")) for path in paths]


def _message(element: ET.Element) -> str | None:
    """The message attribute, or the body's first line (jest-junit writes the body only)."""
    message = element.get("message")
    if message:
        return message.strip()[:MAX_MESSAGE]
    text = (element.text or "").strip()
    return text.split("\n", 1)[0].strip()[:MAX_MESSAGE] or None


def _stack_trace(element: ET.Element) -> str | None:
    trace = element.find("stackTrace")
    return _message(trace) if trace is not None else None


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
