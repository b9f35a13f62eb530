"""Running a plan's graph: ready steps in parallel up to ``jobs``, in the order their needs allow.

The scheduler owns the *when*: ``if:`` conditions, skipping what depends on a failure,
``continue-on-error``, ``--fail-fast``, retries with backoff (every attempt recorded), services and
Ctrl-C. The *where* is an :class:`~maestro_cli.plan.executor.AttemptExecutor`: local threads now, a
queue of remote workers for the distributed runner.

Conditions see ``success()`` (every step this one needs, directly or not, passed or was allowed to
fail), ``failure()`` (one of them failed or timed out), ``cancelled()`` (the run is stopping) and
``always()``. When a run stops (fail-fast), steps that have not started are cancelled unless their
condition still holds, so ``if: always()`` clean-ups run; Ctrl-C starts nothing more.
"""

from __future__ import annotations

import collections
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..adapters.base import StepResult, StepSpec
from . import expressions, graph
from .executor import AttemptExecutor, AttemptRequest
from .model import Plan, Step
from .records import FAILING, AttemptRecord, RunReport, StepRun, now
from .services import ServiceError, Services

# Backoff between retries of a step: 1 s, then 2 s, 4 s ... up to 30 s, with a little jitter so
# that parallel retries against one flaky service do not arrive together.
# (resilience is imported only when a step retries: its email.utils import costs a no-op step's time)
RETRY_BACKOFF = 1.0
RETRY_BACKOFF_MAX = 30.0
RETRY_JITTER = 0.25

# (event, step run): "started", "retrying" and "finished", called from scheduler threads.
Listener = Callable[[str, StepRun], None]


@dataclass(repr=False, eq=False)  # only __init__ generated (see errors.Location)
class RunOptions:
    """How one run goes: jobs at once, the selected steps, where results go."""

    jobs: int
    selected: set[str]  # step ids to run; the others are recorded as skipped, "not selected"
    results_dir: Path
    run_id: str
    fail_fast: bool = False
    retry_backoff: float = RETRY_BACKOFF  # seconds before the first retry; doubles for each next one


class _AttemptFailed(Exception):
    def __init__(self, result: StepResult) -> None:
        super().__init__(result.message or result.outcome)
        self.result = result


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, a container stopped) cancels the run as Ctrl-C does.

    Steps and services run in sessions of their own, so a maestro killed outright would leave
    them running; Python's default SIGTERM action is exactly that.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Scheduler:
    def __init__(self, plan: Plan, executor: AttemptExecutor, options: RunOptions, listener: Listener | None = None) -> None:
        self.plan = plan
        self.executor = executor
        self.options = options
        self.listener = listener or (lambda event, run: None)
        self.runs = {step.id: StepRun(step, selected=step.id in options.selected) for step in plan.steps}
        self.ancestors = graph.ancestors({step.id: list(step.needs) for step in plan.steps})
        self.stopping = threading.Event()  # fail-fast or Ctrl-C: start no new step under success()
        self.interrupted = False
        self._cancels: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._base_context = plan.template_context()
        # readiness by counting: each finished step readies its dependents in O(their number)
        self._waiting = {step.id: len(set(step.needs)) for step in plan.steps}
        self._dependents: dict[str, list[str]] = {step.id: [] for step in plan.steps}
        for step in plan.steps:
            for need in set(step.needs):
                self._dependents[need].append(step.id)
        self._ready_queue = collections.deque(run for run in self.runs.values() if not run.step.needs)
        self._active = 0  # steps being taken by workers
        self._state = threading.Condition()
        users = {name: {s.id for s in plan.steps if name in s.services and s.id in options.selected} for name in plan.services}
        self.services = Services(plan.services, users, options.results_dir / "logs", self.stopping)

    def run(self) -> RunReport:
        (self.options.results_dir / "logs").mkdir(parents=True, exist_ok=True)
        report = RunReport(self.plan, self.options.run_id, self.options.results_dir, list(self.runs.values()), started=now())
        for run in self.runs.values():
            if not run.selected:
                run.result = StepResult("skipped", message="not selected")
                self._settle(run)
        workers = [threading.Thread(target=self._work, name=f"step-{n}") for n in range(max(self.options.jobs, 1))]
        for worker in workers:
            worker.start()
        try:
            with _terminate_as_interrupt():
                self._join(workers)
        except KeyboardInterrupt:
            self._interrupt(workers)
        finally:
            self.services.stop_all()
        report.interrupted = self.interrupted
        report.finished = now()
        return report

    # -- workers take ready steps themselves: no round trip through the main thread per step --------
    def _work(self) -> None:
        while True:
            with self._state:
                while not self._ready_queue and self._active:
                    self._state.wait()
                if not self._ready_queue:  # nothing ready and nothing running: the graph is done
                    self._state.notify_all()
                    return
                run = self._ready_queue.popleft()
                self._active += 1
            try:
                self._take(run)
            except Exception as exc:  # a bug must end this step, not the worker with the step unfinished
                if not run.done:
                    self._finish(run, StepResult("failed", message=f"internal error: {type(exc).__name__}: {exc}"))
            finally:
                with self._state:
                    self._active -= 1
                    self._state.notify_all()

    def _take(self, run: StepRun) -> None:
        if run.done:
            return
        if not self._should_run(run):
            self._finish(run, self._not_run(run))
            return
        run.started = now()
        self.listener("started", run)
        try:
            result = self._attempts(run)
        except Exception as exc:  # a bug must end this step, not hang the run
            result = StepResult("failed", message=f"internal error: {type(exc).__name__}: {exc}")
        self._finish(run, result)
        if self.options.fail_fast and run.fails_run:
            self._stop_all_running()

    def _settle(self, run: StepRun) -> None:
        """A step is done: the dependents whose needs are now all done become ready."""
        with self._state:
            for dependent in self._dependents[run.id]:
                self._waiting[dependent] -= 1
                if self._waiting[dependent] == 0:
                    self._ready_queue.append(self.runs[dependent])
            self._state.notify_all()

    @staticmethod
    def _join(workers: list[threading.Thread]) -> None:
        for worker in workers:
            while worker.is_alive():
                worker.join(timeout=0.5)  # a timeout keeps the main thread open to Ctrl-C

    def _should_run(self, run: StepRun) -> bool:
        if self.interrupted:
            return False
        functions = self._condition_functions(run)
        condition = run.step.condition
        if condition in expressions.STATUS_CONDITIONS:  # the common case needs no jinja
            return functions[condition[:-2]]()
        try:
            return expressions.evaluate(condition, {**self._template_context(run), **functions})
        except expressions.TemplateError as exc:
            run.result = StepResult("failed", message=f"if: {exc}")
            return False

    def _not_run(self, run: StepRun) -> StepResult:
        if run.result is not None:  # the condition itself failed to evaluate
            return run.result
        if self.interrupted:
            return StepResult("cancelled", message="cancelled: interrupted")
        if self.stopping.is_set():
            return StepResult("cancelled", message="cancelled: the run is stopping")
        failed = [a for a in self._needs_in_order(run) if not self.runs[a].ok_for_dependents]
        if failed:
            return StepResult("skipped", message=f"skipped: {failed[0]} {self.runs[failed[0]].outcome}")
        condition = run.step.condition
        return StepResult("skipped", message=f"skipped: if: {condition}" + ("" if condition == "false" else " was false"))

    def _needs_in_order(self, run: StepRun) -> list[str]:
        return [step.id for step in self.plan.steps if step.id in self.ancestors[run.id]]

    def _finish(self, run: StepRun, result: StepResult) -> None:
        run.result = result
        run.finished = now()
        if run.started is None:
            run.started = run.finished
        self.services.release(run.id)
        self._settle(run)
        self.listener("finished", run)

    # -- templates -------------------------------------------------------------------------------
    def _template_context(self, run: StepRun) -> dict[str, Any]:
        steps = {
            step_id: {"outcome": other.outcome, "outputs": dict(other.result.outputs) if other.result else {}}
            for step_id, other in self.runs.items()
            if other.done
        }
        return {**self._base_context, "matrix": run.step.matrix, "steps": steps}

    def _condition_functions(self, run: StepRun) -> dict[str, Callable[[], bool]]:
        needed = [self.runs[a] for a in self.ancestors[run.id]]
        stopping = self.stopping.is_set()
        return {
            "success": lambda: not stopping and all(n.ok_for_dependents for n in needed),
            "failure": lambda: any(n.outcome in FAILING and not n.ok_for_dependents for n in needed),
            "cancelled": lambda: stopping,
            "always": lambda: True,
        }

    def _spec(self, run: StepRun) -> StepSpec:
        step = run.step
        context: dict[str, Any] | None = None

        def rendered(value: Any) -> Any:
            nonlocal context
            if not expressions.has_deferred(value):
                return value
            context = context or self._template_context(run)
            return expressions.render_deferred(value, context)

        cwd = rendered(step.cwd)
        return StepSpec(
            id=step.id,
            adapter=step.adapter,
            options=rendered(step.options),
            run=rendered(step.run),
            env=rendered(step.env),
            cwd=self.plan.workdir / cwd if cwd else None,
            timeout=step.timeout,
        )

    # -- one step, in a worker thread ----------------------------------------------------------------
    def _attempts(self, run: StepRun) -> StepResult:
        step = run.step
        log_path = self.options.results_dir / run.log
        try:
            spec = self._spec(run)
        except expressions.TemplateError as exc:
            return self._record_failure(run, log_path, str(exc))
        if step.services:
            waiting_since = now()
            try:
                with open(log_path, "a", encoding="utf-8") as log:
                    self.services.acquire(step.services, log)
            except ServiceError as exc:
                if self.stopping.is_set():
                    return StepResult("cancelled", message=f"cancelled while starting services: {exc}")
                return self._record_failure(run, log_path, str(exc), started=waiting_since, logged=True)
        cancel = threading.Event()
        with self._lock:
            self._cancels[run.id] = cancel
            if self.interrupted or (self.stopping.is_set() and step.condition == "success()"):
                cancel.set()
        def attempt(number: int) -> StepResult:
            if cancel.is_set():  # stopped while waiting for a thread or a retry
                return StepResult("cancelled", message="cancelled before it started" if number == 1 else "cancelled before a retry")
            result = self._one_attempt(run, spec, number, log_path, cancel)
            if result.outcome in ("failed", "timed-out") and number <= step.retries and not cancel.is_set():
                raise _AttemptFailed(result)
            return result

        try:
            if not step.retries:
                return attempt(1)
            from .. import resilience

            policy = resilience.RetryPolicy(
                retries=step.retries, backoff=self.options.retry_backoff, backoff_max=RETRY_BACKOFF_MAX, jitter=RETRY_JITTER
            )
            retrying = resilience.attempts(policy, retry_on=(_AttemptFailed,), on_retry=lambda *_: self.listener("retrying", run), sleep=cancel.wait)
            for manager in retrying:
                with manager:
                    return attempt(manager.retry_state.attempt_number)
        except _AttemptFailed as exc:
            return exc.result
        finally:
            with self._lock:
                self._cancels.pop(run.id, None)
        raise AssertionError("unreachable: attempts() either returns or re-raises")  # pragma: no cover

    def _one_attempt(self, run: StepRun, spec: StepSpec, number: int, log_path: Path, cancel: threading.Event) -> StepResult:
        started = now()
        request = AttemptRequest(spec, number, spec.cwd or self.plan.workdir, self.options.results_dir, log_path, cancel)
        result = self.executor.execute(request)
        missing = [name for name in run.step.outputs if name not in result.outputs]
        if result.outcome == "passed" and missing:
            result.outcome = "failed"
            result.message = f"did not write output {', '.join(missing)} to $MAESTRO_OUTPUT"
        run.attempts.append(AttemptRecord(number, result.outcome, result.exit_code, started, result.duration, result.message))
        return result

    def _record_failure(self, run: StepRun, log_path: Path, message: str, *, started: datetime | None = None, logged: bool = False) -> StepResult:
        """A step that failed before its adapter ran: one attempt, from ``started`` (default: now)."""
        if not logged:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"maestro: {message}\n")
        began = started or now()
        duration = (now() - began).total_seconds()
        run.attempts.append(AttemptRecord(1, "failed", None, began, duration, message))
        return StepResult("failed", message=message, duration=duration)

    # -- stopping ----------------------------------------------------------------------------------
    def _stop_all_running(self) -> None:
        self.stopping.set()
        with self._lock:
            for cancel in self._cancels.values():
                cancel.set()

    def _interrupt(self, workers: list[threading.Thread]) -> None:
        """Ctrl-C: cancel what runs, wait for it to stop, record what never started as cancelled."""
        self.interrupted = True
        self._stop_all_running()
        while True:
            try:
                self._join(workers)
                break
            except KeyboardInterrupt:  # a second Ctrl-C: the groups are already being stopped
                continue
        for run in self.runs.values():
            if not run.done:
                run.result = StepResult("cancelled", message="cancelled: interrupted")
                run.finished = now()
                self.listener("finished", run)
