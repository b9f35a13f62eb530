"""Distributed run-plan overhead: the same plans through `maestro worker`s on Redis and locally.

1. 1,000 no-op steps: two local workers (one step at a time each) beside the same plan run
   locally with `--jobs 2`; the ratio, and the overhead per step the queue adds.
2. 40 steps of `sleep 1` on 4 workers × 10 concurrency: every step at once, so wall ≈ 1–2 s;
   beside the same plan run locally with `--jobs 40`.

A redis-server of its own on a free loopback port, without persistence. Prints a Markdown table:
wall time of the whole `maestro run-plan` (start-up included) and of the run itself (results.json
`started` to `finished`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plan import plan, run_seconds  # bench/plan.py: the same plans, timed the same way

MAESTRO = Path(sys.executable).parent / "maestro"
SECRET = "bench-queue-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait()


@contextmanager
def workers(url: str, count: int, concurrency: int, folder: Path) -> Iterator[None]:
    """``count`` workers, ready (their consumer groups made) before the plan starts; SIGTERM at the end."""
    env = {**os.environ, "MAESTRO_QUEUE_SECRET": SECRET}
    started = [
        subprocess.Popen(
            [str(MAESTRO), "-q", "worker", "--queue", url, "--name", f"bench-{count}x{concurrency}-{n}", "--concurrency", str(concurrency)],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]
    wait_for_workers(url, [f"bench-{count}x{concurrency}-{n}" for n in range(count)])  # start-up is not measured
    try:
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)


def wait_for_workers(url: str, names: list[str]) -> None:
    """Until every worker has sent its first heartbeat (``maestro:workers:<name>``)."""
    import redis

    from maestro_cli.queue.streams import live_workers

    client = redis.Redis.from_url(url, decode_responses=True)
    for _ in range(600):
        if set(names) <= live_workers(client).keys():
            return
        time.sleep(0.1)
    raise SystemExit(f"workers {names} did not start")


def run_plan(plan_file: Path, results: str, *args: str) -> tuple[float, float]:
    """(wall seconds of the command, seconds of the run itself from results.json)."""
    env = {**os.environ, "MAESTRO_QUEUE_SECRET": SECRET}
    start = time.perf_counter()
    subprocess.run([str(MAESTRO), "-q", "run-plan", str(plan_file), "--results", results, *args],
                   cwd=plan_file.parent, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, run_seconds(plan_file.parent / results)


def median_pair(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maestro-bench-distributed-") as tmp:
        folder = Path(tmp)
        noop = plan(folder, "noop", "true", 1000)
        sleeps = plan(folder, "sleeps", "sleep 1", 40)
        local, queued, sleeping, sleeping_here = [], [], [], []
        with redis_server(folder) as url:
            for run in range(args.runs):
                local.append(run_plan(noop, f"local-{run}", "--jobs", "2"))
                sleeping_here.append(run_plan(sleeps, f"sleeps-here-{run}", "--jobs", "40"))
            with workers(url, 2, 1, folder):
                for run in range(args.runs):
                    queued.append(run_plan(noop, f"queued-{run}", "--queue", url))
            with workers(url, 4, 10, folder):
                for run in range(args.runs):
                    sleeping.append(run_plan(sleeps, f"sleeps-{run}", "--queue", url))
    (local_wall, local_run), (queue_wall, queue_run) = median_pair(local), median_pair(queued)
    (sleep_wall, sleep_run), (here_wall, here_run) = median_pair(sleeping), median_pair(sleeping_here)
    per_step_ms = (queue_run - local_run) / 1000 * 1000
    print(f"### distributed run-plan (median of {args.runs} run(s); wall includes start-up)\n")
    print("| workload | maestro run-plan --queue | locally | ratio (wall / run) | target |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| 1,000 no-op steps: 2 workers × 1 vs `--jobs 2` | {queue_wall:.2f} s (run {queue_run:.2f} s) "
        f"| {local_wall:.2f} s (run {local_run:.2f} s) | {queue_wall / local_wall:.2f}× / {queue_run / local_run:.2f}× "
        f"| overhead per step: {per_step_ms:+.2f} ms |"
    )
    print(
        f"| 40 × `sleep 1`: 4 workers × 10 vs `--jobs 40` | {sleep_wall:.2f} s (run {sleep_run:.2f} s) "
        f"| {here_wall:.2f} s (run {here_run:.2f} s) | {sleep_wall / here_wall:.2f}× / {sleep_run / here_run:.2f}× "
        f"| wall ≈ 1–2 s (run) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
