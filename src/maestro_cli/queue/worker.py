"""`maestro worker`'s core: take jobs from the queue, run them with the local adapters, report back.

At-least-once delivery, built on the consumer group's pending-entries list:

- a job is read with XREADGROUP and stays pending until its result is stored (XADD to the run's
  results stream and the run hash marked ``done`` in one MULTI); only then is it XACKed;
- while a job runs, every tick re-claims it for this worker (resetting its idle time, JUSTID, so
  its delivery count is untouched) and streams the new part of its log, plus a heartbeat;
- a worker that dies stops re-claiming, so after ``claim_idle`` seconds another worker takes the job
  over with XAUTOCLAIM and runs it again; the coordinator counts each (run, step, attempt) once;
- a worker that stops cleanly (Ctrl-C, SIGTERM) hands unfinished jobs back at once (XADD the same
  signed fields again, XACK the old entry) instead of making them wait for ``claim_idle``; so do
  jobs a read brought beyond the free slots (COUNT applies to each stream read).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .. import events, redaction
from ..adapters.base import StepResult
from ..adapters.registry import Registry
from ..errors import RemoteError, UsageError
from ..plan.executor import LocalExecutor
from . import GROUP, MAX_WORKER_TAGS, attempt_field, run_key, streams_for_worker, worker_key
from .connection import BLOCK_SECONDS, QueueURL, connect, connection_errors, lost_queue, talking_to
from .held import LOG_CHUNK_BYTES, HeldJob, reporting_crashes, run_in_scratch
from .jobs import MAX_FILES_BYTES, Job, RefusedMessage, claimed_identity, unseal
from .streams import ACK_IF_OWNED, RENEW_IF_OWNED, create_group, hand_back, post_error, post_report, store_result

if TYPE_CHECKING:
    import redis

# A job delivered this many times has killed (or outlived) that many workers: it is reported and
# dropped instead of taking down the next one.
MAX_DELIVERIES = 5
# How often a running job's ownership is renewed and its new log lines sent; well under any
# sensible --claim-idle, so that a live worker's jobs are never taken over.
TICK_SECONDS = 0.5
# A heartbeat message every few ticks is enough for a coordinator to show who runs what.
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class WorkerOptions:
    queue: QueueURL
    name: str
    concurrency: int = 1
    tags: tuple[str, ...] = ()
    claim_idle: float = 60.0
    max_jobs: int | None = None
    exit_when_idle: float | None = None
    secret: str | None = None

    def check(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, not {self.concurrency}")
        if self.claim_idle <= 2 * TICK_SECONDS:
            raise UsageError(f"--claim-idle must be more than {2 * TICK_SECONDS:g} seconds, not {self.claim_idle:g}")
        if self.max_jobs is not None and self.max_jobs < 1:
            raise UsageError(f"--max-jobs must be at least 1, not {self.max_jobs}")
        if self.exit_when_idle is not None and self.exit_when_idle < 0:
            raise UsageError(f"--exit-when-idle must not be negative, not {self.exit_when_idle:g}")
        if len(set(self.tags)) > MAX_WORKER_TAGS:
            raise UsageError(f"a worker takes at most {MAX_WORKER_TAGS} tags, not {len(set(self.tags))}")
        bad = [tag for tag in self.tags if not tag or "," in tag or ":" in tag]
        if bad:
            raise UsageError(f"invalid tag {bad[0]!r}: tags are names without ',' or ':'")


@dataclass
class WorkerSummary:
    name: str
    streams: list[str]
    ran: int = 0  # jobs run to a stored result
    passed: int = 0
    failed: int = 0  # results other than passed: failed, timed out, cancelled
    reclaimed: int = 0  # jobs taken over from a worker that stopped renewing them
    refused: int = 0  # unsigned, altered or malformed jobs
    skipped: int = 0  # jobs of finished runs, cancelled attempts, attempts already done
    handed_back: int = 0  # unfinished jobs returned to the queue when this worker stopped
    stopped: str = ""  # max-jobs, idle, interrupted or lost the queue

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Worker:
    """One worker process: a reading loop, ``concurrency`` job threads and one ticking thread."""

    def __init__(
        self,
        options: WorkerOptions,
        registry: Registry,
        *,
        settings: Mapping[str, Any] | None = None,
        on_event: Callable[[str], None] = lambda message: None,
    ) -> None:
        options.check()
        self.options = options
        self.registry = registry
        self._held_here = threading.local()  # the job this pool thread runs, for crash reports
        # the same attempt as a local run's, with the adapters' own crashes also on the errors stream
        self.executor = LocalExecutor(reporting_crashes(registry, self._report_crash), settings)
        self.on_event = on_event
        self.streams = streams_for_worker(options.tags)
        self.summary = WorkerSummary(name=options.name, streams=self.streams)
        self.client: redis.Redis = connect(options.queue)
        self._renew = self.client.register_script(RENEW_IF_OWNED)
        self._ack = self.client.register_script(ACK_IF_OWNED)
        self._lock = threading.Lock()
        self._running: dict[str, HeldJob] = {}  # by message id
        self._slot_freed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._taken = 0  # jobs started, for --max-jobs
        self._fatal: BaseException | None = None
        self._announced = 0.0  # monotonic time of the last heartbeat

    # -- the loop ------------------------------------------------------------------------------
    def serve(self) -> WorkerSummary:
        """Take jobs until --max-jobs, --exit-when-idle or Ctrl-C (SIGTERM); the summary says which."""
        with talking_to(self.options.queue):
            for stream in self.streams:
                create_group(self.client, stream)
            self._announce()
        ticker = threading.Thread(target=self._tick_forever, name="maestro-worker-tick", daemon=True)
        ticker.start()
        pool = ThreadPoolExecutor(self.options.concurrency, thread_name_prefix="maestro-job")
        try:
            self._loop(pool)
        except KeyboardInterrupt:
            self.summary.stopped = "interrupted"
            self._stop_running("interrupted")
        except RemoteError as exc:
            self._fatal = self._fatal or exc
        finally:
            if self._fatal is not None:
                self.summary.stopped = "lost the queue"
                self._stop_running("lost the queue")  # nothing can be reported; Redis keeps them pending
            self._stopping.set()
            pool.shutdown(wait=True)
            ticker.join()
            self._forget_consumer_if_idle()
        details = {key: value for key, value in self.summary.to_dict().items() if key != "name"}
        events.emit("worker.stopped", outcome=self.summary.stopped, worker=self.options.name, **details)
        if self._fatal is not None:
            raise self._fatal
        return self.summary

    def _count(self, *counters: str) -> None:
        """Job threads finish at the same time: the summary's counters change under the lock."""
        with self._lock:
            for counter in counters:
                setattr(self.summary, counter, getattr(self.summary, counter) + 1)

    def _stop_running(self, reason: str) -> None:
        with self._lock:
            for held in self._running.values():
                held.stop(reason)

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        last_busy = time.monotonic()
        next_reclaim = 0.0
        while self._fatal is None:
            free = self._free_slots()
            if free is None:
                self.summary.stopped = "max-jobs"
                return
            if free == 0:
                with self._slot_freed:
                    self._slot_freed.wait(BLOCK_SECONDS)
                last_busy = time.monotonic()
                continue
            held: list[HeldJob] = []
            now = time.monotonic()
            try:
                if now >= next_reclaim:
                    held = self._reclaim(free)
                    next_reclaim = now + self.options.claim_idle / 2
                if not held:
                    held = self._read(free)
            except connection_errors() as exc:
                raise lost_queue(self.options.queue, exc) from None
            for job in held:
                self._start(pool, job)
            with self._lock:
                busy = bool(self._running)
            if held or busy:
                last_busy = time.monotonic()
            elif self.options.exit_when_idle is not None and time.monotonic() - last_busy >= self.options.exit_when_idle:
                self.summary.stopped = "idle"
                return

    def _free_slots(self) -> int | None:
        """How many more jobs to take now; None once --max-jobs were taken and have finished."""
        with self._lock:
            running = len(self._running)
            left = None if self.options.max_jobs is None else self.options.max_jobs - self._taken
        if left is not None and left <= 0:
            if running:
                return 0
            return None
        free = self.options.concurrency - running
        return free if left is None else min(free, left)

    def _read(self, count: int) -> list[HeldJob]:
        reply = self.client.xreadgroup(
            GROUP,
            self.options.name,
            dict.fromkeys(self.streams, ">"),
            count=count,
            block=int(BLOCK_SECONDS * 1000),
        )
        held = [HeldJob(stream, message_id, fields) for stream, messages in reply or [] for message_id, fields in messages]
        # COUNT applies to each stream: what the free slots cannot take goes back for other workers
        self._hand_back(held[count:])
        return held[:count]

    def _reclaim(self, count: int) -> list[HeldJob]:
        """Jobs other workers stopped renewing for longer than --claim-idle, now this worker's."""
        held: list[HeldJob] = []
        idle_ms = int(self.options.claim_idle * 1000)
        for stream in self.streams:
            if len(held) >= count:
                break
            _next, messages, _deleted = self.client.xautoclaim(
                stream, GROUP, self.options.name, idle_ms, start_id="0-0", count=count - len(held)
            )
            for message_id, fields in messages:
                reclaimed = HeldJob(stream, message_id, fields)
                if self._delivered_too_often(reclaimed):
                    continue
                self._count("reclaimed")
                held.append(reclaimed)
        return held

    def _delivered_too_often(self, held: HeldJob) -> bool:
        pending = self.client.xpending_range(held.stream, GROUP, min=held.message_id, max=held.message_id, count=1)
        deliveries = pending[0]["times_delivered"] if pending else 0
        if deliveries <= MAX_DELIVERIES:
            return False
        self._report_error(held, f"dropped after {deliveries} deliveries: every worker that took it stopped")
        self.client.xack(held.stream, GROUP, held.message_id)
        return True

    def _start(self, pool: ThreadPoolExecutor, held: HeldJob) -> None:
        with self._lock:
            self._running[held.message_id] = held
            self._taken += 1
        pool.submit(self._handle_guarded, held)

    # -- one job -------------------------------------------------------------------------------
    def _handle_guarded(self, held: HeldJob) -> None:
        try:
            with talking_to(self.options.queue):
                self._handle(held)
        except RemoteError as exc:
            self._fatal = self._fatal or exc
        except Exception as exc:  # a bug of the worker's own: recorded, and the worker stops on it
            self._fatal = self._fatal or exc
            try:
                self._report_error(held, f"worker crashed: {type(exc).__name__}: {exc}")
            except connection_errors():
                pass
        finally:
            with self._slot_freed:
                self._running.pop(held.message_id, None)
                self._slot_freed.notify_all()

    def _handle(self, held: HeldJob) -> None:
        try:
            job = Job.from_document(unseal(held.fields, self.options.secret))
        except RefusedMessage as exc:
            self._count("refused")
            self._report_error(held, f"refused job: {exc}", refused=True)
            events.emit("worker.job-refused", outcome="refused", stream=held.stream, message_id=held.message_id, reason=str(exc))
            self.on_event(f"refused message {held.message_id}: {exc}")
            self.client.xack(held.stream, GROUP, held.message_id)
            return
        held.job = job
        for value in job.mask:
            redaction.register(value)
        # the start goes out with the check, in one round trip: a coordinator ignores a start it no
        # longer waits for (a finished run, a cancelled or already reported attempt)
        reason = self._reason_to_skip(job, started=self._message(job, held, "started"))
        if reason:
            self._count("skipped")
            self.on_event(f"skipped {job.label}: {reason}")
            self._ack_if_owned(held)
            return
        self.on_event(f"running {job.label}")
        result = self._execute(job, held)
        if held.stop_reason == "interrupted":
            self._hand_back([held])  # another worker runs it from the start, without waiting
            return
        if held.stop_reason in ("taken over", "lost the queue"):
            self.on_event(f"gave up {job.label}: {held.stop_reason}")
            return
        self._store(job, held, result)
        self._count("ran", "passed" if result.passed else "failed")
        self.on_event(f"finished {job.label}: {result.outcome} in {result.duration:.2f}s")

    def _reason_to_skip(self, job: Job, *, started: Mapping[str, Any] | None = None) -> str | None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(
            run_key(job.run_id),
            ["state", attempt_field("done", job.step.id, job.attempt), attempt_field("cancel", job.step.id, job.attempt)],
        )
        if started is not None:
            post_report(pipe, started, self.options.secret)
        state, done, cancelled = pipe.execute()[0]
        if state is None:
            return "the run is unknown or expired"
        if state != "running":
            return f"the run is {state}"
        if done:
            return "this attempt already has a result"
        if cancelled:
            return "the coordinator cancelled this attempt"
        return None

    def _execute(self, job: Job, held: HeldJob) -> StepResult:
        """Run the job as a local run would, in a scratch folder that holds its log and results."""
        if job.step.adapter not in self.registry.adapters:
            message = f"adapter '{job.step.adapter}' is not installed on worker {self.options.name}"
            self._report_error(held, message)
            return StepResult("failed", message=message)
        self._held_here.held = held
        result, left_out = run_in_scratch(self.executor, held, on_long_log=lambda text: self._post_log(held, text))
        if left_out:
            self._report_error(held, f"files over {MAX_FILES_BYTES // 2**20} MiB left on worker {self.options.name}: {', '.join(left_out)}")
        return result

    def _report_crash(self, message: str) -> None:
        self._report_error(self._held_here.held, message)

    def _store(self, job: Job, held: HeldJob, result: StepResult) -> None:
        """The result first (with the run's done mark, atomically), the acknowledgement after."""
        store_result(self.client, self._message(job, held, "result", result=result.to_dict(), files=held.files, log=held.last_log), self.options.secret)
        self._ack_if_owned(held)

    def _ack_if_owned(self, held: HeldJob) -> None:
        self._ack(keys=[held.stream], args=[GROUP, self.options.name, held.message_id])

    def _renew_claim(self, held: HeldJob) -> bool:
        """Reset the job's idle time if this worker still owns it; False when another took it over."""
        return bool(self._renew(keys=[held.stream], args=[GROUP, self.options.name, held.message_id]))

    # -- reporting -----------------------------------------------------------------------------
    def _message(self, job: Job, held: HeldJob, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "run_id": job.run_id,
            "step_id": job.step.id,
            "attempt": job.attempt,
            "worker": self.options.name,
            "delivery": held.message_id,
            "time": time.time(),
            **extra,
        }

    def _report(self, job: Job, held: HeldJob, kind: str, **extra: Any) -> None:
        post_report(self.client, self._message(job, held, kind, **extra), self.options.secret)

    def _report_error(self, held: HeldJob, message: str, *, refused: bool = False) -> None:
        """The worker's own trouble, naming the run, step and attempt the job claims to be."""
        entry = {
            "kind": "refused" if refused else "error",
            "worker": self.options.name,
            "stream": held.stream,
            "delivery": held.message_id,
            "message": message,
            "time": time.time(),
            **claimed_identity(held.fields),
        }
        post_error(self.client, entry, self.options.secret)

    # -- ticking: renew claims, stream logs, heartbeats, cancellations ---------------------------
    def _tick_forever(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            try:
                self._tick()
            except connection_errors() as exc:  # the client already retried: Redis is gone
                self._fatal = self._fatal or lost_queue(self.options.queue, exc)
                return

    def _tick(self) -> None:
        with self._lock:
            held_jobs = [held for held in self._running.values() if held.job is not None]
        now = time.monotonic()
        if now - self._announced >= HEARTBEAT_SECONDS:
            self._announce()
        for held in held_jobs:
            job = held.job
            assert job is not None
            if not self._renew_claim(held):
                held.stop("taken over")  # it runs on the worker that took it now
                continue
            self._send_log(held)
            if now - held.last_heartbeat >= HEARTBEAT_SECONDS:
                held.last_heartbeat = now
                self._report(job, held, "heartbeat")
            if self._reason_to_skip(job) not in (None, "this attempt already has a result"):
                held.stop("cancelled")

    def _send_log(self, held: HeldJob) -> None:
        self._post_log(held, held.unsent_log())

    def _post_log(self, held: HeldJob, text: str) -> None:
        assert held.job is not None
        for start in range(0, len(text), LOG_CHUNK_BYTES):
            self._report(held.job, held, "log", text=text[start : start + LOG_CHUNK_BYTES])

    # -- stopping ------------------------------------------------------------------------------
    def _hand_back(self, held_jobs: list[HeldJob]) -> None:
        for held in held_jobs:
            hand_back(self.client, held.stream, held.message_id, held.fields)
            self._count("handed_back")

    def _announce(self) -> None:
        """The worker's heartbeat: a key that lives three beats, so a dead worker's soon goes."""
        with self._lock:
            running = len(self._running)
        presence = {"tags": list(self.options.tags), "concurrency": self.options.concurrency, "running": running, "time": time.time()}
        self.client.set(worker_key(self.options.name), json.dumps(presence), ex=int(3 * HEARTBEAT_SECONDS))
        self._announced = time.monotonic()

    def _forget_consumer_if_idle(self) -> None:
        """Remove this worker from the groups; only where it holds nothing (that would lose jobs)."""
        try:
            self.client.delete(worker_key(self.options.name))
            for stream in self.streams:
                mine = [c for c in self.client.xinfo_consumers(stream, GROUP) if c["name"] == self.options.name]
                if mine and mine[0]["pending"] == 0:
                    self.client.xgroup_delconsumer(stream, GROUP, self.options.name)
        except connection_errors():
            pass  # Redis is gone: there is nothing to tidy up


def serve(
    options: WorkerOptions,
    *,
    settings: Mapping[str, Any] | None = None,
    on_event: Callable[[str], None] = lambda message: None,
) -> WorkerSummary:
    """`maestro worker`: serve the queue with the installed adapters until told to stop."""
    from ..adapters.registry import load_registry

    registry = load_registry()
    for problem in registry.problems:
        on_event(f"warning: {problem}")
    return Worker(options, registry, settings=settings, on_event=on_event).serve()
