"""The adapter contract: what a step gives an adapter, and what the adapter gives back.

An adapter is any object with a ``name``, a JSON Schema for its ``with:`` options and a ``run``
method. It is registered in the ``maestro.adapters`` entry-point group, for example::

    [project.entry-points."maestro.adapters"]
    k6 = "maestro_k6:K6Adapter"

The entry point names a class (instantiated without arguments) or an instance. ``run`` must not
raise for a failing test: a failure is a :class:`StepResult` with ``outcome="failed"``. It raises
only for the adapter's own faults (which the runner reports as an error of the step).

``StepResult.to_dict()`` is the shape of one step in a run's ``results.json`` (see
:data:`RESULTS_FORMAT`), which ``maestro report`` reads.

An adapter whose ``check`` looks at nothing but the step (not the file system, not what is
installed beyond the adapter's own distribution) may say so with a class attribute
``CHECK_READS_ONLY_THE_STEP = True``: a plan whose steps all use such adapters is kept checked
between runs (:mod:`maestro_cli.plan.plan_cache`); any other plan is checked at every start.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO, runtime_checkable

RESULTS_FORMAT = "maestro-results"
RESULTS_VERSION = 1

StepOutcome = Literal["passed", "failed", "timed-out", "cancelled", "skipped"]
CaseOutcome = Literal["passed", "failed", "error", "skipped", "flaky"]


@dataclass
class Attachment:
    """A file a step produced for people to look at, relative to the run's results folder."""

    path: str
    kind: str = "file"  # screenshot, trace, video, log, file
    content_type: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TestCase:
    """One test inside a step (a pytest test, a browser test), as JUnit would record it."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    classname: str = ""
    outcome: CaseOutcome = "passed"
    time: float = 0.0
    message: str | None = None
    details: str | None = None
    file: str | None = None
    line: int | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["attachments"] = [a.to_dict() for a in self.attachments]
        return data


@dataclass
class StepResult:
    """How one attempt of a step ended, as the adapter reports it."""

    outcome: StepOutcome
    exit_code: int | None = None
    message: str | None = None  # one line: why it failed, for the summary
    duration: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    cases: list[TestCase] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "message": self.message,
            "duration": round(self.duration, 6),
            "outputs": dict(self.outputs),
            "cases": [c.to_dict() for c in self.cases],
            "attachments": [a.to_dict() for a in self.attachments],
        }


@dataclass
class StepSpec:
    """One step as the adapter sees it, after matrix expansion and templating."""

    id: str
    adapter: str
    options: dict[str, Any] = field(default_factory=dict)  # the step's `with:` (and `run:` for shell)
    run: str | list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    timeout: float | None = None


@dataclass
class StepContext:
    """What the runner gives an adapter for one attempt of one step."""

    workdir: Path  # the plan's folder, or the step's `cwd`
    env: Mapping[str, str]  # the full environment for processes the step starts
    results_dir: Path  # the run's results folder; attachments go under attachments_dir
    # results_dir / "attachments" / <step id>; the adapter creates it when it writes there
    # (mkdir(parents=True, exist_ok=True)): most steps attach nothing, and a run of 500 steps
    # should not make 500 empty folders
    attachments_dir: Path
    log: TextIO  # the step's log file, opened for appending text
    output_file: Path  # $MAESTRO_OUTPUT: KEY=VALUE lines become the step's outputs
    attempt: int = 1
    deadline: float | None = None  # time.monotonic() value after which the step has timed out
    cancel: threading.Event = field(default_factory=threading.Event)
    settings: Mapping[str, Any] = field(default_factory=dict)  # maestro configuration values


@runtime_checkable
class Adapter(Protocol):
    name: str
    description: str
    # JSON Schema (draft 2020-12) of the step's `with:` mapping; the plan loader validates
    # options against it and reports each problem with file:line:col.
    options_schema: Mapping[str, Any]

    def check(self, step: StepSpec) -> list[str]:
        """Problems the schema cannot express (e.g. a missing extra); one message each."""
        ...

    def run(self, step: StepSpec, context: StepContext) -> StepResult: ...
