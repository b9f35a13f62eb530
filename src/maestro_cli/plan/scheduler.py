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

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import resilience
from ..adapters.base import StepResult, StepSpec
from . import expressions, graph
from .executor import AttemptExecutor, AttemptRequest
from .model import Plan, Step
from .records import FAILING, AttemptRecord, RunReport, StepRun, now
from .services import ServiceError, Services

# Backoff between retries of a step: 1 s, then 2 s, 4 s ... up to 30 s, with a little jitter so
# that parallel retries against one flaky service do not arrive together.
RETRY_POLICY = resilience.RetryPolicy(retries=0, backoff=1.0, backoff_max=30.0, jitter=0.25)

# (event, step run): "started", "retrying" and "finished", called from scheduler threads.
Listener = Callable[[str, StepRun], None]


@dataclass
class RunOptions:
    jobs: int
    selected: set[str]  # step ids to run; the others are recorded as skipped, "not selected"
    results_dir: Path
    run_id: str
    fail_fast: bool = False
    retry_policy: resilience.RetryPolicy = RETRY_POLICY


class _AttemptFailed(Exception):
    def __init__(self, result: StepResult) -> None:
        super().__init__(result.message or result.outcome)
        self.result = result


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
        users = {name: {s.id for s in plan.steps if name in s.services and s.id in options.selected} for name in plan.services}
        self.services = Services(plan.services, users, options.results_dir / "logs", self.stopping)

    def run(self) -> RunReport:
        report = RunReport(self.plan, self.options.run_id, self.options.results_dir, list(self.runs.values()), started=now())
        for run in self.runs.values():
            if not run.selected:
                run.result = StepResult("skipped", message="not selected")
        pool = ThreadPoolExecutor(max_workers=max(self.options.jobs, 1), thread_name_prefix="step")
        running: dict[Future[None], StepRun] = {}
        try:
            self._loop(pool, running)
        except KeyboardInterrupt:
            self._interrupt(running)
        finally:
            pool.shutdown(wait=False)
            self.services.stop_all()
        report.interrupted = self.interrupted
        report.finished = now()
        return report

    # -- the main loop: decide, submit, wait ---------------------------------------------------
    def _loop(self, pool: ThreadPoolExecutor, running: dict[Future[None], StepRun]) -> None:
        while True:
            ready = self._ready(running)
            while ready:  # a step not run finishes at once, and may make its dependents ready
                for run in ready:
                    if self._should_run(run):
                        run.started = now()
                        self.listener("started", run)
                        running[pool.submit(self._execute, run)] = run
                    else:
                        self._finish(run, self._not_run(run))
                ready = self._ready(running)
            if not running:
                return
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                run = running.pop(future)
                future.result()  # _execute never raises; re-raise a scheduler bug here
                if self.options.fail_fast and run.fails_run:
                    self._stop_all_running()

    def _ready(self, running: dict[Future[None], StepRun]) -> list[StepRun]:
        active = {run.id for run in running.values()}
        return [
            run
            for run in self.runs.values()
            if not run.done and run.id not in active and all(self.runs[need].done for need in run.step.needs)
        ]

    def _should_run(self, run: StepRun) -> bool:
        if self.interrupted:
            return False
        try:
            return expressions.evaluate(run.step.condition, self._condition_context(run))
        except expressions.TemplateError as exc:
            run.result = StepResult("failed", message=f"if: {exc}")
            return False

    def _not_run(self, run: StepRun) -> StepResult:
        if run.result is not None:  # the condition itself failed to evaluate
            return run.result
        if self.stopping.is_set():
            return StepResult("cancelled", message="cancelled: the run is stopping")
        failed = [a for a in self._needs_in_order(run) if not self.runs[a].ok_for_dependents]
        if failed:
            return StepResult("skipped", message=f"skipped: {failed[0]} {self.runs[failed[0]].outcome}")
        return StepResult("skipped", message=f"skipped: if {run.step.condition} is false")

    def _needs_in_order(self, run: StepRun) -> list[str]:
        return [step.id for step in self.plan.steps if step.id in self.ancestors[run.id]]

    def _finish(self, run: StepRun, result: StepResult) -> None:
        run.result = result
        run.finished = now()
        if run.started is None:
            run.started = run.finished
        self.services.release(run.id)
        self.listener("finished", run)

    # -- templates -------------------------------------------------------------------------------
    def _template_context(self, run: StepRun) -> dict[str, Any]:
        steps = {
            step_id: {"outcome": other.outcome, "outputs": dict(other.result.outputs) if other.result else {}}
            for step_id, other in self.runs.items()
            if other.done
        }
        return {**self.plan.template_context(), "matrix": run.step.matrix, "steps": steps}

    def _condition_context(self, run: StepRun) -> dict[str, Any]:
        needed = [self.runs[a] for a in self.ancestors[run.id]]
        stopping = self.stopping.is_set()
        return {
            **self._template_context(run),
            "success": lambda: not stopping and all(n.ok_for_dependents for n in needed),
            "failure": lambda: any(n.outcome in FAILING and not n.ok_for_dependents for n in needed),
            "cancelled": lambda: stopping,
            "always": lambda: True,
        }

    def _spec(self, run: StepRun) -> StepSpec:
        step = run.step
        context = self._template_context(run)

        def rendered(value: Any) -> Any:
            return expressions.render_value(value, context, only_deferred=True)

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

    # -- one step, in a pool thread ----------------------------------------------------------------
    def _execute(self, run: StepRun) -> None:
        try:
            result = self._attempts(run)
        except Exception as exc:  # a bug must end this step, not hang the run
            result = StepResult("failed", message=f"internal error: {type(exc).__name__}: {exc}")
        self._finish(run, result)

    def _attempts(self, run: StepRun) -> StepResult:
        step = run.step
        log_path = self.options.results_dir / run.log
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            spec = self._spec(run)
        except expressions.TemplateError as exc:
            return self._record_failure(run, log_path, str(exc))
        try:
            with open(log_path, "a", encoding="utf-8") as log:
                self.services.acquire(step.services, log)
        except ServiceError as exc:
            return self._record_failure(run, log_path, str(exc))
        cancel = threading.Event()
        with self._lock:
            self._cancels[run.id] = cancel
            if self.interrupted or (self.stopping.is_set() and step.condition == "success()"):
                cancel.set()
        policy = resilience.RetryPolicy(
            retries=step.retries,
            backoff=self.options.retry_policy.backoff,
            backoff_max=self.options.retry_policy.backoff_max,
            jitter=self.options.retry_policy.jitter,
        )
        try:
            for attempt in resilience.attempts(policy, retry_on=(_AttemptFailed,), on_retry=lambda *_: self.listener("retrying", run), sleep=cancel.wait):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if cancel.is_set():  # stopped while waiting for a thread or a retry
                        return StepResult("cancelled", message="cancelled before it started" if number == 1 else "cancelled before a retry")
                    result = self._one_attempt(run, spec, number, log_path, cancel)
                    if result.outcome in ("failed", "timed-out") and not cancel.is_set():
                        raise _AttemptFailed(result)
                    return result
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

    def _record_failure(self, run: StepRun, log_path: Path, message: str) -> StepResult:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"maestro: {message}\n")
        result = StepResult("failed", message=message)
        run.attempts.append(AttemptRecord(1, "failed", None, now(), 0.0, message))
        return result

    # -- stopping ----------------------------------------------------------------------------------
    def _stop_all_running(self) -> None:
        self.stopping.set()
        with self._lock:
            for cancel in self._cancels.values():
                cancel.set()

    def _interrupt(self, running: dict[Future[None], StepRun]) -> None:
        """Ctrl-C: cancel what runs, wait for it to stop, record what never started as cancelled."""
        self.interrupted = True
        self._stop_all_running()
        while running:
            try:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:  # a second Ctrl-C: the groups are already being stopped
                continue
            for future in finished:
                running.pop(future)
        for run in self.runs.values():
            if not run.done:
                run.result = StepResult("cancelled", message="cancelled: interrupted")
                run.finished = now()
                self.listener("finished", run)
