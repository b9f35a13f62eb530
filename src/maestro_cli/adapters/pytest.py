"""The ``pytest`` adapter: ``python -m pytest`` in a subprocess, every test case read from JUnit XML.

Running pytest in its own process (not ``pytest.main`` in maestro's) keeps the project's imports,
plugins and interpreter (``with: python:``) apart from maestro's, and lets a timeout stop it.
:func:`parse_junit` and :func:`run_pytest` are public: the browser adapters drive pytest the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plan import process
from .base import CaseOutcome, StepContext, StepResult, StepSpec, TestCase
from .shell import run_command

# pytest's documented exit codes (pytest.ExitCode) and what they mean for a step
_EXIT_MESSAGES = {
    2: "pytest was interrupted",
    3: "pytest hit an internal error",
    4: "pytest was called with bad arguments",
    5: "no tests were collected",
}


class PytestAdapter:
    CHECK_READS_ONLY_THE_STEP = True  # see adapters/base.py: plans of such steps are kept checked
    name = "pytest"
    description = "Run pytest in a subprocess; every test case is recorded from its JUnit XML."
    options_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": {"type": "string"}, "description": "test files or folders"},
            "args": {"type": "array", "items": {"type": "string"}, "description": "more pytest arguments"},
            "python": {"type": "string", "description": "interpreter to run pytest with (default: maestro's)"},
            "markers": {"type": "string", "description": "-m expression"},
            "keyword": {"type": "string", "description": "-k expression"},
            "workers": {
                "anyOf": [{"type": "integer", "minimum": 1}, {"const": "auto"}],
                "description": "pytest-xdist workers, when the interpreter has pytest-xdist",
            },
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        if step.run is not None:
            return ["the pytest adapter takes `with: {paths, args}`, not `run:`"]
        return []

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        options = step.options
        python = str(options.get("python") or sys.executable)
        args: list[str] = []
        if options.get("markers"):
            args += ["-m", options["markers"]]
        if options.get("keyword"):
            args += ["-k", options["keyword"]]
        workers = options.get("workers")
        if workers is not None:
            if _has_xdist(python, context):
                args += ["-n", str(workers)]
            else:
                context.log.write(f"maestro: {python} has no pytest-xdist; running without workers\n")
        args += [*options.get("args", []), *options.get("paths", [])]
        return run_pytest(python, args, step, context)


def run_pytest(python: str, args: Sequence[str], step: StepSpec, context: StepContext) -> StepResult:
    """``python -m pytest ARGS --junitxml=...`` for one attempt; cases and a one-line message."""
    context.attachments_dir.mkdir(parents=True, exist_ok=True)
    junit = context.attachments_dir / f"junit-{context.attempt}.xml"
    junit.unlink(missing_ok=True)
    argv = [python, "-m", "pytest", *args, f"--junitxml={junit}"]
    result = run_command(argv, step, context)
    if junit.is_file():
        result.cases = parse_junit(junit)
    if result.outcome in ("passed", "failed") and result.exit_code is not None:
        result.message = _summary(result.exit_code, result.cases) if result.exit_code else None
    return result


def _summary(exit_code: int, cases: list[TestCase]) -> str:
    if exit_code in _EXIT_MESSAGES:
        return _EXIT_MESSAGES[exit_code]
    # sorted: with xdist workers the JUnit file lists cases in the order they finished
    failed = sorted((case for case in cases if case.outcome in ("failed", "error")), key=lambda c: (c.classname, c.name))
    if not failed:
        return f"pytest exited with {exit_code}"
    names = ", ".join(case.name for case in failed[:3]) + (", ..." if len(failed) > 3 else "")
    return f"{len(failed)} of {len(cases)} tests failed: {names}"


def _has_xdist(python: str, context: StepContext) -> bool:
    found = process.run([python, "-c", "import xdist"], env=context.env, deadline=context.deadline, cancel=context.cancel)
    return found.ok


def parse_junit(path: Path) -> list[TestCase]:
    """Every ``<testcase>`` of a JUnit XML file (pytest's, or any other tool's), in file order.

    Parsed with defusedxml: a report is input from a test run, and must not expand entities.
    """
    from defusedxml import ElementTree

    cases: list[TestCase] = []
    for element in ElementTree.parse(path).getroot().iter("testcase"):
        outcome: CaseOutcome = "passed"
        message = details = None
        for child in element:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skipped" if child.tag == "skipped" else ("failed" if child.tag == "failure" else "error")
                message = child.get("message") or child.get("type")
                details = (child.text or "").strip() or None
                break
        line = element.get("line")
        cases.append(
            TestCase(
                name=element.get("name", ""),
                classname=element.get("classname", ""),
                outcome=outcome,
                time=float(element.get("time") or 0.0),
                message=message,
                details=details,
                file=element.get("file"),
                line=int(line) if line and line.isdigit() else None,
            )
        )
    return cases
