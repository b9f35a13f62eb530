"""plan.yaml -> a validated :class:`~maestro_cli.plan.model.Plan`, or every problem in it at once.

The order of work: YAML with positions, the JSON Schema, then what a schema cannot say: templates,
matrix expansion and duplicate ids here, then unknown needs/services/adapters, cycles and adapter
options in :mod:`~maestro_cli.plan.checks`. Each problem becomes one ``file:line:col: path: message``
line, sorted by position, in one PlanError.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import redaction
from ..adapters.registry import Registry
from ..errors import Location, PlanError
from . import checks, expressions, schema
from .expressions import Deferred, TemplateError
from .model import DEFAULT_ADAPTER, DEFAULT_TIMEOUT, HealthCheck, Plan, Service, Step
from .yamlsource import Source, YamlPath, dotted, load

_ID_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# an id names its log, logs/<id>.log, and file names stop at 255 bytes
_ID_LENGTH_MAX = 200


class Problems:
    """Problems with their positions, reported sorted by line and column, each once."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._found: dict[str, Location] = {}

    def add(self, path: YamlPath, message: str, *, key: bool = False, at: YamlPath | None = None) -> None:
        where = self.source.location(path if at is None else at, key=key)
        label = dotted(path)
        self._found.setdefault(f"{where}: {label}: {message}" if label else f"{where}: {message}", where)

    def raise_if_any(self, extra: list[str]) -> None:
        if self._found or extra:
            ordered = sorted(self._found.items(), key=lambda item: (item[1].line or 0, item[1].column or 0))
            raise PlanError(extra + [text for text, _ in ordered])


def load_plan(
    path: Path,
    registry: Registry,
    *,
    variables: Mapping[str, str] | None = None,
    require_secrets: bool = True,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> Plan:
    """Load, expand and check a plan; raises PlanError listing every problem.

    ``require_secrets=False`` lets ``--check`` and ``--dry-run`` work where the secrets are not set.
    ``cache_dir`` remembers what plan texts parsed to (see :func:`yamlsource.load`) and documents
    that passed the JSON Schemas (see :func:`schema.problems`).
    """
    verdicts = cache_dir / "plan-schema-verdicts" if cache_dir is not None else None
    env_in = dict(os.environ if environ is None else environ)
    source = load(path, shown_as=str(path), cache_dir=cache_dir)
    problems = Problems(source)
    data = source.data
    if not isinstance(data, dict):
        raise PlanError([f"{source.location(())}: a plan is a mapping with `version:` and `steps:`"])
    misshapen: set[int] = set()  # steps the schema found a problem in ('rn:' for 'run:', 'run: []')
    for found in schema.problems(data, schema.plan_schema(), verdicts=verdicts):
        problems.add(found.path, found.message, key=found.key is not None, at=found.key)
        if len(found.path) >= 2 and found.path[0] == "steps":
            misshapen.add(int(found.path[1]))

    secrets = _secrets(data, env_in, require_secrets, problems)
    plan_vars = {**_mapping(data.get("vars")), **(variables or {})}
    base = {"env": env_in, "vars": plan_vars, "secrets": secrets}
    plan_env = _strings(_render(data.get("env"), base, ("env",), problems))
    context = {**base, "env": {**env_in, **plan_env}}
    workdir = path.resolve().parent
    builder = StepBuilder(source, problems, context, workdir, _mapping(data.get("defaults")), plan_env)
    for index, raw in enumerate(data.get("steps") or []):
        if isinstance(raw, dict):
            builder.expand(index, raw)
    plan = Plan(
        name=str(data.get("name") or path.stem),
        file=str(path),
        workdir=workdir,
        env=plan_env,
        vars=plan_vars,
        secrets=secrets,
        shareable_secrets=_names(data.get("shareable-secrets")),  # issue 8
        services=_services(data, context, workdir, plan_env, problems),
        steps=[step for step, _ in builder.steps],
    )
    checks.expand_need_patterns(plan, builder, problems)
    checks.check_graph(plan, builder, problems)
    checks.check_adapters(builder, registry, problems, verdicts, misshapen)
    problems.raise_if_any(list(source.problems))
    return plan


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []


def _strings(values: Any) -> dict[str, str]:
    """Environment values as a process sees them: YAML's true is "true", 3.0 is "3.0"."""
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in _mapping(values).items()}


def _names(value: Any) -> tuple[str, ...]:
    """``needs: build`` or ``needs: [build, lint]`` as names."""
    return () if value is None else tuple(str(item) for item in _list(value))


def _render(value: Any, context: Mapping[str, Any], path: YamlPath, problems: Problems, *, defer: bool = False) -> Any:
    """Render templates now, or (``defer``) keep those reading ``steps.*`` for run time."""
    if value is None:  # most keys of most steps are absent
        return None
    if isinstance(value, str):
        if expressions.TEMPLATE_START not in value:
            return value
        try:
            if defer and expressions.reads_steps(value):
                return Deferred(value)
            return expressions.render(value, context)
        except TemplateError as exc:
            problems.add(path, str(exc))
            return value
    if isinstance(value, list):
        return [_render(item, context, (*path, i), problems, defer=defer) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: _render(item, context, (*path, k), problems, defer=defer) for k, item in value.items()}
    return value


def _secrets(data: dict[str, Any], environ: Mapping[str, str], required: bool, problems: Problems) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for index, name in enumerate(_list(data.get("secrets"))):
        if not isinstance(name, str):
            continue
        value = environ.get(name)
        if value is None:
            if required and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):  # a bad name is the schema's to report
                problems.add(("secrets", index), f"environment variable {name} is not set")
            value = ""
        redaction.register(value)
        secrets[name] = value
    return secrets


def _services(data: dict[str, Any], context: dict[str, Any], workdir: Path, plan_env: dict[str, str], problems: Problems) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for name, raw in _mapping(data.get("services")).items():
        if not isinstance(raw, dict) or "run" not in raw:
            continue
        path: YamlPath = ("services", name)
        spec = _render(raw, context, path, problems)
        health = _mapping(spec.get("health"))
        kind = next((k for k in ("http", "tcp", "cmd") if k in health), None)
        check = None
        if kind is not None:
            check = HealthCheck(kind, str(health[kind]), **{k: float(health[k]) for k in ("timeout", "interval") if k in health})
        services[name] = Service(
            name=name,
            run=spec["run"] if isinstance(spec["run"], str) else [str(a) for a in spec["run"]],
            env={**plan_env, **_strings(spec.get("env"))},
            cwd=workdir / str(spec.get("cwd", ".")),
            health=check,
            location=problems.source.location(path, key=True),
        )
    return services


class StepBuilder:
    """Expands each step's matrix and renders what can be rendered before the run."""

    def __init__(self, source: Source, problems: Problems, context: dict[str, Any], workdir: Path, defaults: dict[str, Any], plan_env: dict[str, str]) -> None:
        self.source = source
        self.problems = problems
        self.context = context
        self.workdir = workdir
        self.defaults = defaults
        self.plan_env = plan_env
        self.steps: list[tuple[Step, int]] = []  # each expanded step and the index it came from
        self.first_seen: dict[str, tuple[Location, int]] = {}  # id: where, and the index of its step

    def expand(self, index: int, raw: dict[str, Any]) -> None:
        matrix = raw.get("matrix")
        combinations = (matrix_combinations(matrix) if isinstance(matrix, dict) else []) or [{}]
        varying = {axis for combination in combinations for axis, value in combination.items() if any(c.get(axis) != value for c in combinations)}
        for combination in combinations:
            self._build(index, raw, combination, varying)

    def _build(self, index: int, raw: dict[str, Any], combination: dict[str, Any], varying: set[str]) -> None:
        path: YamlPath = ("steps", index)
        context = {**self.context, "matrix": combination}

        def field(name: str, *, defer: bool = True) -> Any:
            return _render(raw.get(name), context, (*path, name), self.problems, defer=defer)

        step_id = field("id", defer=False)
        if not isinstance(step_id, str) or expressions.is_template(step_id):
            return  # no id, or one whose template failed (that is reported): nothing to say about it
        location = self.source.location((*path, "id"))
        if not step_id or not set(step_id) <= _ID_CHARACTERS or step_id[0] in ".-_":
            self.problems.add((*path, "id"), f"'{step_id}' is not a valid step id: use letters, digits, '_', '.' and '-', starting with a letter or digit")
        elif len(step_id) > _ID_LENGTH_MAX:
            self.problems.add((*path, "id"), f"a step id is at most {_ID_LENGTH_MAX} characters long (it names the step's log file), not {len(step_id)}")
        elif step_id in self.first_seen:
            first, first_index = self.first_seen[step_id]
            hint = _duplicate_hint(str(raw["id"]), varying) if first_index == index else ""
            self.problems.add((*path, "id"), f"duplicate step id '{step_id}', first at {first}{hint}")
        else:
            self.first_seen[step_id] = (location, index)
        condition_text = raw.get("if", "success()")
        # anything but a string or a boolean is the schema's to report; the step is not run anyway
        condition = expressions.condition_expression(condition_text if isinstance(condition_text, str | bool) else "success()")
        if condition not in expressions.STATUS_CONDITIONS:
            try:
                expressions.compile_condition(condition)
            except TemplateError as exc:
                self.problems.add((*path, "if"), str(exc))
        timeout = raw.get("timeout", self.defaults.get("timeout", DEFAULT_TIMEOUT))
        run = field("run")
        step = Step(
            id=step_id,
            name=field("name", defer=False) if "name" in raw else None,
            adapter=str(raw.get("adapter", self.defaults.get("adapter", DEFAULT_ADAPTER))),
            location=location,
            run=[a if isinstance(a, str) else str(a) for a in run] if isinstance(run, list) else run,
            options=_mapping(field("with")),
            env={**self.plan_env, **_strings(field("env"))},
            cwd=field("cwd"),
            needs=_names(raw.get("needs")),
            condition=condition,
            timeout=float(timeout) if isinstance(timeout, int | float) else DEFAULT_TIMEOUT,
            retries=int(raw.get("retries", self.defaults.get("retries", 0)) or 0),
            continue_on_error=self._flag("continue-on-error", raw, context, path),
            services=_names(raw.get("services")),
            outputs=_names(raw.get("outputs")),
            tags=_names(raw.get("tags")),
            runs_on=_names(raw.get("runs-on")),  # distributed run-plan (issue 8)
            matrix=combination,
        )
        self.steps.append((step, index))

    def _flag(self, name: str, raw: dict[str, Any], context: dict[str, Any], path: YamlPath) -> bool:
        """A true/false key that may be an expression, as GitHub allows: ``${{ matrix.experimental }}``."""
        written = raw.get(name)
        if written is None or isinstance(written, bool):  # not written (or empty), or plainly true/false
            return bool(written)
        value = _render(written, context, (*path, name), self.problems)
        flag = _rendered_flag(value)
        # a wrong type is the schema's to report, a template that failed stays as written (reported)
        if flag is None and expressions.is_template(written) and not expressions.is_template(value):
            self.problems.add((*path, name), f"must be true or false, not '{value}'")
        return bool(flag)


def _rendered_flag(value: Any) -> bool | None:
    """true/false as a template renders them (jinja writes True, YAML-minded users write true)."""
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).strip().lower())


def _duplicate_hint(raw_id: str, varying: set[str]) -> str:
    """Why one step's matrix gives an id twice: the id leaves out an axis, or the matrix repeats itself."""
    missing = sorted(axis for axis in varying if not re.search(rf"matrix\.{re.escape(axis)}\b", raw_id))
    if missing:
        return f" (add {' '.join('${{ matrix.%s }}' % axis for axis in missing)} to the id)"
    return " (the matrix lists that combination twice)"


def matrix_combinations(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """GitHub Actions' matrix: the product of the lists, less ``exclude`` matches, plus ``include``."""
    axes = [(name, values) for name, values in matrix.items() if name not in ("include", "exclude") and isinstance(values, list) and values]
    combinations = [dict(zip([n for n, _ in axes], combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]
    excluded = [entry for entry in _list(matrix.get("exclude")) if isinstance(entry, dict)]
    combinations = [c for c in combinations if not any(all(c.get(k) == v for k, v in entry.items()) for entry in excluded)]
    for entry in _list(matrix.get("include")):
        if isinstance(entry, dict) and entry not in combinations:
            combinations.append(dict(entry))
    return combinations
