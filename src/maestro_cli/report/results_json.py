"""Reader of maestro's own ``results.json`` (written by ``maestro run-plan``).

Each step's test cases count as tests of a suite named after the step. A step that reports no
cases counts as one test itself (class: its adapter, name: its id, as in run-plan's own JUnit
export), and so does a failed step whose cases all passed (a crash after the tests, a non-zero
exit), so that a red step never reads as a green report. Such a step that passed on a later
attempt is flaky. Attachment paths are relative to the folder that holds
``results.json`` and are made absolute here, so that every renderer can link them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..adapters.base import RESULTS_FORMAT, RESULTS_VERSION
from .attempts import AttemptFolder
from .model import FAILING, MAX_MESSAGE, OUTCOMES, AttachmentRef, Case, InputInfo, Problem, Tally, clip

RESULTS_NAME = "results.json"
# as run-plan's own JUnit export counts them: a timed-out step failed, a cancelled one did not run
_STEP_OUTCOMES = {"passed": "passed", "failed": "failed", "timed-out": "failed", "cancelled": "skipped", "skipped": "skipped"}


def read_results_json(path: Path, tally: Tally) -> InputInfo:
    info = InputInfo(str(path), RESULTS_FORMAT)
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        return _fail(tally, info, Problem(str(path), f"cannot read: {exc.strerror or exc}"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line, column = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (None, None)
        return _fail(tally, info, Problem(str(path), f"malformed JSON: {getattr(exc, 'msg', exc)}", line, column))
    if not isinstance(document, dict) or document.get("format") != RESULTS_FORMAT:
        info.format = "unknown"
        return _fail(tally, info, Problem(str(path), f"not a maestro results file: no \"format\": \"{RESULTS_FORMAT}\""))
    if document.get("version") != RESULTS_VERSION:
        return _fail(tally, info, Problem(str(path), f"unsupported results version {document.get('version')!r} (this maestro reads {RESULTS_VERSION})"))
    base = path.parent.resolve()
    folder = AttemptFolder(tally)
    for index, step in enumerate(document.get("steps") or []):
        if not isinstance(step, dict):
            tally.problems.append(Problem(str(path), f"steps[{index}] is not an object"))
            info.ok = False
            continue
        for case in _step_cases(step, base):
            folder.add(case)
        folder.end_group()
    info.tests = folder.close()
    tally.inputs.append(info)
    return info


def _fail(tally: Tally, info: InputInfo, problem: Problem) -> InputInfo:
    info.ok = False
    tally.problems.append(problem)
    tally.inputs.append(info)
    return info


def _step_cases(step: dict[str, Any], base: Path) -> list[Case]:
    """A step's cases; the step itself stands as a case the way run-plan's own JUnit export has it."""
    step_id = str(step.get("id") or "(step)")
    cases = [_case(raw, step_id, base) for raw in step.get("cases") or [] if isinstance(raw, dict)]
    outcome = _STEP_OUTCOMES.get(str(step.get("outcome")), "error")
    if not cases or (outcome in FAILING and not any(c.outcome in FAILING for c in cases)):
        failed_attempts = [a for a in step.get("attempts") or [] if isinstance(a, dict) and a.get("outcome") != "passed"]
        step_case = Case(
            suite=step_id,
            classname=str(step.get("adapter") or step_id),
            name=step_id,
            outcome=outcome,
            time=_number(step.get("duration")),
            kind="error" if outcome == "error" else ("failure" if outcome == "failed" else None),
            message=_step_message(step),
            details=_log_hint(step, base),
        )
        if outcome == "passed" and failed_attempts:
            step_case.outcome = "flaky"
            step_case.reruns = len(failed_attempts)
            step_case.rerun_message = failed_attempts[0].get("message")
        cases.append(step_case)
    step_attachments = _attachments(step.get("attachments"), base)
    for case in cases:
        if case.outcome in FAILING and not case.attachments:
            case.attachments = step_attachments
    return cases


def _case(raw: dict[str, Any], step_id: str, base: Path) -> Case:
    outcome = str(raw.get("outcome") or "passed")
    line = raw.get("line")
    case = Case(
        suite=step_id,
        classname=str(raw.get("classname") or step_id),
        name=str(raw.get("name") or "(unnamed)"),
        outcome=outcome if outcome in OUTCOMES else "error",
        time=_number(raw.get("time")),
        file=raw.get("file"),
        line=line if isinstance(line, int) else None,
        message=_text(raw.get("message"), MAX_MESSAGE),
        details=clip(_text(raw.get("details"))),
        attachments=_attachments(raw.get("attachments"), base),
    )
    if case.outcome in FAILING:
        case.kind = "error" if case.outcome == "error" else "failure"
    elif case.outcome == "flaky":
        case.reruns = 1
    return case


def _attachments(raw: Any, base: Path) -> list[AttachmentRef]:
    found: list[AttachmentRef] = []
    for entry in raw or []:
        if isinstance(entry, dict) and entry.get("path"):
            found.append(
                AttachmentRef(
                    path=str(base / str(entry["path"])),
                    kind=str(entry.get("kind") or "file"),
                    content_type=entry.get("content_type"),
                    description=entry.get("description"),
                )
            )
    return found


def _step_message(step: dict[str, Any]) -> str | None:
    message = step.get("message")
    code = step.get("exit_code")
    if code not in (None, 0):
        return f"{message} (exit code {code})" if message else f"exit code {code}"
    return message


def _log_hint(step: dict[str, Any], base: Path) -> str | None:
    return f"log: {base / str(step['log'])}" if step.get("log") else None


def _text(value: Any, limit: int | None = None) -> str | None:
    return str(value)[:limit] if value is not None else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else 0.0
