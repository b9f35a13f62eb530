"""The Redis operations both sides share: consumer groups, claims, runs, and putting jobs on a stream.

Claims are checked and changed in one Lua script each, atomically: between "is this job still
mine?" and "renew it" (or "acknowledge it") another worker must not be able to take it over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import (
    ERRORS_MAXLEN,
    ERRORS_STREAM,
    FINISHED_RUN_TTL,
    GROUP,
    JOBS_MAXLEN,
    RESULTS_MAXLEN,
    RUN_TTL,
    attempt_field,
    jobs_stream,
    results_stream,
    run_key,
    worker_key,
)
from .jobs import Job, seal

if TYPE_CHECKING:
    import redis

# Renew this worker's claim on a pending job only while it still owns it (a check and a claim in one
# atomic step): a job already taken over by another worker must stay with that worker.
RENEW_IF_OWNED = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 1 and pending[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
  return 1
end
return 0
"""
ACK_IF_OWNED = """
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 1 and pending[1][2] == ARGV[2] then
  return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
end
return 0
"""


def create_group(client: redis.Redis, stream: str) -> None:
    """The workers' consumer group on ``stream``, created with the stream when missing."""
    import redis

    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.exceptions.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def hand_back(client: redis.Redis, stream: str, message_id: str, fields: Mapping[str, str]) -> None:
    """Return an unfinished job to its stream at once, its signed fields unchanged."""
    pipe = client.pipeline(transaction=True)
    pipe.xadd(stream, dict(fields))
    pipe.xack(stream, GROUP, message_id)
    pipe.execute()


def open_run(client: redis.Redis, run_id: str) -> None:
    """Workers run a run's jobs only while its hash says ``running``."""
    pipe = client.pipeline(transaction=True)
    pipe.hset(run_key(run_id), mapping={"state": "running", "started": time.time()})
    pipe.expire(run_key(run_id), RUN_TTL)
    pipe.execute()


def enqueue(client: redis.Redis, job: Job, secret: str | None, document: Mapping[str, Any] | None = None) -> str:
    """Add ``job`` (signed when there is a secret) to its stream; returns the entry's id.

    The consumer group is the workers' to create, from the stream's first entry: jobs added before
    any worker started are read all the same.
    """
    pipe = client.pipeline(transaction=True)
    pipe.xadd(jobs_stream(job.tags), seal(document or job.to_document(), secret), maxlen=JOBS_MAXLEN, approximate=True)
    pipe.expire(run_key(job.run_id), RUN_TTL)
    message_id, _ = pipe.execute()
    return str(message_id)


def close_run(client: redis.Redis, run_id: str) -> None:
    """Mark the run finished, so that workers skip its leftover jobs, and let its keys expire."""
    pipe = client.pipeline(transaction=True)
    pipe.hset(run_key(run_id), "state", "finished")
    pipe.expire(run_key(run_id), FINISHED_RUN_TTL)
    pipe.expire(results_stream(run_id), FINISHED_RUN_TTL)
    pipe.execute()


def post_report(client: redis.Redis, report: Mapping[str, Any], secret: str | None) -> None:
    """A worker's news about an attempt (started, heartbeat, log) on the run's results stream."""
    client.xadd(results_stream(report["run_id"]), seal(report, secret), maxlen=RESULTS_MAXLEN, approximate=True)


def store_result(client: redis.Redis, report: Mapping[str, Any], secret: str | None) -> None:
    """An attempt's result and the run's ``done`` mark for it, in one MULTI; both keys expire."""
    stream, key = results_stream(report["run_id"]), run_key(report["run_id"])
    pipe = client.pipeline(transaction=True)
    pipe.xadd(stream, seal(report, secret), maxlen=RESULTS_MAXLEN, approximate=True)
    pipe.expire(stream, RUN_TTL, nx=True)
    pipe.hset(key, attempt_field("done", report["step_id"], report["attempt"]), report["worker"])
    pipe.expire(key, RUN_TTL, nx=True)
    pipe.execute()


def post_error(client: redis.Redis, entry: Mapping[str, Any], secret: str | None) -> None:
    client.xadd(ERRORS_STREAM, seal(entry, secret), maxlen=ERRORS_MAXLEN, approximate=True)


def live_workers(client: redis.Redis) -> dict[str, frozenset[str]]:
    """Every worker whose heartbeat key is alive (a dead worker's expires in seconds), with its tags."""
    keys = list(client.scan_iter(match=worker_key("*"), count=1000))
    workers: dict[str, frozenset[str]] = {}
    for key, value in zip(keys, client.mget(keys) if keys else [], strict=True):
        try:
            workers[key.removeprefix(worker_key(""))] = frozenset(json.loads(value).get("tags") or ())
        except (TypeError, ValueError, AttributeError):
            continue  # expired between SCAN and MGET, or not a maestro worker's
    return workers
