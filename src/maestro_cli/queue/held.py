"""A job a worker holds: where it came from, why it was stopped, and its log as far as it was sent.

:func:`run_in_scratch` runs it exactly as a local run runs an attempt (the same
:class:`~maestro_cli.plan.executor.LocalExecutor`), in a scratch folder that holds the step's log
and results folder until they have been sent back.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from pathlib import Path

from ..adapters.base import Adapter, StepContext, StepResult, StepSpec
from ..adapters.registry import Registry
from ..plan.executor import AttemptExecutor
from .jobs import Job, pack_files

# Log chunks larger than this are split, so that one chatty step cannot make a huge stream entry.
LOG_CHUNK_BYTES = 64 * 1024


@dataclass
class HeldJob:
    stream: str
    message_id: str
    fields: dict[str, str]
    job: Job | None = None  # None until its signature and format were checked
    log_path: Path | None = None
    log_sent: int = 0
    log_lock: threading.Lock = field(default_factory=threading.Lock)
    cancel: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None  # why ``cancel`` was set: interrupted, taken over, cancelled
    files: dict[str, str] = field(default_factory=dict)  # what the step left in its results folder
    last_log: str = ""  # the end of the log, sent with the result
    last_heartbeat: float = 0.0

    def stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason
        self.cancel.set()

    def unsent_log(self) -> str:
        """What the step wrote to its log since the last call; the tick and the job's end share it."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_lock:
            with self.log_path.open("rb") as stream:
                stream.seek(self.log_sent)
                data = stream.read()
            self.log_sent += len(data)
        return data.decode("utf-8", errors="replace")


def run_in_scratch(executor: AttemptExecutor, held: HeldJob, *, on_long_log: Callable[[str], None]) -> tuple[StepResult, list[str]]:
    """Run the held job; its results files and the end of its log are kept on ``held``.

    The end of the log travels with the result (one message less per attempt) unless it is longer
    than a chunk, which ``on_long_log`` sends first. Returns the result and the files left out
    for size.
    """
    assert held.job is not None
    request = held.job.request
    with tempfile.TemporaryDirectory(prefix="maestro-job-") as scratch:
        held.log_path = Path(scratch) / "step.log"
        request = replace(
            request,
            workdir=request.workdir if request.workdir.is_dir() else Path.cwd(),  # no shared checkout: run here
            results_dir=Path(scratch) / "results",
            log_path=held.log_path,
            cancel=held.cancel,
        )
        result = executor.execute(request)
        rest = held.unsent_log()
        if len(rest) > LOG_CHUNK_BYTES:
            on_long_log(rest)
            rest = ""
        held.last_log = rest
        held.files, left_out = pack_files(request.results_dir)
    return result, left_out


class _CrashReporting:
    """An adapter whose own faults (exceptions, not failing tests) are also reported elsewhere."""

    def __init__(self, adapter: Adapter, report: Callable[[str], None]) -> None:
        self._adapter = adapter
        self._report = report
        self.name = adapter.name
        self.description = adapter.description
        self.options_schema: Any = adapter.options_schema

    def check(self, step: StepSpec) -> list[str]:
        return self._adapter.check(step)

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        try:
            return self._adapter.run(step, context)
        except Exception as exc:  # the executor turns it into a failed step, as in a local run
            self._report(f"adapter '{step.adapter}' crashed on {step.id}: {type(exc).__name__}: {exc}")
            raise


def reporting_crashes(registry: Registry, report: Callable[[str], None]) -> Registry:
    """The same adapters, each reporting its own crashes through ``report`` before the executor sees them."""
    wrapped = {name: replace(info, adapter=_CrashReporting(info.adapter, report)) for name, info in registry.adapters.items()}
    return Registry(adapters=wrapped, problems=list(registry.problems))
