"""`maestro worker`: run the steps that `maestro run-plan --queue` puts on a Redis queue."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from ..context import get_state


def worker(
    ctx: typer.Context,
    queue: Annotated[
        str | None, typer.Option("--queue", help="redis:// or rediss:// URL of the queue (also: MAESTRO_QUEUE).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Jobs run at the same time.")] = 1,
    name: Annotated[str | None, typer.Option("--name", help="Consumer name in Redis (default: HOST-PID).")] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Comma-separated tags: also take steps whose `runs-on` names them.")
    ] = None,
    claim_idle: Annotated[
        float, typer.Option("--claim-idle", help="Take over jobs a worker stopped renewing for this many seconds.")
    ] = 60.0,
    max_jobs: Annotated[int | None, typer.Option("--max-jobs", help="Stop after this many jobs.")] = None,
    exit_when_idle: Annotated[
        float | None, typer.Option("--exit-when-idle", help="Stop after this many seconds without a job.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document when the worker stops.")] = False,
) -> int:
    """Take run-plan steps from a Redis queue and run them with this machine's adapters.

    Results go back to the coordinator (the `maestro run-plan --queue` process), which writes the
    results folder. Jobs are signed with MAESTRO_QUEUE_SECRET: set the same secret here and on the
    coordinator, and this worker refuses anything unsigned or altered. Ctrl-C (or SIGTERM) stops
    the running steps and hands their jobs back to the queue for another worker.

    Example: MAESTRO_QUEUE_SECRET=... maestro worker --queue redis://10.0.0.5:6379/0 --concurrency 4 --tags linux,gpu
    """
    from ..errors import ExitCode, UsageError
    from ..queue.connection import parse_queue_url
    from ..queue.worker import WorkerOptions, default_worker_name, serve

    state = get_state(ctx)
    console = state.for_command(json_output)
    settings = state.settings(queue=queue)
    if not settings["queue"]:
        raise UsageError("no queue given", hint="pass --queue redis://HOST:PORT/DB or set MAESTRO_QUEUE")
    secret = settings["queue-secret"]
    options = WorkerOptions(
        queue=parse_queue_url(settings["queue"]),
        name=name or default_worker_name(),
        concurrency=concurrency,
        tags=tuple(tag.strip() for tag in (tags or "").split(",") if tag.strip()),
        claim_idle=claim_idle,
        max_jobs=max_jobs,
        exit_when_idle=exit_when_idle,
        secret=secret,
    )
    options.check()
    if not secret:
        console.warning("MAESTRO_QUEUE_SECRET is not set: jobs are not signed, so anyone who can write to this Redis can run commands here")
    console.info(f"worker {options.name} serving {options.queue.display} ({concurrency} at a time)")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = serve(options, settings={key: value.value for key, value in settings.values.items()}, on_event=console.info)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if console.json_mode:
        console.print_json(summary.to_dict())
    else:
        console.info(
            f"worker {summary.name} stopped ({summary.stopped}): {summary.ran} job(s) run, {summary.passed} passed, "
            f"{summary.failed} failed, {summary.reclaimed} reclaimed, {summary.refused} refused, {summary.skipped} skipped, "
            f"{summary.handed_back} handed back"
        )
    return ExitCode.INTERRUPTED if summary.stopped == "interrupted" else ExitCode.OK


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a service manager stopping the worker) hands jobs back just as Ctrl-C does."""
    raise KeyboardInterrupt
