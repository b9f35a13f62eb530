"""The queue executor against a real Redis and in-process workers: what the scheduler gets back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from maestro_cli.adapters.base import StepSpec
from maestro_cli.adapters.registry import load_registry
from maestro_cli.errors import RemoteError
from maestro_cli.plan.executor import AttemptRequest, LocalExecutor
from maestro_cli.queue import JOBS_STREAM, results_stream, run_key
from maestro_cli.queue.connection import parse_queue_url
from maestro_cli.queue.coordinator import QueueExecutor
from maestro_cli.queue.jobs import seal
from maestro_cli.queue.worker import Worker, WorkerOptions

SECRET = "coordinator-tests"


def request_for(tmp_path: Path, step_id: str, run: str, *, timeout: float = 60.0, attempt: int = 1) -> AttemptRequest:
    return AttemptRequest(
        step=StepSpec(id=step_id, adapter="shell", run=run, timeout=timeout),
        attempt=attempt,
        workdir=tmp_path,
        results_dir=tmp_path / "results",
        log_path=tmp_path / "results" / "logs" / f"{step_id}.log",
    )


def executor_for(redis_url: str, **options: Any) -> QueueExecutor:
    defaults: dict[str, Any] = {"local": LocalExecutor(load_registry()), "secret": SECRET}
    return QueueExecutor(parse_queue_url(redis_url), **{**defaults, **options})


def serve_until_lost(worker: Worker) -> None:
    """A worker whose Redis a test pulled away stops with that error, which is the test's to check."""
    try:
        worker.serve()
    except RemoteError:
        assert worker.summary.stopped == "lost the queue"


@pytest.fixture
def workers(redis_url: str) -> Iterator[list[Worker]]:
    """Start in-process workers with ``start(name, **options)``; they stop when the queue is idle."""
    started: list[tuple[Worker, threading.Thread]] = []

    def start(name: str, secret: str | None = SECRET, **options: Any) -> Worker:
        worker = Worker(
            WorkerOptions(queue=parse_queue_url(redis_url), name=name, secret=secret, exit_when_idle=1.5, claim_idle=2.0, **options),
            load_registry(),
        )
        thread = threading.Thread(target=serve_until_lost, args=(worker,))
        thread.start()
        started.append((worker, thread))
        return worker

    yield start  # type: ignore[misc]
    for _, thread in started:
        thread.join(30)


def test_steps_run_on_workers_and_the_log_comes_home(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1")
    with executor_for(redis_url) as executor:
        result = executor.execute(request_for(tmp_path, "unit", "echo from a worker; echo k=v >> $MAESTRO_OUTPUT"))
    assert (result.outcome, result.outputs) == ("passed", {"k": "v"})
    log = (tmp_path / "results" / "logs" / "unit.log").read_text()
    assert log.startswith("--- maestro: unit, attempt 1, adapter shell\n")
    assert "from a worker" in log
    assert executor.stats.enqueued == 1


def test_a_finished_run_is_marked_and_its_keys_expire(redis_url: str, workers: Any, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    workers("w1")
    with executor_for(redis_url) as executor:
        executor.execute(request_for(tmp_path, "unit", "true"))
        assert client.hget(run_key(executor.run_id), "state") == "running"
    assert client.hget(run_key(executor.run_id), "state") == "finished"
    assert 0 < client.ttl(run_key(executor.run_id)) <= 3600
    assert 0 < client.ttl(results_stream(executor.run_id)) <= 3600


def test_a_second_result_for_the_same_attempt_is_counted_once(redis_url: str, workers: Any, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    workers("w1")
    with executor_for(redis_url) as executor:
        first = executor.execute(request_for(tmp_path, "unit", "true"))
        # the same attempt reported again, as by a worker that was presumed dead and finished after all
        duplicate = {"kind": "result", "run_id": executor.run_id, "step_id": "unit", "attempt": 1, "worker": "late", "delivery": "0-1",
                     "result": {"outcome": "failed", "message": "late duplicate"}}
        client.xadd(results_stream(executor.run_id), seal(duplicate, SECRET))
        second = executor.execute(request_for(tmp_path, "other", "true"))
    assert (first.outcome, second.outcome) == ("passed", "passed")
    assert (executor.stats.results, executor.stats.duplicates) == (3, 1)


def test_a_job_refused_by_a_worker_fails_the_step_with_the_reason(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1", secret="the-workers-secret")
    with executor_for(redis_url) as executor:
        result = executor.execute(request_for(tmp_path, "unit", "touch ran"))
    assert result.outcome == "failed"
    assert result.message == "worker w1 refused the job: refused job: signature does not match: the message was altered or signed with another secret"
    assert not (tmp_path / "ran").exists()


def test_a_secret_that_is_not_shareable_never_reaches_the_queue(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with executor_for(redis_url, secrets={"API_TOKEN": "tok-123456"}) as executor:
        result = executor.execute(request_for(tmp_path, "deploy", "curl -H 'Authorization: tok-123456' https://example.invalid"))
    assert result.outcome == "failed"
    assert result.message is not None and result.message.startswith("not sent to the queue: the job would carry the secret API_TOKEN")
    assert client.exists(JOBS_STREAM) == 0


def test_local_steps_run_here_without_the_queue(redis_url: str, tmp_path: Path) -> None:
    with executor_for(redis_url, runs_locally=lambda spec: spec.id == "here") as executor:
        result = executor.execute(request_for(tmp_path, "here", "touch ran-here"))
    assert result.outcome == "passed" and (tmp_path / "ran-here").exists()
    assert (executor.stats.ran_locally, executor.stats.enqueued) == (1, 0)


def test_a_step_no_worker_takes_times_out_in_the_queue(redis_url: str, tmp_path: Path) -> None:
    with executor_for(redis_url) as executor:
        result = executor.execute(request_for(tmp_path, "lonely", "true", timeout=1.0))
    assert result.outcome == "timed-out"
    assert result.message == "timed out after 1s in the queue: no worker took it (is `maestro worker` serving this queue?)"


def test_a_cancelled_attempt_stops_on_the_worker(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1")
    request = request_for(tmp_path, "slow", "echo started > started; sleep 60")
    with executor_for(redis_url) as executor:
        threading.Thread(target=lambda: (wait_for_file(tmp_path / "started"), request.cancel.set())).start()
        result = executor.execute(request)
    assert result.outcome == "cancelled"


def wait_for_file(path: Path) -> None:
    import time

    for _ in range(400):
        if path.exists():
            return
        time.sleep(0.05)


def test_redis_going_away_fails_the_waiting_step_with_one_clear_error(redis_server: Any, redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1")
    request = request_for(tmp_path, "slow", "echo started > started; sleep 60")
    with executor_for(redis_url) as executor:
        threading.Thread(target=lambda: (wait_for_file(tmp_path / "started"), redis_server.stop())).start()
        result = executor.execute(request)
        after = executor.execute(request_for(tmp_path, "next", "true"))
    assert result.outcome == "failed"
    assert result.message is not None
    assert result.message.startswith(f"lost the queue mid-run: cannot reach Redis at {redis_url}: ")
    assert after.message == result.message
    assert executor.lost is not None


def test_files_a_step_leaves_in_its_results_folder_come_home(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1")
    script = 'mkdir -p "$MAESTRO_RESULTS_DIR/attachments/shots" && printf "\\x89PNG" > "$MAESTRO_RESULTS_DIR/attachments/shots/page.png"'
    with executor_for(redis_url) as executor:
        result = executor.execute(request_for(tmp_path, "shots", script))
    assert result.outcome == "passed"
    assert (tmp_path / "results" / "attachments" / "shots" / "page.png").read_bytes() == b"\x89PNG"


def test_a_result_file_outside_the_results_folder_is_refused(tmp_path: Path) -> None:
    from maestro_cli.queue.jobs import RefusedMessage, unpack_files

    with pytest.raises(RefusedMessage, match="outside the results folder"):
        unpack_files({"../../.bashrc": "ZWNobyBwd25lZA=="}, tmp_path / "results")
    assert not (tmp_path / ".bashrc").exists()


def test_a_workers_own_error_lands_in_the_step_log(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("w1")
    request = request_for(tmp_path, "load", "run")
    request.step.adapter = "k6"
    with executor_for(redis_url) as executor:
        result = executor.execute(request)
    assert (result.outcome, result.message) == ("failed", "adapter 'k6' is not installed on worker w1")
    assert "--- maestro: worker w1: adapter 'k6' is not installed on worker w1\n" in request.log_path.read_text()


def test_a_forged_result_is_never_believed(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with executor_for(redis_url) as executor:
        forged = {"kind": "result", "run_id": executor.run_id, "step_id": "unit", "attempt": 1, "worker": "mallory", "delivery": "0-1",
                  "result": {"outcome": "passed"}}
        client.xadd(results_stream(executor.run_id), seal(forged, "not-the-secret"))
        client.xadd(results_stream(executor.run_id), {"body": "{\"run_id\": 1, \"attempt\": \"x\"}"})
        result = executor.execute(request_for(tmp_path, "unit", "true", timeout=1.0))  # no worker: it must time out
    assert result.outcome == "timed-out"
    assert executor.stats.ignored == 2


def test_a_job_no_live_worker_can_take_fails_instead_of_waiting_out_its_timeout(redis_url: str, tmp_path: Path) -> None:
    with executor_for(redis_url, no_worker_limit=1.0) as executor:
        result = executor.execute(request_for(tmp_path, "unit", "true", timeout=600))
    assert (result.outcome, result.message) == ("failed", f"no live `maestro worker` on {redis_url} for 1s")


def test_a_tagged_job_fails_when_only_workers_without_its_tags_are_alive(redis_url: str, workers: Any, tmp_path: Path) -> None:
    workers("plain")
    with executor_for(redis_url, no_worker_limit=1.0, tags_of=lambda spec: ("gpu",)) as executor:
        result = executor.execute(request_for(tmp_path, "cuda", "touch ran", timeout=600))
    assert (result.outcome, result.message) == ("failed", f"no live `maestro worker` with the tags gpu on {redis_url} for 1s")
    assert not (tmp_path / "ran").exists()


def test_an_attempt_whose_worker_died_with_no_other_left_fails(redis_url: str, tmp_path: Path) -> None:
    from maestro_cli.queue import GROUP, JOBS_STREAM
    from maestro_cli.queue.streams import create_group

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    create_group(client, JOBS_STREAM)

    def a_worker_that_starts_the_job_and_dies(executor: QueueExecutor) -> None:
        for _ in range(200):
            taken = client.xreadgroup(GROUP, "ghost", {JOBS_STREAM: ">"}, count=1, block=100)
            if taken:
                started = {"kind": "started", "run_id": executor.run_id, "step_id": "unit", "attempt": 1, "worker": "ghost", "delivery": taken[0][1][0][0]}
                client.xadd(results_stream(executor.run_id), seal(started, SECRET))
                return  # and no heartbeat key: it is gone

    with executor_for(redis_url, no_worker_limit=1.0) as executor:
        threading.Thread(target=a_worker_that_starts_the_job_and_dies, args=(executor,)).start()
        result = executor.execute(request_for(tmp_path, "unit", "true", timeout=600))
    assert (result.outcome, result.message) == (
        "failed", f"worker ghost stopped mid-step and no live `maestro worker` on {redis_url} for 1s to take the job over"
    )
