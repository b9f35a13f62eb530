"""`maestro run-plan --queue` and `maestro worker` in-process: where steps run, what may travel."""

from __future__ import annotations

import json
import threading
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from maestro_cli.adapters.registry import load_registry
from maestro_cli.queue import JOBS_STREAM, GROUP
from maestro_cli.queue.connection import parse_queue_url
from maestro_cli.queue.streams import create_group
from maestro_cli.queue.worker import Worker, WorkerOptions


@pytest.fixture
def worker_threads(redis_url: str) -> Iterator[Callable[..., Worker]]:
    started: list[threading.Thread] = []

    def start(name: str, **options: Any) -> Worker:
        worker = Worker(WorkerOptions(queue=parse_queue_url(redis_url), name=name, exit_when_idle=1.0, **options), load_registry())
        thread = threading.Thread(target=worker.serve)
        thread.start()
        started.append(thread)
        return worker

    yield start
    for thread in started:
        thread.join(30)


def test_runs_on_and_shareable_secrets_decide_where_a_step_runs(
    run_cli: Any, redis_url: str, worker_threads: Callable[..., Worker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARED_TOKEN", "shared-123456")
    monkeypatch.setenv("DEPLOY_KEY", "deploy-987654")
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        version: 1
        defaults: {timeout: 60}
        secrets: [SHARED_TOKEN, DEPLOY_KEY]
        shareable-secrets: [SHARED_TOKEN]
        steps:
          - id: anywhere
            run: echo "token ${{ secrets.SHARED_TOKEN }}"; test "${{ secrets.SHARED_TOKEN }}" = shared-123456
          - id: on-gpu
            runs-on: [gpu]
            run: echo gpu > on-gpu.txt
          - id: leaky
            run: echo "${{ secrets.DEPLOY_KEY }}" > leaked.txt
            continue-on-error: true
          - id: here
            runs-on: local
            run: test "${{ secrets.DEPLOY_KEY }}" = deploy-987654
        """))
    started: dict[str, Worker] = {}

    def start_workers_once_jobs_are_queued() -> None:  # so that an idle worker never leaves too early
        client = redis.Redis.from_url(redis_url)
        while not client.exists(JOBS_STREAM):
            time.sleep(0.05)
        started["plain"] = worker_threads("plain")
        started["gpu"] = worker_threads("gpu-box", tags=("gpu", "linux"))

    starter = threading.Thread(target=start_workers_once_jobs_are_queued, daemon=True)
    starter.start()
    monkeypatch.setenv("MAESTRO_QUEUE", redis_url)  # stands for --queue
    result = run_cli("run-plan", plan, "--results", tmp_path / "out", "--json")
    starter.join(30)
    plain, gpu = started["plain"], started["gpu"]

    assert result.exit_code == 0, result.stderr
    steps = {s["id"]: s for s in json.loads(result.stdout)["steps"]}
    assert {k: v["outcome"] for k, v in steps.items()} == {"anywhere": "passed", "on-gpu": "passed", "leaky": "failed", "here": "passed"}
    assert steps["leaky"]["message"].startswith("not sent to the queue: the job would carry the secret DEPLOY_KEY")
    assert not (tmp_path / "leaked.txt").exists()
    assert gpu.summary.ran >= 1 and plain.summary.ran + gpu.summary.ran == 2  # `here` ran on the coordinator
    assert "deploy-987654" not in result.output
    log = (tmp_path / "out" / "logs" / "anywhere.log").read_text()  # it travelled, and is masked all the same
    assert "token ****" in log and "shared-123456" not in log


def test_a_job_that_killed_five_workers_is_dropped_with_an_error(redis_url: str, tmp_path: Path) -> None:
    from maestro_cli.adapters.base import StepSpec
    from maestro_cli.plan.executor import AttemptRequest
    from maestro_cli.queue import ERRORS_STREAM
    from maestro_cli.queue.jobs import Job
    from maestro_cli.queue.streams import enqueue, open_run

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    open_run(client, "run1")
    request = AttemptRequest(StepSpec(id="crashy", adapter="shell", run="touch ran"), 1, tmp_path, tmp_path, tmp_path / "log")
    message_id = enqueue(client, Job.for_request("run1", request), None)
    create_group(client, JOBS_STREAM)
    client.xreadgroup(GROUP, "dead-1", {JOBS_STREAM: ">"})
    for n in range(2, 7):  # five more deliveries, each to a worker that died with it
        client.xclaim(JOBS_STREAM, GROUP, f"dead-{n}", 0, [message_id])

    worker = Worker(WorkerOptions(queue=parse_queue_url(redis_url), name="w1", claim_idle=1.1, exit_when_idle=2.5), load_registry())
    summary = worker.serve()

    assert (summary.ran, summary.reclaimed) == (0, 0) and not (tmp_path / "ran").exists()
    [error] = [json.loads(fields["body"]) for _, fields in client.xrange(ERRORS_STREAM)]
    assert error["message"] == "dropped after 7 deliveries: every worker that took it stopped"
    assert client.xpending(JOBS_STREAM, GROUP)["pending"] == 0


def test_a_worker_serves_a_tls_redis_with_a_password_it_never_prints(run_cli: Any, tmp_path: Path) -> None:
    from redis_server import RedisServer

    server = RedisServer(tmp_path, tls=True, password="pa55-w0rd")
    server.start()
    try:
        result = run_cli("worker", "--queue", server.url, "--exit-when-idle", "0.5", "--json")
    finally:
        server.stop()
    assert result.exit_code == 0, result.stderr
    assert "pa55-w0rd" not in result.output
    assert f"serving rediss://:****@127.0.0.1:{server.port}/0" in result.stderr
    assert json.loads(result.stdout)["stopped"] == "idle"
