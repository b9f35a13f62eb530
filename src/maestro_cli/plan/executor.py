"""Executing one attempt of one step: the part of a run that a queue of remote workers can replace.

The scheduler decides *what* runs and *when* (graph order, ``if:``, retries, services, fail-fast);
an :class:`AttemptExecutor` decides *where*. :class:`LocalExecutor` runs the adapter in the calling
thread on this machine; a distributed executor sends the :class:`AttemptRequest` to a queue and
blocks until a worker reports the :class:`~maestro_cli.adapters.base.StepResult` back.

An executor's ``execute`` is called from up to ``--jobs`` scheduler threads at once, blocks until
the attempt is over, must honour ``request.cancel`` (stop the attempt, return ``cancelled``) and
should never raise: a fault of its own is a ``failed`` result whose message says what broke.
"""

from __future__ import annotations

import io
import os
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import redaction

from ..adapters.base import StepContext, StepResult, StepSpec
from ..adapters.registry import Registry


@dataclass(repr=False, eq=False)  # only __init__ generated (see errors.Location)
class AttemptRequest:
    """Everything needed to run one attempt; plain data, so a queue can carry it."""

    step: StepSpec  # rendered: no templates left; ``env`` holds the plan's and the step's variables
    attempt: int  # 1 for the first run, 2 for the first retry, ...
    workdir: Path  # the step's working folder (the plan's folder unless it sets ``cwd:``)
    results_dir: Path  # the run's results folder
    log_path: Path  # the step's log; each attempt appends to it
    cancel: threading.Event = field(default_factory=threading.Event)


class AttemptExecutor(Protocol):
    def execute(self, request: AttemptRequest) -> StepResult:
        """Run one attempt to its end (passed, failed, timed-out or cancelled); never raise."""
        ...


class LocalExecutor:
    """Runs attempts in the calling thread, on this machine, through the installed adapters."""

    def __init__(self, registry: Registry, settings: Mapping[str, Any] | None = None) -> None:
        self.registry = registry
        self.settings = dict(settings or {})
        self._made: set[Path] = set()
        self._environ = dict(os.environ)  # copied once: os.environ decodes every value on each read

    def execute(self, request: AttemptRequest) -> StepResult:
        step = request.step
        started = time.monotonic()
        logs = request.log_path.parent
        self._make_dir(logs)
        # beside the log, and not created here: a step that writes no output costs no file
        output_file = logs / f".{step.id}.outputs-{request.attempt}"
        with ScrubbedLog(request.log_path) as log:
            log.write(f"--- maestro: {step.id}, attempt {request.attempt}, adapter {step.adapter}\n")
            context = StepContext(
                workdir=request.workdir,
                env=self._environment(request, output_file),
                results_dir=request.results_dir,
                attachments_dir=request.results_dir.joinpath("attachments", step.id),
                log=log,
                output_file=output_file,
                attempt=request.attempt,
                deadline=started + step.timeout if step.timeout else None,
                cancel=request.cancel,
                settings=self.settings,
            )
            try:
                result = self.registry.get(step.adapter).run(step, context)
            except Exception as exc:  # the adapter's own fault: the step fails, the run goes on
                log.write(traceback.format_exc())
                result = StepResult("failed", message=f"adapter '{step.adapter}' failed: {type(exc).__name__}: {exc}")
            if result.outcome == "failed" and request.cancel.is_set():
                result.outcome = "cancelled"
        outputs = read_outputs(output_file)
        if outputs is not None:
            output_file.unlink(missing_ok=True)
            result.outputs = {**outputs, **result.outputs}
        if not result.duration:
            result.duration = time.monotonic() - started
        return result

    def _make_dir(self, folder: Path) -> None:
        """mkdir once per folder and executor: a plan of 500 steps should not cost 500 system calls."""
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)

    def _environment(self, request: AttemptRequest, output_file: Path) -> dict[str, str]:
        return {
            **self._environ,
            **request.step.env,
            "MAESTRO_OUTPUT": str(output_file),
            "MAESTRO_STEP_ID": request.step.id,
            "MAESTRO_ATTEMPT": str(request.attempt),
            "MAESTRO_RESULTS_DIR": str(request.results_dir),
        }


class ScrubbedLog(io.TextIOBase):
    """A step's log, opened for appending: what is written to it is masked of secrets (whoever
    writes, an adapter or a process's output) and reaches the file at once.

    Unbuffered on purpose: every writer flushed after each write anyway (``tail -f`` follows a
    running step), and writing to the descriptor spares a text-mode open's three layers and six
    system calls, for each of a plan's steps.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)

    def write(self, text: str) -> int:
        data = redaction.scrub(text).encode("utf-8")
        while data:
            data = data[os.write(self._fd, data) :]
        return len(text)

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def read_outputs(path: Path) -> dict[str, str] | None:
    """``KEY=VALUE`` lines a step wrote to ``$MAESTRO_OUTPUT`` (later lines win); None: no file."""
    outputs: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            outputs[key.strip()] = value
    return outputs
