"""The two things ``maestro run-plan`` asks of this package: prepare a plan, and run it.

:func:`prepare` loads and validates the plan and works out which steps the selection flags pick;
:func:`execute` runs them, writes the results folder and emits ``plan.finished`` for the audit log.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import events
from ..adapters.registry import Registry, load_registry
from ..errors import UsageError, did_you_mean
from . import graph, plan_cache
from .model import Plan

if TYPE_CHECKING:
    from .executor import AttemptExecutor
    from .records import RunReport, StepRun
    from .scheduler import Listener


# only __init__ generated: the rest would be compiled at every start for nothing (see errors.Location)
@dataclass(repr=False, eq=False)
class PreparedPlan:
    """A loaded plan, the steps the selection picked and the adapters that run them."""

    plan: Plan
    selected: set[str]
    registry: Registry
    warnings: list[str] = field(default_factory=list)  # adapter plugins that failed to load

    def levels(self) -> list[list[str]]:
        return self.plan.levels(self.selected)


@dataclass(repr=False, eq=False)
class Selection:
    """What --only, --skip and --only-tags asked for."""

    only: list[str] = field(default_factory=list)  # ids or shell patterns (smoke-*); their needs come along
    skip: list[str] = field(default_factory=list)
    only_tags: list[str] = field(default_factory=list)


def prepare(
    plan_file: Path,
    *,
    variables: Mapping[str, str] | None = None,
    selection: Selection | None = None,
    require_secrets: bool = True,
    cache_dir: Path | None = None,
) -> PreparedPlan:
    if not plan_file.is_file():
        raise UsageError(f"no plan file at {plan_file}", hint="maestro run-plan PLAN.yaml")
    registry = load_registry(cache_dir=cache_dir)
    plan = _checked_plan(plan_file, registry, variables or {}, require_secrets, cache_dir)
    return PreparedPlan(plan, select(plan, selection or Selection()), registry, list(registry.problems))


def _checked_plan(plan_file: Path, registry: Registry, variables: Mapping[str, str], require_secrets: bool, cache_dir: Path | None) -> Plan:
    """The plan kept from an earlier run with exactly these inputs (see plan_cache), or loaded now."""
    key = plan_cache.plan_key(plan_file, registry, variables, require_secrets) if cache_dir is not None else None
    if cache_dir is not None and key is not None and (kept := plan_cache.read(cache_dir, key)) is not None:
        return kept
    from .loader import load_plan  # and the YAML, schema and template machinery behind it

    plan = load_plan(plan_file, registry, variables=variables, require_secrets=require_secrets, cache_dir=cache_dir)
    if cache_dir is not None and key is not None:
        plan_cache.write(cache_dir, key, plan, registry)
    return plan


def select(plan: Plan, selection: Selection) -> set[str]:
    """The step ids to run: ``--only``/``--only-tags`` with everything they need, minus ``--skip``."""
    ids = [step.id for step in plan.steps]
    needs = {step.id: list(step.needs) for step in plan.steps}
    chosen: set[str] = set(ids)
    if selection.only or selection.only_tags:
        picked = {step_id for pattern in selection.only for step_id in _matching("--only", pattern, ids)}
        tags = set(selection.only_tags)
        known_tags = {tag for step in plan.steps for tag in step.tags}
        for tag in tags - known_tags:
            raise UsageError(f"--only-tags: no step has the tag '{tag}'{did_you_mean(tag, known_tags)}")
        picked |= {step.id for step in plan.steps if tags & set(step.tags)}
        chosen = graph.with_needs(needs, picked)
    for pattern in selection.skip:
        chosen -= set(_matching("--skip", pattern, ids))
    return chosen


def _matching(option: str, pattern: str, ids: list[str]) -> list[str]:
    found = [step_id for step_id in ids if fnmatch.fnmatchcase(step_id, pattern)]
    if not found:
        # 'smoke' for a matrix's smoke-3.11, smoke-3.12: the pattern is what was meant
        prefix = not any(char in pattern for char in "*?[") and any(step_id.startswith(pattern) for step_id in ids)
        hint = f" (did you mean '{pattern}*'?)" if prefix else did_you_mean(pattern, ids)
        raise UsageError(f"{option}: no step matches '{pattern}'{hint}")
    return found


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def execute(
    prepared: PreparedPlan,
    *,
    jobs: int,
    results_base: Path,
    results_dir: Path | None = None,
    force: bool = False,
    fail_fast: bool = False,
    settings: Mapping[str, Any] | None = None,
    listener: Listener | None = None,
    executor: AttemptExecutor | None = None,
) -> RunReport:
    """Run the selected steps; results are written even when interrupted (``report.interrupted``)."""
    # here, not at the top: `run-plan --check` and `--dry-run` run nothing, and skip their import
    from .executor import LocalExecutor
    from .results import StepTexts, new_results_dir, write_results
    from .scheduler import RunOptions, Scheduler

    folder, run_id = new_results_dir(results_base, results_dir, force=force)
    # absolute: steps run in other folders and find $MAESTRO_OUTPUT and $MAESTRO_RESULTS_DIR from there
    options = RunOptions(jobs=jobs or default_jobs(), selected=prepared.selected, results_dir=folder.resolve(), run_id=run_id, fail_fast=fail_fast)
    chosen = executor or LocalExecutor(prepared.registry, settings)
    texts = StepTexts()

    def on_event(event: str, run: StepRun) -> None:
        texts.on_event(event, run)
        if listener is not None:
            listener(event, run)

    report = Scheduler(prepared.plan, chosen, options, on_event).run()
    written = write_results(report, texts)
    events.emit(
        "plan.finished",
        outcome=report.outcome,
        artifacts=[events.Artifact.from_file(written[0])],
        plan=prepared.plan.name,
        plan_file=prepared.plan.file,
        run_id=run_id,
        counts=report.counts(),
    )
    return report
