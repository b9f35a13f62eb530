"""The worker against a real Redis: what lands on the streams, what is acknowledged, what is refused."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from maestro_cli.adapters.base import StepSpec
from maestro_cli.adapters.registry import load_registry
from maestro_cli.plan.executor import AttemptRequest
from maestro_cli.queue import ERRORS_STREAM, GROUP, JOBS_STREAM, jobs_stream, results_stream, run_key, worker_key
from maestro_cli.queue.connection import parse_queue_url
from maestro_cli.queue.streams import close_run, create_group, enqueue, open_run
from maestro_cli.queue.jobs import Job, seal, unseal
from maestro_cli.queue.worker import Worker, WorkerOptions, WorkerSummary

SECRET = "queue-secret-for-tests"


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def job_for(workdir: Path, step_id: str, run: str | list[str], *, run_id: str = "run1", adapter: str = "shell", tags: tuple[str, ...] = ()) -> Job:
    request = AttemptRequest(
        step=StepSpec(id=step_id, adapter=adapter, run=run, timeout=60.0),
        attempt=1,
        workdir=workdir,
        results_dir=workdir / "results",
        log_path=workdir / "results" / "logs" / f"{step_id}.log",
    )
    return Job.for_request(run_id, request, tags)


def serve(redis_url: str, **options: Any) -> WorkerSummary:
    defaults: dict[str, Any] = {"name": "w1", "secret": SECRET, "claim_idle": 2.0, "exit_when_idle": 0.5}
    return Worker(WorkerOptions(queue=parse_queue_url(redis_url), **{**defaults, **options}), load_registry()).serve()


def reports(client: redis.Redis, run_id: str = "run1", kind: str | None = None) -> list[dict[str, Any]]:
    found = [unseal(fields, SECRET) for _id, fields in client.xrange(results_stream(run_id))]
    return [r for r in found if kind is None or r["kind"] == kind]


def errors(client: redis.Redis) -> list[dict[str, Any]]:
    return [unseal(fields, SECRET) for _id, fields in client.xrange(ERRORS_STREAM)]


def test_a_job_runs_and_is_acknowledged_only_with_its_result_stored(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "unit", "echo hello from the worker; echo version=1.2 >> $MAESTRO_OUTPUT; touch ran"), SECRET)

    summary = serve(redis_url, max_jobs=1)

    assert (summary.ran, summary.passed, summary.stopped) == (1, 1, "max-jobs")
    assert (tmp_path / "ran").exists()
    [result] = reports(client, kind="result")
    assert (result["step_id"], result["attempt"], result["worker"]) == ("unit", 1, "w1")
    assert result["result"]["outcome"] == "passed"
    assert result["result"]["outputs"] == {"version": "1.2"}
    log = "".join(r["text"] for r in reports(client, kind="log")) + result["log"]  # the log's end travels with the result
    assert "hello from the worker" in log
    assert [r["kind"] for r in reports(client)][0] == "started"
    assert client.xpending(JOBS_STREAM, GROUP)["pending"] == 0
    assert client.hget(run_key("run1"), "done:unit#1") == "w1"
    assert client.ttl(results_stream("run1")) > 0


def test_a_failing_step_is_a_failed_result_not_a_worker_error(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "broken", "echo about to fail; exit 3"), SECRET)

    summary = serve(redis_url, max_jobs=1)

    [result] = reports(client, kind="result")
    assert (result["result"]["outcome"], result["result"]["exit_code"]) == ("failed", 3)
    assert (summary.failed, errors(client)) == (1, [])


def test_an_altered_job_is_refused_and_never_runs(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    create_group(client, JOBS_STREAM)
    fields = seal(job_for(tmp_path, "unit", "echo harmless").to_document(), SECRET)
    fields["body"] = fields["body"].replace("echo harmless", "touch pwned")
    client.xadd(JOBS_STREAM, fields)

    summary = serve(redis_url)

    assert (summary.refused, summary.ran) == (1, 0)
    assert not (tmp_path / "pwned").exists()
    [error] = errors(client)
    assert (error["kind"], error["worker"], error["run_id"], error["step_id"]) == ("refused", "w1", "run1", "unit")
    assert error["message"].startswith("refused job: signature does not match")
    assert client.xpending(JOBS_STREAM, GROUP)["pending"] == 0
    assert reports(client) == []


def test_an_unsigned_job_is_refused_by_a_worker_with_a_secret(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "unit", "touch ran"), None)

    summary = serve(redis_url)

    assert summary.refused == 1 and not (tmp_path / "ran").exists()
    assert "unsigned" in errors(client)[0]["message"]


def test_a_job_of_a_dead_worker_is_reclaimed_after_claim_idle(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "unit", "touch ran"), SECRET)
    create_group(client, JOBS_STREAM)
    taken = client.xreadgroup(GROUP, "dead-worker", {JOBS_STREAM: ">"}, count=1)  # and never acknowledged
    assert taken

    summary = serve(redis_url, max_jobs=1, claim_idle=1.5, exit_when_idle=10)

    assert (summary.reclaimed, summary.ran) == (1, 1)
    assert (tmp_path / "ran").exists()
    assert client.xpending(JOBS_STREAM, GROUP)["pending"] == 0


def test_tagged_jobs_go_only_to_workers_with_every_tag(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "gpu-step", "touch ran", tags=("gpu",)), SECRET)

    untagged = serve(redis_url, name="plain")
    assert untagged.ran == 0 and not (tmp_path / "ran").exists()

    tagged = serve(redis_url, name="big", tags=("linux", "gpu"), max_jobs=1)
    assert tagged.ran == 1 and (tmp_path / "ran").exists()
    assert jobs_stream(["gpu", "linux"]) in tagged.streams


def test_jobs_of_finished_or_unknown_runs_are_skipped(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "old")
    enqueue(client, job_for(tmp_path, "a", "touch a", run_id="old"), SECRET)
    close_run(client, "old")
    enqueue(client, job_for(tmp_path, "b", "touch b", run_id="never-opened"), SECRET)

    summary = serve(redis_url)

    assert (summary.skipped, summary.ran) == (2, 0)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert client.xpending(JOBS_STREAM, GROUP)["pending"] == 0


def test_a_missing_adapter_is_the_workers_error_and_a_failed_result(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "k6", ["run"], adapter="k6"), SECRET)

    serve(redis_url, max_jobs=1)

    [result] = reports(client, kind="result")
    assert result["result"]["outcome"] == "failed"
    assert result["result"]["message"] == "adapter 'k6' is not installed on worker w1"
    assert [(e["kind"], e["message"]) for e in errors(client)] == [("error", "adapter 'k6' is not installed on worker w1")]


def run_in_thread(redis_url: str, **options: Any) -> tuple[threading.Thread, list[WorkerSummary]]:
    summaries: list[WorkerSummary] = []
    thread = threading.Thread(target=lambda: summaries.append(serve(redis_url, **options)))
    thread.start()
    return thread, summaries


def wait_for(condition: Any, what: str) -> None:
    for _ in range(400):
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def test_the_coordinator_cancels_a_running_attempt(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "slow", "sleep 60"), SECRET)
    thread, summaries = run_in_thread(redis_url, max_jobs=1)
    wait_for(lambda: reports(client, kind="started"), "the worker to start the job")

    client.hset(run_key("run1"), "cancel:slow#1", "cancelled")
    thread.join(30)

    assert not thread.is_alive()
    [result] = reports(client, kind="result")
    assert result["result"]["outcome"] == "cancelled"
    assert summaries[0].failed == 1


def test_a_job_taken_over_by_another_worker_is_given_up_not_acknowledged(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    message_id = enqueue(client, job_for(tmp_path, "slow", "sleep 60"), SECRET)
    thread, _ = run_in_thread(redis_url, max_jobs=1)
    wait_for(lambda: reports(client, kind="started"), "the worker to start the job")

    client.xclaim(JOBS_STREAM, GROUP, "other-worker", 0, [message_id])
    thread.join(30)

    assert not thread.is_alive()
    assert reports(client, kind="result") == []
    [pending] = client.xpending_range(JOBS_STREAM, GROUP, min="-", max="+", count=10)
    assert pending["consumer"] == "other-worker"


def test_logs_are_streamed_while_the_step_runs(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "chatty", "echo first line; sleep 60"), SECRET)
    thread, _ = run_in_thread(redis_url, max_jobs=1)

    wait_for(lambda: "first line" in "".join(r["text"] for r in reports(client, kind="log")), "the first log line")
    assert reports(client, kind="result") == []  # still running
    assert json.loads(client.get(worker_key("w1")))["concurrency"] == 1  # its heartbeat
    client.hset(run_key("run1"), "cancel:chatty#1", "cancelled")
    thread.join(30)
    assert not client.exists(worker_key("w1"))  # gone with the worker
    assert json.loads(json.dumps(reports(client, kind="result")))[0]["result"]["outcome"] == "cancelled"


class CrashingAdapter:
    """A third-party adapter with a bug of its own."""

    name = "crashing"
    description = "raises instead of reporting a failed step"
    options_schema: dict[str, Any] = {"type": "object"}

    def check(self, step: StepSpec) -> list[str]:
        return []

    def run(self, step: StepSpec, context: Any) -> Any:
        raise RuntimeError("division by zero in the plugin")


def test_an_adapter_that_crashes_is_the_workers_error_and_a_failed_step(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    from maestro_cli.adapters.registry import AdapterInfo, Registry

    registry = Registry(adapters={"crashing": AdapterInfo(CrashingAdapter(), "tests:CrashingAdapter", None)})
    open_run(client, "run1")
    enqueue(client, job_for(tmp_path, "plugin", ["x"], adapter="crashing"), SECRET)

    options = WorkerOptions(queue=parse_queue_url(redis_url), name="w1", secret=SECRET, max_jobs=1)
    Worker(options, registry).serve()

    [result] = reports(client, kind="result")
    assert result["result"]["outcome"] == "failed"
    assert "RuntimeError: division by zero in the plugin" in result["result"]["message"]
    assert [e["message"] for e in errors(client)] == ["adapter 'crashing' crashed on plugin: RuntimeError: division by zero in the plugin"]


def test_jobs_read_beyond_the_free_slots_go_back_for_other_workers(client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    open_run(client, "run1")
    for step_id, tags in (("plain", ()), ("on-a", ("a",)), ("on-a-b", ("a", "b"))):
        enqueue(client, job_for(tmp_path, step_id, f"touch {step_id}", tags=tags), SECRET)

    summary = serve(redis_url, tags=("a", "b"), max_jobs=1)  # one read of three streams brings three jobs

    assert (summary.ran, summary.handed_back) == (1, 2)
    assert len(list(tmp_path.glob("plain")) + list(tmp_path.glob("on-a*"))) == 1
    waiting = sum(len(client.xrange(stream)) for stream in (JOBS_STREAM, jobs_stream(["a"]), jobs_stream(["a", "b"])))
    assert waiting == 5  # three jobs, two of them added again; nothing pending
    assert sum(client.xpending(s, GROUP)["pending"] for s in (JOBS_STREAM, jobs_stream(["a"]), jobs_stream(["a", "b"]))) == 0

    rest = serve(redis_url, name="w2", tags=("a", "b"))
    assert rest.ran == 2 and len(list(tmp_path.glob("plain")) + list(tmp_path.glob("on-a*"))) == 3
