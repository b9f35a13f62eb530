"""The ``shell`` adapter: ``run:`` as a script through bash, or a list executed directly.

A script runs as GitHub Actions runs one, ``bash --noprofile --norc -eo pipefail -c SCRIPT``: the
first failing command, even inside a pipe, fails the step. :func:`run_command` is the one way an
adapter runs a process for a step; pytest and the browser adapters use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..plan import process
from .base import StepContext, StepResult, StepSpec

SHELLS: dict[str, list[str]] = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
    "sh": ["sh", "-e", "-c"],
}


class ShellAdapter:
    CHECK_READS_ONLY_THE_STEP = True  # see adapters/base.py: plans of such steps are kept checked
    name = "shell"
    description = "Run a command: a script through bash (or sh), or an argument list directly."
    options_schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "shell": {"enum": sorted(SHELLS), "description": "interpreter for a script (default bash)"},
        },
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        if step.run is None or step.run == "" or step.run == []:
            return ["the shell adapter needs `run:` (a script, or a list of arguments)"]
        return []

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        assert step.run is not None
        if isinstance(step.run, str):
            argv = [*SHELLS[step.options.get("shell", "bash")], step.run]
        else:
            argv = [str(arg) for arg in step.run]
        return run_command(argv, step, context)


def run_command(argv: Sequence[str], step: StepSpec, context: StepContext) -> StepResult:
    """Run ``argv`` for one attempt of ``step``: its log, environment, deadline and cancel."""
    completed = process.run(
        argv,
        cwd=context.workdir,
        env=context.env,
        log=context.log,
        deadline=context.deadline,
        cancel=context.cancel,
    )
    return result_of(completed, step)


def result_of(completed: process.Completed, step: StepSpec) -> StepResult:
    """The step outcome a finished process means."""
    if completed.error is not None:
        return StepResult("failed", exit_code=127, message=completed.error, duration=completed.duration)
    if completed.cancelled:
        return StepResult("cancelled", exit_code=completed.exit_code, message="cancelled", duration=completed.duration)
    if completed.timed_out:
        return StepResult(
            "timed-out",
            exit_code=completed.exit_code,
            message=f"timed out after {step.timeout:g}s" if step.timeout else "timed out",
            duration=completed.duration,
        )
    code = completed.exit_code
    if code == 0:
        return StepResult("passed", exit_code=0, duration=completed.duration)
    reason = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return StepResult("failed", exit_code=code, message=reason, duration=completed.duration)
