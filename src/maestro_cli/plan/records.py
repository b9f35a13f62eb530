"""What a run produced: each step's attempts and result, and the run as a whole.

These are what the scheduler returns, what ``results.py`` writes as results.json and what the
command renders; :meth:`RunReport.to_dict` is the results.json document ``maestro report`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..adapters.base import RESULTS_FORMAT, RESULTS_VERSION, StepResult
from .model import Plan, Step

# Outcomes that make a required step fail the run.
FAILING = ("failed", "timed-out", "cancelled")
OUTCOMES = ("passed", "failed", "timed-out", "cancelled", "skipped")


def now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


@dataclass(repr=False, eq=False)  # only __init__ generated (see errors.Location)
class AttemptRecord:
    """One attempt of a step, as results.json lists it."""

    attempt: int
    outcome: str
    exit_code: int | None
    started: datetime
    duration: float
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "started": timestamp(self.started),
            "duration": round(self.duration, 6),
            "message": self.message,
        }


@dataclass(repr=False, eq=False)  # only __init__ generated (see errors.Location)
class StepRun:
    """One step through the run: pending, then running, then a final result."""

    step: Step
    selected: bool = True
    result: StepResult | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def outcome(self) -> str:
        return self.result.outcome if self.result is not None else "pending"

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def log(self) -> str:
        return f"logs/{self.step.id}.log"

    @property
    def ok_for_dependents(self) -> bool:
        """Whether steps that need this one may run under the default ``success()``."""
        if not self.selected or self.outcome == "passed":
            return True
        return self.step.continue_on_error and self.outcome in FAILING

    @property
    def fails_run(self) -> bool:
        return self.selected and self.step.required and self.outcome in FAILING

    @property
    def final(self) -> StepResult:
        """The result, or a skipped one for a step the run never reached."""
        return self.result or StepResult("skipped", message="not run")

    def to_dict(self) -> dict[str, Any]:
        result = self.final
        return {
            "id": self.step.id,
            "name": self.step.name,
            "adapter": self.step.adapter,
            "required": self.step.required,
            "outcome": result.outcome,
            "attempts": [a.to_dict() for a in self.attempts],
            "log": self.log if self.attempts else None,
            "started": timestamp(self.started),
            "finished": timestamp(self.finished),
            "needs": list(self.step.needs),
            "matrix": dict(self.step.matrix),
            "tags": list(self.step.tags),
            **result.to_dict(),
        }


@dataclass(repr=False, eq=False)  # only __init__ generated (see errors.Location)
class RunReport:
    """A whole run: every step's record, when it started and finished, whether it was interrupted."""

    plan: Plan
    run_id: str
    results_dir: Path
    steps: list[StepRun]
    started: datetime
    finished: datetime | None = None
    interrupted: bool = False

    @property
    def outcome(self) -> str:
        if self.interrupted:
            return "interrupted"
        return "failed" if any(run.fails_run for run in self.steps) else "passed"

    def counts(self) -> dict[str, int]:
        """How many selected steps ended with each outcome, in the order of :data:`OUTCOMES`."""
        outcomes = [run.outcome for run in self.steps if run.selected]
        return {outcome: outcomes.count(outcome) for outcome in OUTCOMES if outcome in outcomes}

    def to_dict(self) -> dict[str, Any]:
        """The results.json document (format ``maestro-results``, version 1)."""
        return {**self.head_dict(), "steps": [run.to_dict() for run in self.steps]}

    def head_dict(self) -> dict[str, Any]:
        """The results.json document's own keys, its steps left out."""
        return {
            "format": RESULTS_FORMAT,
            "version": RESULTS_VERSION,
            "plan": self.plan.name,
            "plan_file": self.plan.file,
            "run_id": self.run_id,
            "started": timestamp(self.started),
            "finished": timestamp(self.finished),
            "outcome": self.outcome,
            "counts": self.counts(),
        }
