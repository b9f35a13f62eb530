"""`maestro run-plan --queue`: the same run as a local one, with the steps executed by workers.

:func:`execute_on_queue` takes what :func:`maestro_cli.plan.run.execute` takes and returns what it
returns, so the command swaps one for the other: the scheduler, the results folder, the exit
codes and ``maestro report`` cannot tell a distributed run from a local one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..plan.executor import LocalExecutor
from ..plan.records import RunReport
from ..plan.run import PreparedPlan, execute
from ..plan.scheduler import Listener
from .connection import parse_queue_url
from .coordinator import QueueExecutor

# `runs-on: local`: the step runs on this machine, as do steps that use services (they run here).
LOCAL = "local"
# Steps waiting on workers cost the coordinator a sleeping thread each, not a CPU: without --jobs
# every step may be in the queue at once, up to this many.
MAX_QUEUED_STEPS = 256


def execute_on_queue(
    prepared: PreparedPlan,
    *,
    jobs: int,
    results_base: Path,
    settings: Mapping[str, Any],
    results_dir: Path | None = None,
    force: bool = False,
    fail_fast: bool = False,
    listener: Listener | None = None,
) -> RunReport:
    """Run the plan with its steps on ``maestro worker`` processes reading ``settings["queue"]``.

    Steps with ``runs-on: local`` or ``services:`` stay on this machine, where the services run;
    ``runs-on: [tags]`` sends a step to workers with all those tags. Only ``shareable-secrets``
    travel: a step whose job would carry another secret fails before it is sent. Results are written
    even when Redis goes away mid-run; then the run stops with that error (exit 1).
    """
    plan = prepared.plan
    local_steps = {step.id for step in plan.steps if step.services or LOCAL in step.runs_on}
    tags = {step.id: tuple(tag for tag in step.runs_on if tag != LOCAL) for step in plan.steps}
    executor = QueueExecutor(
        parse_queue_url(settings["queue"]),
        local=LocalExecutor(prepared.registry, settings),
        secret=settings.get("queue-secret"),
        runs_locally=lambda spec: spec.id in local_steps,
        tags_of=lambda spec: tags.get(spec.id, ()),
        secrets=plan.secrets,
        shareable=plan.shareable_secrets,
    )
    with executor:
        report = execute(
            prepared,
            jobs=jobs or min(max(len(prepared.selected), 1), MAX_QUEUED_STEPS),
            results_base=results_base,
            results_dir=results_dir,
            force=force,
            fail_fast=fail_fast,
            settings=settings,
            listener=listener,
            executor=executor,
        )
    if executor.lost is not None:
        lost = executor.lost
        lost.hint = f"partial results in {report.results_dir}"
        raise lost
    return report
