"""Distributed run-plan on Redis Streams: the coordinator enqueues steps, workers run them.

Redis is the engine; maestro only decides the key layout below, signs what travels, and counts
every (run, step, attempt) once. The layout, in one place so that both sides agree:

``maestro:streams:automation:jobs``
    steps any worker may run, read by the consumer group ``maestro-workers``;
``maestro:streams:automation:jobs:<tag>,<tag>``
    steps with ``runs-on: [tags]``, read only by workers that have every one of those tags;
``maestro:streams:automation:results:<run id>``
    what workers report for one run: started, heartbeat, log chunks, results;
``maestro:streams:automation:errors``
    the workers' own errors (a refused job, a missing adapter, an adapter that crashed);
``maestro:runs:<run id>``
    a hash: the run's state, which attempts are done and which the coordinator cancelled;
``maestro:workers:<name>``
    a live worker's presence (its tags, concurrency, jobs running), renewed by its heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

JOBS_STREAM = "maestro:streams:automation:jobs"
ERRORS_STREAM = "maestro:streams:automation:errors"
RESULTS_STREAM_PREFIX = "maestro:streams:automation:results:"
RUN_KEY_PREFIX = "maestro:runs:"
WORKER_KEY_PREFIX = "maestro:workers:"
GROUP = "maestro-workers"

# Streams are trimmed with MAXLEN ~ (whole macro nodes, cheap). The jobs stream keeps far more
# entries than any plan has steps, so trimming only ever drops long-acknowledged jobs.
JOBS_MAXLEN = 100_000
RESULTS_MAXLEN = 100_000
ERRORS_MAXLEN = 10_000
# A run's keys live a day while it runs (refreshed as it goes) and an hour once it finished, so a
# late duplicate result still finds its stream and nothing stays in Redis for good.
RUN_TTL = 24 * 3600
FINISHED_RUN_TTL = 3600
# Seven tags give 127 streams per worker; more is almost certainly a mistake.
MAX_WORKER_TAGS = 7


def jobs_stream(tags: Iterable[str] = ()) -> str:
    """The stream a step goes to: its ``runs-on`` tags, sorted, name it."""
    wanted = sorted(set(tags))
    return f"{JOBS_STREAM}:{','.join(wanted)}" if wanted else JOBS_STREAM


def streams_for_worker(tags: Iterable[str]) -> list[str]:
    """Every jobs stream a worker with ``tags`` may serve: untagged, and each subset of its tags."""
    own = sorted(set(tags))
    streams = [JOBS_STREAM]
    for size in range(1, len(own) + 1):
        streams += [jobs_stream(subset) for subset in combinations(own, size)]
    return streams


def results_stream(run_id: str) -> str:
    return RESULTS_STREAM_PREFIX + run_id


def run_key(run_id: str) -> str:
    return RUN_KEY_PREFIX + run_id


def worker_key(name: str) -> str:
    return WORKER_KEY_PREFIX + name


def attempt_field(prefix: str, step_id: str, attempt: int) -> str:
    """A field of the run hash about one attempt: ``done:<step>#<attempt>`` or ``cancel:...``."""
    return f"{prefix}:{step_id}#{attempt}"
