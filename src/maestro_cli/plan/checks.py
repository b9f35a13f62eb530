"""What the loader checks once every step is built: needs, cycles, what templates read, adapters.

Each check adds its findings to the loader's :class:`~maestro_cli.plan.loader.Problems`, located
through the built steps' indexes in the plan's YAML.
"""

from __future__ import annotations

import collections
import fnmatch
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adapters.base import StepSpec
from ..adapters.registry import Registry
from ..errors import did_you_mean
from . import expressions, graph, schema
from .expressions import Deferred, TemplateError
from .model import Plan, Step
from .yamlsource import YamlPath

if TYPE_CHECKING:
    from .loader import Problems, StepBuilder


def expand_need_patterns(plan: Plan, builder: StepBuilder, problems: Problems) -> None:
    """``needs: [smoke-*]`` stands for every step whose id matches, such as a matrix's steps."""
    ids = [step.id for step in plan.steps]
    for step, index in builder.steps:
        expanded: list[str] = []
        for position, need in enumerate(step.needs):
            if not any(char in need for char in "*?["):
                expanded.append(need)
                continue
            matches = [other for other in ids if other != step.id and fnmatch.fnmatchcase(other, need)]
            if not matches:
                at = ("steps", index, "needs", position) if isinstance(builder.source.data["steps"][index].get("needs"), list) else None
                if fnmatch.fnmatchcase(step.id, need):
                    problems.add(("steps", index, "needs"), f"'{need}' matches only this step itself", at=at)
                else:
                    problems.add(("steps", index, "needs"), f"no step matches '{need}'{did_you_mean(need, ids)}", at=at)
            expanded += matches
        step.needs = tuple(dict.fromkeys(expanded))


def check_graph(plan: Plan, builder: StepBuilder, problems: Problems) -> None:
    """Unknown needs and services, steps.* read without needing the step, and cycles."""
    ids = [step.id for step in plan.steps]
    known = set(ids)
    for step, index in builder.steps:
        path: YamlPath = ("steps", index)
        for position, need in enumerate(step.needs):
            if need not in known:
                at = (*path, "needs", position) if isinstance(builder.source.data["steps"][index].get("needs"), list) else None
                problems.add((*path, "needs"), f"unknown step '{need}'{did_you_mean(need, ids)}", at=at)
        for position, name in enumerate(step.services):
            if name not in plan.services:
                problems.add((*path, "services"), f"unknown service '{name}'{did_you_mean(name, plan.services)}", at=(*path, "services", position))
    by_id = {step.id: step for step in plan.steps}
    cycles = graph.find_cycles({step.id: [n for n in step.needs if n in known] for step in plan.steps})
    for cycle in cycles:
        first = next(index for step, index in builder.steps if step.id == cycle[0])
        problems.add(("steps", first, "needs"), f"dependency cycle: {' -> '.join(cycle)}")
    if cycles:
        return
    ancestors = graph.ancestors({step.id: [n for n in step.needs if n in known] for step in plan.steps})
    for step, index in builder.steps:
        for field_name, text in _templates_of(step):
            try:
                refs = expressions.condition_references(text) if field_name == "if" else expressions.step_references(text)
            except TemplateError:  # does not parse: reported where the step was built
                continue
            for ref in sorted(refs):
                if ref not in by_id:
                    problems.add(("steps", index, field_name), f"reads steps.{ref}, an unknown step{did_you_mean(ref, ids)}")
                elif ref not in ancestors[step.id]:
                    problems.add(("steps", index, field_name), f"reads steps.{ref} but does not need it: add '{ref}' to needs")
        _try_condition(step, index, builder, ids, problems)


def _try_condition(step: Step, index: int, builder: StepBuilder, ids: list[str], problems: Problems) -> None:
    """Evaluate an ``if:`` once now, with every step passed, so that a typo fails before the run."""
    try:
        if step.condition in expressions.STATUS_CONDITIONS or not expressions.condition_references(step.condition) <= set(ids):
            return  # nothing to try, or an unknown step already reported
    except TemplateError:  # does not parse: reported where the step was built
        return
    probe_steps = {step_id: {"outcome": "passed", "outputs": collections.defaultdict(str)} for step_id in ids}
    functions = {name[:-2]: (lambda: True) for name in expressions.STATUS_CONDITIONS}
    try:
        expressions.evaluate(step.condition, {**builder.context, "matrix": step.matrix, "steps": probe_steps, **functions})
    except TemplateError as exc:
        problems.add(("steps", index, "if"), str(exc))


def _templates_of(step: Step) -> list[tuple[str, str]]:
    """Every deferred template of a step, and the condition, with the key they were written under."""
    found: list[tuple[str, str]] = [("if", step.condition)]

    def walk(name: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Deferred):
            found.append((name, str(value)))
        elif isinstance(value, list):
            for item in value:
                walk(name, item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(name, item)

    for name, value in (("run", step.run), ("with", step.options), ("env", step.env), ("cwd", step.cwd)):
        walk(name, value)
    return found


def check_adapters(builder: StepBuilder, registry: Registry, problems: Problems, verdicts: Path | None, misshapen: set[int]) -> None:
    """Each step's `with:` against its adapter's schema, then the adapter's own checks.

    The adapter's checks are left out for a step the plan's schema already found wrong: 'rn: echo'
    or 'run: []' would also be "the shell adapter needs `run:`", a second line for one mistake.
    """
    by_options: dict[tuple[str, str], list[schema.SchemaProblem]] = {}  # 500 shell steps: one check
    for step, index in builder.steps:
        path: YamlPath = ("steps", index)
        info = registry.adapters.get(step.adapter)
        if info is None:
            at = (*path, "adapter") if "adapter" in builder.source.data["steps"][index] else ("defaults", "adapter")
            problems.add(at, f"unknown adapter '{step.adapter}'{did_you_mean(step.adapter, registry.adapters)}")
            continue
        adapter = info.adapter
        if not isinstance(builder.source.data["steps"][index].get("with", {}), dict):
            continue  # `with:` that is no mapping is reported by the plan's schema, once
        key = (step.adapter, json.dumps(step.options, sort_keys=True, default=str) if step.options else "{}")
        if key not in by_options:
            by_options[key] = schema.problems(step.options, adapter.options_schema, verdicts=verdicts)
        for found in by_options[key]:
            if not _is_deferred_at(step.options, found.path):
                at = (*path, "with", *found.key) if found.key is not None else None
                problems.add((*path, "with", *found.path), found.message, key=at is not None, at=at)
        if index in misshapen:
            continue
        spec = StepSpec(id=step.id, adapter=step.adapter, options=step.options, run=step.run, env=step.env, timeout=step.timeout)
        for message in adapter.check(spec):
            problems.add(path, message, at=(*path, "id"))


def _is_deferred_at(options: Any, path: YamlPath) -> bool:
    """A value that is still a template cannot be checked against the adapter's schema yet."""
    value = options
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(value, Deferred)
