"""A run's results folder: results.json, junit.xml and ``logs/<step>.log``.

Logs are written while the steps run (so ``tail -f`` works); results.json and junit.xml are
written once, atomically, at the end (also after Ctrl-C), so a reader such as ``maestro report``
sees either none or a complete one.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import redaction
from ..errors import OutputExistsError, UsageError
from ..fsutil import atomic_write_text
from .records import RunReport, StepRun

RESULTS_JSON = "results.json"
JUNIT_XML = "junit.xml"
LOGS = "logs"
ATTACHMENTS = "attachments"


def new_results_dir(base: Path, explicit: Path | None, *, force: bool) -> tuple[Path, str]:
    """The folder for this run and its id: ``explicit``, or ``base/<UTC timestamp>``.

    An explicit folder that already holds results is refused unless ``force``, which replaces what
    the previous run wrote there (logs are appended to while steps run, so they would mix) and
    leaves anything else in the folder alone.
    """
    if explicit is not None:
        if (explicit / RESULTS_JSON).exists():
            if not force:
                raise OutputExistsError.for_path(explicit)
            _remove_previous_run(explicit)
        _make_folder(explicit, f"--results {explicit}")
        return explicit, explicit.resolve().name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    _make_folder(base, f"results folder {base}")
    for suffix in ("", *(f"-{n}" for n in range(2, 1000))):
        folder = base / f"{stamp}{suffix}"
        try:
            folder.mkdir()  # atomic: two runs started in the same second get different folders
        except FileExistsError:
            continue
        return folder, folder.name
    raise OutputExistsError.for_path(base / stamp)


def _make_folder(folder: Path, named: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{named}: not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{named}: cannot make the folder: {exc.strerror or exc}") from None


def _remove_previous_run(folder: Path) -> None:
    for name in (LOGS, ATTACHMENTS):
        shutil.rmtree(folder / name, ignore_errors=True)
    for name in (RESULTS_JSON, JUNIT_XML):
        (folder / name).unlink(missing_ok=True)


class StepTexts:
    """Each step's results.json line and junit.xml suite, made when the step finishes.

    A finished step's record does not change any more: its text is made then, by the worker that
    ran it, while other steps run. A run of 500 steps then ends without 20-30 ms of encoding on one
    core after its last step, the other core idle. A step that never finished (an interrupted run)
    is made at the end. ``on_event`` is a scheduler listener.
    """

    def __init__(self) -> None:
        self._made: dict[str, tuple[str, list[str], dict[str, int]]] = {}

    def on_event(self, event: str, run: StepRun) -> None:
        if event == "finished":
            self._made[run.id] = self._make(run)

    def line(self, run: StepRun) -> str:
        return self.of(run)[0]

    def suite(self, run: StepRun) -> tuple[list[str], dict[str, int]]:
        _, lines, counts = self.of(run)
        return lines, counts

    def of(self, run: StepRun) -> tuple[str, list[str], dict[str, int]]:
        return self._made.get(run.id) or self._make(run)

    @staticmethod
    def _make(run: StepRun) -> tuple[str, list[str], dict[str, int]]:
        return (_ENCODE(run.to_dict()), *_suite(run))


# One encoder for every step: json.dumps makes one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def write_results(report: RunReport, texts: StepTexts | None = None) -> list[Path]:
    """Write results.json and junit.xml into the run's folder; returns their paths.

    ``texts`` holds the steps' texts made as they finished (see :class:`StepTexts`).
    """
    folder = report.results_dir
    results = folder / RESULTS_JSON
    junit = folder / JUNIT_XML
    texts = texts or StepTexts()
    _remove_empty_attachment_dirs(folder / ATTACHMENTS)
    # outputs and messages come from the steps, which may print a secret: scrub as the logs are
    results_text = redaction.scrub(results_json(report, texts))
    # results.json's fsync waits for the disk (1-15 ms here) with the GIL released: junit.xml is
    # built and written meanwhile
    finish = _in_thread(atomic_write_text, results, results_text)
    try:
        atomic_write_text(junit, redaction.scrub(junit_xml(report, texts)))
    finally:
        finish()
    return [results, junit]


def _in_thread(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    """Start ``function(*args)`` in a thread; returns what waits for it and raises what it raised."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            function(*args)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failures.append(exc)

    thread = threading.Thread(target=target, name="results-writer")
    thread.start()

    def finish() -> None:
        thread.join()
        if failures:
            raise failures[0]

    return finish


def results_json(report: RunReport, texts: StepTexts | None = None) -> str:
    """results.json: the run's own keys one per line, then each step on a line of its own.

    ``json.dumps(indent=2)`` runs the json module's pure-Python encoder, which took a third of a
    500-step run's results writing; a step per line is the C encoder's speed, and still reads (and
    greps) well.
    """
    texts = texts or StepTexts()
    steps = [texts.line(run) for run in report.steps]
    head = json.dumps(report.head_dict(), indent=2, ensure_ascii=False).removesuffix("\n}")
    listed = "[\n    " + ",\n    ".join(steps) + "\n  ]" if steps else "[]"
    return f'{head},\n  "steps": {listed}\n}}\n'


def _remove_empty_attachment_dirs(attachments: Path) -> None:
    """The runner makes a folder per step for attachments; most steps leave theirs empty."""
    if not attachments.is_dir():
        return
    for folder in attachments.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if not any(attachments.iterdir()):
        attachments.rmdir()


def junit_xml(report: RunReport, texts: StepTexts | None = None) -> str:
    """A ``<testsuite>`` per step: the adapter's own cases, or one case standing for the step.

    Written as text, laid out as ElementTree's ``indent`` would: building and serialising 500 suites
    through ElementTree took half of a 500-step run's results writing.
    """
    texts = texts or StepTexts()
    totals = dict.fromkeys(_COUNTS, 0)
    lines = []
    for run in report.steps:
        suite, counts = texts.suite(run)
        lines += suite
        for key, value in counts.items():
            totals[key] += value
    time = sum(run.final.duration for run in report.steps)
    root = f'<testsuites name="{_attribute(report.plan.name)}" {_counted(totals)} time="{time:.3f}"'
    body = [f"{root}>", *lines, "</testsuites>"] if lines else [f"{root} />"]
    return '<?xml version="1.0" encoding="utf-8"?>\n' + "\n".join(body) + "\n"


_COUNTS = ("tests", "failures", "errors", "skipped")
_CASE_TAGS = {"failed": "failure", "error": "error", "skipped": "skipped"}
_COUNTED_AS = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def _suite(run: StepRun) -> tuple[list[str], dict[str, int]]:
    """The suite's lines, indented by two spaces per level, and its counts."""
    result = run.final
    counts = dict.fromkeys(_COUNTS, 0)
    cases = [(c.classname, c.name, c.time, c.outcome, c.message, c.details) for c in result.cases]
    step_failed = result.outcome in ("failed", "timed-out")
    if not cases or (step_failed and not any(c[3] in ("failed", "error") for c in cases)):
        # the step itself stands as a case: a shell step, or a pytest run that crashed or timed out
        outcome = {"passed": "passed", "skipped": "skipped", "cancelled": "skipped"}.get(result.outcome, "failed")
        cases.append((run.step.adapter, run.id, result.duration, outcome, result.message, None))
    lines = [
        "    <properties>",
        f'      <property name="adapter" value="{_attribute(run.step.adapter)}" />',
        f'      <property name="outcome" value="{result.outcome}" />',
        f'      <property name="required" value="{str(run.step.required).lower()}" />',
        f'      <property name="attempts" value="{len(run.attempts)}" />',
        "    </properties>",
    ]
    for classname, name, time, outcome, message, details in cases:
        case = f'    <testcase classname="{_attribute(classname)}" name="{_attribute(name)}" time="{time:.3f}"'
        counts["tests"] += 1
        tag = _CASE_TAGS.get(outcome)
        if tag is None:
            lines.append(f"{case} />")
            continue
        counts[_COUNTED_AS[tag]] += 1
        child = f'      <{tag} message="{_attribute(message or "")}"'
        lines += [f"{case}>", f"{child}>{_text(details)}</{tag}>" if details else f"{child} />", "    </testcase>"]
    started = run.started.isoformat() if run.started else ""
    head = f'  <testsuite name="{_attribute(run.id)}" timestamp="{started}" {_counted(counts)} time="{result.duration:.3f}">'
    return [head, *lines, "  </testsuite>"], counts


def _counted(counts: dict[str, int]) -> str:
    return " ".join(f'{key}="{value}"' for key, value in counts.items())


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# as ElementTree writes attributes: a newline or tab in a message survives a round trip
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"})


def _text(value: str) -> str:
    return value.translate(_TEXT_ESCAPES)


def _attribute(value: str) -> str:
    return value.translate(_ATTRIBUTE_ESCAPES)
