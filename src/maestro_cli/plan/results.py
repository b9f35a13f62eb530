"""A run's results folder: results.json, junit.xml and ``logs/<step>.log``.

Logs are written while the steps run (so ``tail -f`` works); results.json and junit.xml are
written once, atomically, at the end (also after Ctrl-C), so a reader such as ``maestro report``
sees either none or a complete one.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

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


def write_results(report: RunReport) -> list[Path]:
    """Write results.json and junit.xml into the run's folder; returns their paths."""
    folder = report.results_dir
    results = folder / RESULTS_JSON
    junit = folder / JUNIT_XML
    _remove_empty_attachment_dirs(folder / ATTACHMENTS)
    # outputs and messages come from the steps, which may print a secret: scrub as the logs are
    atomic_write_text(results, redaction.scrub(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n")
    atomic_write_text(junit, redaction.scrub(junit_xml(report)))
    return [results, junit]


def _remove_empty_attachment_dirs(attachments: Path) -> None:
    """The runner makes a folder per step for attachments; most steps leave theirs empty."""
    if not attachments.is_dir():
        return
    for folder in attachments.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if not any(attachments.iterdir()):
        attachments.rmdir()


def junit_xml(report: RunReport) -> str:
    """A ``<testsuite>`` per step: the adapter's own cases, or one case standing for the step."""
    root = ElementTree.Element("testsuites", name=report.plan.name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in report.steps:
        suite = _suite(run)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(run.final.duration for run in report.steps):.3f}")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


_CASE_TAGS = {"failed": "failure", "error": "error", "skipped": "skipped"}


def _suite(run: StepRun) -> ElementTree.Element:
    result = run.final
    suite = ElementTree.Element("testsuite", name=run.id, timestamp=(run.started.isoformat() if run.started else ""))
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("adapter", run.step.adapter), ("outcome", result.outcome), ("required", str(run.step.required).lower()), ("attempts", str(len(run.attempts)))):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    cases = [(c.classname, c.name, c.time, c.outcome, c.message, c.details) for c in result.cases]
    step_failed = result.outcome in ("failed", "timed-out")
    if not cases or (step_failed and not any(c[3] in ("failed", "error") for c in cases)):
        # the step itself stands as a case: a shell step, or a pytest run that crashed or timed out
        outcome = {"passed": "passed", "skipped": "skipped", "cancelled": "skipped"}.get(result.outcome, "failed")
        cases.append((run.step.adapter, run.id, result.duration, outcome, result.message, None))
    for classname, name, time, outcome, message, details in cases:
        case = ElementTree.SubElement(suite, "testcase", classname=classname, name=name, time=f"{time:.3f}")
        counts["tests"] += 1
        tag = _CASE_TAGS.get(outcome)
        if tag is not None:
            child = ElementTree.SubElement(case, tag, message=message or "")
            if details:
                child.text = details
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{result.duration:.3f}")
    return suite
