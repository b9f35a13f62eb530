"""`maestro run-plan --queue` and `maestro worker` through the installed command, on a real Redis.

Two workers as subprocesses serve a plan of 50 steps; a worker killed with SIGKILL mid-step; a job
altered in the queue; a Redis that goes away mid-run. Each result must be counted exactly once, and
the results folder must look like a local run's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MAESTRO = Path(sys.executable).parent / "maestro"
SECRET = "e2e-queue-secret"

pytestmark = pytest.mark.slow

_spec = importlib.util.spec_from_file_location("queue_redis_server", Path(__file__).parents[1] / "queue" / "redis_server.py")
assert _spec is not None and _spec.loader is not None
redis_server_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(redis_server_module)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Redis of this test's own: some tests pull it away."""
    server = redis_server_module.RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "MAESTRO_QUEUE_SECRET": SECRET, **extra}


def start_worker(redis_url: str, name: str, *args: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MAESTRO), "worker", "--queue", redis_url, "--name", name, "--json", *args],
        cwd=cwd, env=env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def start_run(plan: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MAESTRO), "run-plan", str(plan), *args],
        cwd=plan.parent, env=env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_workers(redis_url: str, *names: str) -> None:
    """Until each worker has sent its first heartbeat: it is reading the queue."""
    import redis

    from maestro_cli.queue.streams import live_workers

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    for _ in range(1200):
        if set(names) <= live_workers(client).keys():
            return
        time.sleep(0.05)
    raise AssertionError(f"workers {names} never started")


def wait_for_result(redis_url: str) -> None:
    """Until a worker has stored a result on the (only) run's results stream."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    for _ in range(1200):
        for stream in client.keys("maestro:streams:automation:results:*"):
            if any('"kind":"result"' in fields["body"] for _, fields in client.xrange(stream)):
                return
        time.sleep(0.05)
    raise AssertionError("no worker reported a result")


def stop_worker(process: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGTERM, as a service manager stops a worker; its --json summary says what it did."""
    process.send_signal(signal.SIGTERM)
    code, out, err = finish(process)
    assert code == 130, err
    return json.loads(out)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def wait_for(path: Path) -> None:
    for _ in range(600):
        if path.exists() and path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def results_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text())


def steps_of(folder: Path) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in results_of(folder)["steps"]}


def shape(value: Any) -> Any:
    """The keys of a document, recursively: what a reader of results.json relies on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def test_fifty_steps_on_two_workers_each_counted_once_like_a_local_run(redis_server: Any, tmp_path: Path) -> None:
    steps = "".join(
        f"  - id: s{n:02d}\n    run: echo \"$MAESTRO_STEP_ID\" >> ran.txt; echo step {n}\n" for n in range(50)
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "version: 1\nname: fifty\nsteps:\n" + steps
        + "  - id: here\n    runs-on: local\n    run: echo here >> ran-here.txt\n"
        + "  - id: broken\n    needs: [s49]\n    run: echo broken; exit 4\n"
    )
    workers = [start_worker(redis_server.url, name, "--concurrency", "2", cwd=tmp_path) for name in ("w1", "w2")]
    wait_for_workers(redis_server.url, "w1", "w2")

    code, out, err = finish(start_run(plan, "--queue", redis_server.url, "--results", "distributed", "--json"))
    summaries = [stop_worker(worker) for worker in workers]

    assert code == 1, err  # `broken` fails the run, exactly as locally
    assert json.loads(out)["results_dir"].endswith("distributed")
    assert sorted((tmp_path / "ran.txt").read_text().split()) == [f"s{n:02d}" for n in range(50)]  # each ran once
    assert (tmp_path / "ran-here.txt").read_text() == "here\n"
    assert sum(s["ran"] for s in summaries) == 51  # 50 steps and `broken`; `here` ran on the coordinator
    assert all(s["ran"] > 0 for s in summaries), summaries
    distributed = steps_of(tmp_path / "distributed")
    assert [(s["outcome"], len(s["attempts"])) for s in distributed.values()].count(("passed", 1)) == 51
    assert (distributed["broken"]["outcome"], distributed["broken"]["exit_code"]) == ("failed", 4)
    assert "step 7\n" in (tmp_path / "distributed" / "logs" / "s07.log").read_text()

    (tmp_path / "ran.txt").unlink()
    local_code, _, _ = finish(start_run(plan, "--jobs", "2", "--results", "local"))
    local = tmp_path / "local"
    assert local_code == code
    assert {k: (v["outcome"], v["exit_code"]) for k, v in steps_of(local).items()} == {
        k: (v["outcome"], v["exit_code"]) for k, v in distributed.items()
    }
    assert shape(results_of(local)) == shape(results_of(tmp_path / "distributed"))
    assert sorted(p.name for p in (local / "logs").iterdir()) == sorted(p.name for p in (tmp_path / "distributed" / "logs").iterdir())
    assert (local / "junit.xml").read_text().count("<testsuite ") == (tmp_path / "distributed" / "junit.xml").read_text().count("<testsuite ")


def test_a_worker_killed_mid_step_loses_nothing_and_counts_nothing_twice(redis_server: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        version: 1
        steps:
          - id: slow
            run: echo $$ > slow.pid; echo "$MAESTRO_ATTEMPT" >> slow.runs; sleep 2; echo done >> slow.done
          - id: after
            needs: [slow]
            run: echo after
        """))
    first = start_worker(redis_server.url, "first", "--claim-idle", "2", cwd=tmp_path)
    wait_for_workers(redis_server.url, "first")
    run = start_run(plan, "--queue", redis_server.url, "--results", "out")
    wait_for(tmp_path / "slow.pid")

    first.kill()  # SIGKILL: no hand-back, no goodbye
    os.killpg(int((tmp_path / "slow.pid").read_text()), signal.SIGKILL)  # the machine is gone, its step too
    first.wait()
    second = start_worker(redis_server.url, "second", "--claim-idle", "2", cwd=tmp_path)
    code, _, err = finish(run)
    summary = stop_worker(second)

    assert code == 0, err
    steps = steps_of(tmp_path / "out")
    assert [(s["outcome"], len(s["attempts"])) for s in steps.values()] == [("passed", 1), ("passed", 1)]
    assert (tmp_path / "slow.runs").read_text() == "1\n1\n"  # the same attempt, run again by the second worker
    assert (tmp_path / "slow.done").read_text() == "done\n"
    assert (summary["reclaimed"], summary["ran"]) == (1, 2)
    assert "worker first stopped; worker second runs the attempt again" in (tmp_path / "out" / "logs" / "slow.log").read_text()


def test_a_job_altered_in_the_queue_is_refused_and_never_runs(redis_server: Any, tmp_path: Path) -> None:
    import redis

    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nsteps:\n  - id: greet\n    run: echo harmless\n")
    run = start_run(plan, "--queue", redis_server.url, "--results", "out")
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    stream = "maestro:streams:automation:jobs"
    for _ in range(600):
        if client.xlen(stream):
            break
        time.sleep(0.05)
    [(entry_id, fields)] = client.xrange(stream)
    client.xdel(stream, entry_id)
    client.xadd(stream, {**fields, "body": fields["body"].replace("echo harmless", "touch pwned")})  # signature kept

    worker = start_worker(redis_server.url, "w1", "--exit-when-idle", "2", cwd=tmp_path)
    code, _, err = finish(run)
    worker_code, worker_out, worker_err = finish(worker)

    assert code == 1, err
    assert not (tmp_path / "pwned").exists()
    [step] = results_of(tmp_path / "out")["steps"]
    assert step["outcome"] == "failed"
    assert step["message"] == (
        "worker w1 refused the job: refused job: signature does not match: the message was altered or signed with another secret"
    )
    assert (worker_code, json.loads(worker_out)["refused"]) == (0, 1)
    errors = [json.loads(fields["body"]) for _, fields in client.xrange("maestro:streams:automation:errors")]
    assert [(e["kind"], e["step_id"]) for e in errors] == [("refused", "greet")]


def test_redis_going_away_mid_run_is_a_clear_error_with_partial_results(redis_server: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        version: 1
        steps:
          - id: first
            run: echo first
          - id: long
            needs: [first]
            run: echo started > long.started; sleep 60
          - id: last
            needs: [long]
            run: echo last
        """))
    worker = start_worker(redis_server.url, "w1", cwd=tmp_path)
    run = start_run(plan, "--queue", redis_server.url, "--results", "out")
    wait_for(tmp_path / "long.started")

    redis_server.stop()
    code, _, err = finish(run, timeout=60)
    worker_code, _, worker_err = finish(worker, timeout=60)

    assert code == 1
    lines = err.splitlines()
    assert f"error: lost the queue mid-run: cannot reach Redis at {redis_server.url}: " in "\n".join(lines)
    assert f"hint: partial results in {tmp_path / 'out'}" in lines or "hint: partial results in out" in lines
    assert "Traceback" not in err
    steps = steps_of(tmp_path / "out")
    assert [steps[s]["outcome"] for s in ("first", "long", "last")] == ["passed", "failed", "skipped"]
    assert steps["long"]["message"].startswith("lost the queue mid-run: cannot reach Redis at")
    assert worker_code == 1 and f"error: cannot reach Redis at {redis_server.url}" in worker_err


def test_a_worker_stopped_with_sigterm_hands_its_job_back_at_once(redis_server: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nsteps:\n  - id: long\n    run: echo \"$MAESTRO_ATTEMPT\" >> long.runs; sleep 1\n")
    first = start_worker(redis_server.url, "first", cwd=tmp_path)  # --claim-idle stays 60 s: no waiting for it
    wait_for_workers(redis_server.url, "first")
    run = start_run(plan, "--queue", redis_server.url, "--results", "out")
    wait_for(tmp_path / "long.runs")

    first_summary = stop_worker(first)
    second = start_worker(redis_server.url, "second", cwd=tmp_path)
    code, _, err = finish(run)
    summary = stop_worker(second)

    assert (first_summary["stopped"], first_summary["handed_back"]) == ("interrupted", 1)
    assert code == 0, err
    assert (summary["ran"], summary["reclaimed"]) == (1, 0)  # taken as a fresh job, not reclaimed
    assert [(s["outcome"], len(s["attempts"])) for s in results_of(tmp_path / "out")["steps"]] == [("passed", 1)]


def test_ctrl_c_on_the_coordinator_stops_the_step_on_the_worker(redis_server: Any, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nsteps:\n  - id: long\n    run: echo $$ > long.pid; sleep 60\n")
    worker = start_worker(redis_server.url, "w1", cwd=tmp_path)
    wait_for_workers(redis_server.url, "w1")
    run = start_run(plan, "--queue", redis_server.url, "--results", "out")
    wait_for(tmp_path / "long.pid")

    run.send_signal(signal.SIGINT)
    code, _, err = finish(run, timeout=60)
    wait_for_result(redis_server.url)  # the worker notices the cancel on its next tick and reports
    summary = stop_worker(worker)

    assert code == 130, err
    [step] = results_of(tmp_path / "out")["steps"]
    assert step["outcome"] == "cancelled"
    assert (summary["ran"], summary["failed"]) == (1, 1)  # the worker stopped it and said so
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "long.pid").read_text()), 0)
