"""The queue executor: run-plan's scheduler hands it attempts, workers run them, results come back.

:class:`QueueExecutor` is an :class:`~maestro_cli.plan.executor.AttemptExecutor`, so the scheduler
keeps everything it owns (graph order, ``if:``, retries, services, fail-fast, the results folder);
only *where* an attempt runs changes. Each attempt becomes a signed job on the jobs stream, and one
reader thread follows the run's results stream and the errors stream, handing every report to the
attempt waiting for it. Each (run, step, attempt) is counted once: a result for an attempt that
already has one (a job run twice after a worker died) is ignored.

The coordinator's timeouts still hold: a job no worker takes times out after the step's ``timeout``
in the queue; once a worker has started it, the clock restarts (plus a grace for the worker's own
timed-out report to arrive), and restarts again when another worker takes a dead one's job over.
A Redis that goes away fails every attempt still waiting with one clear message instead of a hang.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import events, redaction
from ..adapters.base import StepResult, StepSpec
from ..errors import RemoteError
from ..plan.executor import AttemptExecutor, AttemptRequest
from . import ERRORS_STREAM, attempt_field, results_stream, run_key
from .connection import BLOCK_SECONDS, QueueURL, connect, connection_errors, lost_queue, talking_to
from .jobs import Job, RefusedMessage, secrets_in, step_result_from_dict, unpack_files, unseal, unverified
from .streams import close_run, enqueue, live_workers, open_run

if TYPE_CHECKING:
    import redis

# How long after a step's own timeout the coordinator still waits for the worker's report (which
# says timed-out itself) before it declares the attempt timed out on its own.
TIMEOUT_GRACE = 10.0
# A job that no live worker could take (none at all, or none with its runs-on tags) fails after
# this long instead of waiting out the step's timeout: long enough for workers started with the
# run (or scaled up for it) to come, short enough that a forgotten `maestro worker` is not an hour.
NO_WORKER_LIMIT = 120.0
# How often the reader looks at which workers are alive (their heartbeat keys).
_WORKERS_CHECK = 2.0
# How often a waiting attempt looks at its cancel event and deadline (a result wakes it at once):
# hundreds of steps may wait at the same time, and half a second is soon enough for a cancel.
_WAIT_POLL = 0.5

AttemptKey = tuple[str, int]  # (step id, attempt)


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class _Waiting:
    """One attempt sent to the queue, until its result (or a reason to stop waiting) is known."""

    request: AttemptRequest
    done: threading.Event = field(default_factory=threading.Event)
    result: StepResult | None = None
    delivery: tuple[str, str] | None = None  # (worker, job entry) of the run reporting now
    worker: str | None = None
    deadline: float | None = None  # monotonic: the step's timeout from queueing, then from the start
    tags: tuple[str, ...] = ()  # runs-on: a worker must have all of them
    unserved_since: float | None = None  # monotonic: since when no live worker could take the job
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self, result: StepResult) -> bool:
        """The first of the reader (a result) and the waiting thread (cancel, timeout) decides."""
        with self._lock:
            if self.done.is_set():
                return False
            self.result = result
            self.done.set()
            return True


@dataclass
class QueueStats:
    enqueued: int = 0
    results: int = 0
    duplicates: int = 0  # results for attempts that already had one: counted once, ignored
    refused: int = 0  # jobs a worker refused (signature, format)
    ran_locally: int = 0
    ignored: int = 0  # reports on the results stream that were not signed with the queue's secret


class QueueExecutor:
    """Sends attempts to ``maestro worker`` processes through Redis; use it as a context manager.

    ``runs_locally(step)`` picks the steps that stay on this machine (``runs-on: local``), run by
    ``local``; ``tags_of(step)`` gives a step's ``runs-on`` tags; ``secrets`` (name -> value) are the
    plan's secrets, of which only those named in ``shareable`` may travel: an attempt whose job
    would carry another fails before it is sent.
    """

    def __init__(
        self,
        queue: QueueURL,
        *,
        local: AttemptExecutor,
        secret: str | None = None,
        run_id: str | None = None,
        runs_locally: Callable[[StepSpec], bool] = lambda step: False,
        tags_of: Callable[[StepSpec], tuple[str, ...]] = lambda step: (),
        secrets: Mapping[str, str] | None = None,
        shareable: Collection[str] = (),
        no_worker_limit: float = NO_WORKER_LIMIT,
    ) -> None:
        self.queue = queue
        self.local = local
        self.secret = secret
        self.run_id = run_id or new_run_id()
        self.runs_locally = runs_locally
        self.tags_of = tags_of
        self.secrets = dict(secrets or {})
        self.shareable = frozenset(shareable)
        self.no_worker_limit = no_worker_limit
        self.stats = QueueStats()
        self.lost: RemoteError | None = None  # set once Redis went away; every later attempt fails
        self.client: redis.Redis | None = None
        self._lock = threading.Lock()
        self._waiting: dict[AttemptKey, _Waiting] = {}
        self._finished: set[AttemptKey] = set()
        self._stop = threading.Event()

    # -- lifetime ------------------------------------------------------------------------------
    def __enter__(self) -> QueueExecutor:
        self.client = connect(self.queue)
        with talking_to(self.queue):
            open_run(self.client, self.run_id)
            errors_from = _last_id(self.client, ERRORS_STREAM)
        threading.Thread(target=self._follow, args=(errors_from,), name="maestro-queue-reader", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Mark the run finished (workers skip its leftover jobs) and let its keys expire."""
        self._stop.set()  # the reader sees it within one blocking read; nothing waits for that
        if self.client is None or self.lost is not None:
            return
        try:
            close_run(self.client, self.run_id)
        except connection_errors():
            pass  # nothing to tidy on a Redis that is gone; the keys expire on their own

    # -- the executor --------------------------------------------------------------------------
    def execute(self, request: AttemptRequest) -> StepResult:
        if self.runs_locally(request.step):
            with self._lock:
                self.stats.ran_locally += 1
            return self.local.execute(request)
        if self.lost is not None:
            return _failed(self.lost)
        key: AttemptKey = (request.step.id, request.attempt)
        job = Job.for_request(self.run_id, request, self.tags_of(request.step))
        document = job.to_document()
        carried = secrets_in(document, self.secrets)
        leaked = [name for name in carried if name not in self.shareable]
        if leaked:
            return StepResult(
                "failed",
                message=f"not sent to the queue: the job would carry the secret {', '.join(leaked)}; "
                "give the step `runs-on: local`, or list the secret in `shareable-secrets:`",
            )
        if carried:
            job = replace(job, mask=tuple(self.secrets[name] for name in carried))
            document = job.to_document()
        waiting = _Waiting(request, tags=job.tags)
        if request.step.timeout:  # a job no worker takes must not wait for ever either
            waiting.deadline = time.monotonic() + request.step.timeout
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        request.log_path.touch()  # the log exists from the start, as for a local attempt
        with self._lock:
            self._waiting[key] = waiting
            self.stats.enqueued += 1
        try:
            enqueue(self.client, job, self.secret, document)
            return self._wait(key, waiting)
        except connection_errors() as exc:
            self._lose(exc)
            return _failed(self.lost)  # type: ignore[arg-type]  # _lose sets it
        finally:
            with self._lock:
                self._waiting.pop(key, None)
                self._finished.add(key)

    def _wait(self, key: AttemptKey, waiting: _Waiting) -> StepResult:
        request = waiting.request
        while not waiting.done.wait(_WAIT_POLL):
            if self.lost is not None:
                waiting.finish(_failed(self.lost))
            elif request.cancel.is_set():
                self._cancel(key, "cancelled")
                waiting.finish(StepResult("cancelled", message="cancelled"))
            elif waiting.deadline is not None and time.monotonic() > waiting.deadline:
                self._cancel(key, "timed out")
                waiting.finish(StepResult("timed-out", message=_silence(request.step.timeout or 0, waiting.worker)))
        assert waiting.result is not None
        return waiting.result

    def _cancel(self, key: AttemptKey, reason: str) -> None:
        """Tell workers to stop the attempt (or skip it when it is still queued)."""
        assert self.client is not None
        try:
            self.client.hset(run_key(self.run_id), attempt_field("cancel", *key), reason)
        except connection_errors() as exc:
            self._lose(exc)

    def _lose(self, exc: BaseException) -> None:
        with self._lock:
            if self.lost is None:
                self.lost = lost_queue(self.queue, exc)
                self.lost.message = f"lost the queue mid-run: {self.lost.message}"

    # -- following the workers' reports ----------------------------------------------------------
    def _follow(self, errors_from: str) -> None:
        assert self.client is not None
        positions = {results_stream(self.run_id): "0-0", ERRORS_STREAM: errors_from}
        next_check = 0.0
        while not self._stop.is_set() and self.lost is None:
            try:
                reply = self.client.xread(positions, block=int(BLOCK_SECONDS * 1000))
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + _WORKERS_CHECK
                    self._fail_unserved(live_workers(self.client))
            except connection_errors() as exc:
                self._lose(exc)
                return
            arrived = [(stream, message_id, fields) for stream, messages in reply or [] for message_id, fields in messages]
            # in the order the workers wrote them: a worker's error comes before the result it explains
            for stream, message_id, fields in sorted(arrived, key=lambda entry: _order(entry[1], entry[0] != ERRORS_STREAM)):
                positions[stream] = message_id
                try:
                    self._take(stream, fields)
                except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a malformed report must not stop the reader
                    self.stats.ignored += 1
                    events.emit("queue.report-refused", outcome="refused", run_id=self.run_id, reason=f"malformed report: {exc}")

    def _fail_unserved(self, workers: Mapping[str, frozenset[str]]) -> None:
        """Fail the attempts no live worker runs or could take, once that lasted ``no_worker_limit``.

        Queued attempts, and started ones whose worker died with no other left to take them over.
        """
        now = time.monotonic()
        with self._lock:
            waiting_now = [(key, w) for key, w in self._waiting.items() if w.worker not in workers and not w.done.is_set()]
        for key, waiting in waiting_now:
            if any(tags >= set(waiting.tags) for tags in workers.values()):
                waiting.unserved_since = None
            elif waiting.unserved_since is None:
                waiting.unserved_since = now
            elif now - waiting.unserved_since >= self.no_worker_limit:
                wanted = f" with the tags {', '.join(waiting.tags)}" if waiting.tags else ""
                message = f"no live `maestro worker`{wanted} on {self.queue.display} for {self.no_worker_limit:g}s"
                if waiting.worker is not None:
                    message = f"worker {waiting.worker} stopped mid-step and {message} to take the job over"
                self._cancel(key, "no worker")
                waiting.finish(StepResult("failed", message=message))

    def _take(self, stream: str, fields: Mapping[str, str]) -> None:
        if stream == ERRORS_STREAM:
            report = unverified(fields)  # an error can only fail the step it names; see unverified()
        else:
            try:
                report = unseal(fields, self.secret)
            except RefusedMessage as exc:
                self.stats.ignored += 1  # unsigned or forged: recorded, never believed
                events.emit("queue.report-refused", outcome="refused", run_id=self.run_id, reason=str(exc))
                return
        if report.get("run_id") != self.run_id:
            return  # the errors stream is shared by every run
        key: AttemptKey = (str(report.get("step_id")), int(report.get("attempt") or 0))
        with self._lock:
            waiting = self._waiting.get(key)
            already = key in self._finished
        kind = report.get("kind")
        if kind == "result":
            self.stats.results += 1
            if waiting is None or waiting.done.is_set():
                if already or waiting is not None:
                    self.stats.duplicates += 1
                return
            result = step_result_from_dict(report["result"])
            self._follow_delivery(waiting, report)
            self._write_log(waiting, str(report.get("log") or ""))
            try:
                unpack_files(report.get("files") or {}, waiting.request.results_dir)
            except (RefusedMessage, OSError, ValueError) as exc:
                result = StepResult("failed", message=f"worker {report.get('worker')} sent files that were not written: {exc}")
            waiting.finish(result)
            return
        if waiting is None:
            return
        if kind in ("started", "log", "heartbeat"):
            self._follow_delivery(waiting, report)
            if kind == "log":
                self._write_log(waiting, str(report.get("text", "")))
        elif kind == "refused":
            self.stats.refused += 1
            waiting.finish(StepResult("failed", message=f"worker {report.get('worker')} refused the job: {report.get('message')}"))
        elif kind == "error":
            self._write_log(waiting, f"--- maestro: worker {report.get('worker')}: {report.get('message')}\n")

    def _follow_delivery(self, waiting: _Waiting, report: Mapping[str, Any]) -> None:
        """A new delivery (the job taken over by another worker) restarts the attempt's clock."""
        delivery = (str(report.get("worker")), str(report.get("delivery")))  # a reclaimed job keeps its entry id
        if delivery == waiting.delivery:
            return
        if waiting.delivery is not None:
            self._write_log(waiting, f"--- maestro: worker {waiting.worker} stopped; worker {report.get('worker')} runs the attempt again\n")
        waiting.delivery = delivery
        waiting.worker = str(report.get("worker"))
        timeout = waiting.request.step.timeout
        waiting.deadline = time.monotonic() + timeout + TIMEOUT_GRACE if timeout else None

    @staticmethod
    def _write_log(waiting: _Waiting, text: str) -> None:
        if not text:
            return
        text = redaction.scrub(text)  # as a local attempt's log is: the worker may not know every secret
        # opened per chunk: chunks come at most a few times a second, and no handle outlives the attempt
        with open(waiting.request.log_path, "a", encoding="utf-8") as log:
            log.write(text)


def _order(message_id: str, after_errors: bool) -> tuple[int, int, bool]:
    milliseconds, _, sequence = message_id.partition("-")
    return int(milliseconds), int(sequence or 0), after_errors


def _silence(timeout: float, worker: str | None) -> str:
    if worker is None:
        return f"timed out after {timeout:g}s in the queue: no worker took it (is `maestro worker` serving this queue?)"
    return f"timed out after {timeout:g}s: worker {worker} sent no result"


def _failed(error: RemoteError) -> StepResult:
    return StepResult("failed", message=error.message)


def _last_id(client: redis.Redis, stream: str) -> str:
    """The newest entry's id, so that only errors from now on are followed."""
    newest = client.xrevrange(stream, count=1)
    return newest[0][0] if newest else "0-0"

