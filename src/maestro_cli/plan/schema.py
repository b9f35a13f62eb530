"""The published JSON Schema of a plan (``schema.json`` beside this module), and its errors in words.

jsonschema finds the problems; this module says them the way a person fixes them, at the line and
column of the offending key or value: ``steps[1]: unknown key 'neds' (did you mean 'needs'?)``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import did_you_mean
from . import schema_shapes
from .yamlsource import YamlPath

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = Path(__file__).with_name("schema.json")

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "empty",
}

_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
}


@functools.cache
def plan_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=64)
def _validator(schema_text: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inlined(json.loads(schema_text)))


# Keywords that describe and do not validate: a `$ref` beside only these is the schema it names.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default", "deprecated"})


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each ``{"$ref": "#/$defs/NAME"}`` replaced by that definition.

    The same validation, and the same errors at the same paths, at about half the time: jsonschema
    resolves a reference through its registry at every use (each of a plan's 500 steps is one).
    A schema with a reference that cannot be replaced (to itself, directly or not, or beside
    keywords that validate) is left as it is.
    """
    definitions = schema.get("$defs")
    if not isinstance(definitions, dict):
        return schema

    def resolved(node: Any, through: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [resolved(item, through) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/") and set(node) - {"$ref"} <= _ANNOTATIONS:
            name = reference.removeprefix("#/$defs/")
            if name in through or name not in definitions:
                raise _NotInlined(name)
            return resolved(definitions[name], (*through, name))
        return {key: value if key == "$defs" else resolved(value, through) for key, value in node.items()}

    try:
        inlined = {key: value for key, value in resolved(schema, ()).items() if key != "$defs"}
    except _NotInlined:
        return schema
    return schema if '"$ref"' in json.dumps(inlined) else inlined  # one left (beside a validating keyword)


class _NotInlined(Exception):
    """A reference that cannot be replaced by its definition: circular, or to none."""


class SchemaProblem(NamedTuple):
    path: YamlPath  # what the message is about
    message: str
    key: YamlPath | None = None  # the offending key, when the problem is a key rather than a value


def problems(instance: Any, schema: Mapping[str, Any], *, verdicts: Path | None = None) -> list[SchemaProblem]:
    """Every violation of ``schema`` in ``instance``, in words.

    ``verdicts`` is a cache folder of documents already found valid, by the sha256 of schema and
    document: a plan that has not changed since its last run skips jsonschema, whose import alone
    costs more than a no-op step.
    """
    schema_text = json.dumps(schema, sort_keys=True)
    marker = None
    if verdicts is not None:
        digest = hashlib.sha256((schema_text + json.dumps(instance, sort_keys=True, default=str)).encode()).hexdigest()
        marker = verdicts / digest
        if marker.exists():
            return []
    validator = _validator(schema_text)
    one_per_shape = schema_shapes.reduced(instance, validator.schema)
    if one_per_shape is not None and validator.is_valid(one_per_shape):
        found = []
    else:  # validated whole, so that each error names its own step
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        found = [problem for error in errors for problem in _explain(error)]
    if marker is not None and not found:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:  # a cache that cannot be written only costs time
            pass
    return found


def _explain(error: ValidationError) -> Iterator[SchemaProblem]:
    path: YamlPath = tuple(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    instance = error.instance
    if "propertyNames" in error.relative_schema_path:
        yield SchemaProblem(path, f"'{instance}' is not a valid name: {_rule(error)}", (*path, instance))
    elif kind == "additionalProperties" and value is False:
        allowed = error.schema.get("properties", {})
        patterns = list(error.schema.get("patternProperties", {}))
        for key in instance:
            if key not in allowed and not any(re.search(pattern, str(key)) for pattern in patterns):
                yield SchemaProblem(path, f"unknown key '{key}'{_suggestion(str(key), allowed)}", (*path, key))
    elif kind == "required":
        for key in value:
            if key not in instance:
                yield SchemaProblem(path, f"missing required key '{key}'")
    elif kind == "type":
        wanted = value if isinstance(value, list) else [value]
        # `id: off`, `os: [no]`: YAML 1.1 reads yes/no/on/off as booleans
        quote = " (YAML reads a bare yes, no, on or off as true or false: quote it)" if isinstance(instance, bool) and "string" in wanted else ""
        yield SchemaProblem(path, f"must be {_or(_TYPE_WORDS[t] for t in wanted)}, not {_describe(instance)}{quote}")
    elif kind in ("enum", "const"):
        choices = value if kind == "enum" else [value]
        hint = did_you_mean(str(instance), [str(c) for c in choices]) if isinstance(instance, str) else ""
        yield SchemaProblem(path, f"must be {_or(json.dumps(c) for c in choices)}, not {json.dumps(instance)}{hint}")
    elif kind in ("oneOf", "anyOf"):
        # a value of a type one alternative takes broke that alternative's rules: say which
        taken = [n for n, option in enumerate(value) if _has_type(instance, option.get("type"))]
        chosen = [sub for sub in error.context or () if sub.relative_schema_path[0] in taken]
        if len(taken) == 1 and chosen:
            for sub in chosen:
                yield from _explain(sub)
        else:
            yield SchemaProblem(path, _alternatives(error))
    elif kind in ("minLength", "minItems", "minProperties") and value == 1:
        yield SchemaProblem(path, "must not be empty")
    elif kind in _BOUNDS:
        yield SchemaProblem(path, f"must be {_BOUNDS[kind]} {value}, not {json.dumps(instance)}")
    elif kind == "pattern":
        rule = _rule(error)
        yield SchemaProblem(path, f"'{instance}' is not a valid name: {rule}" if rule.startswith("use ") else f"'{instance}' {rule}")
    else:
        yield SchemaProblem(path, error.message)


# What other tools call a key maestro has, for people coming from them: difflib cannot see that
# 'depends_on' means 'needs'. (GitHub Actions, Taskfile, docker compose, GitLab CI.)
_FOREIGN_KEYS = {
    "jobs": "steps",
    "tasks": "steps",
    "working-directory": "cwd",
    "working_dir": "cwd",
    "dir": "cwd",
    "strategy": "matrix",
    "uses": "adapter",
    "depends_on": "needs",
    "depends-on": "needs",
    "deps": "needs",
    "dependencies": "needs",
    "cmd": "run",
    "cmds": "run",
    "command": "run",
    "script": "run",
    "environment": "env",
    "when": "if",
    "allow_failure": "continue-on-error",
    "ignore_error": "continue-on-error",
    "retry": "retries",
    "timeout-minutes": "timeout",
}
_FOREIGN_NOTES = {"timeout-minutes": ", in seconds", "strategy": ", directly on the step", "uses": " with its options in `with:`"}


def _suggestion(key: str, allowed: Mapping[str, Any]) -> str:
    ours = _FOREIGN_KEYS.get(key)
    if ours is not None and ours in allowed:
        return f" (maestro's is '{ours}'{_FOREIGN_NOTES.get(key, '')})"
    return did_you_mean(key, allowed)


def _rule(error: ValidationError) -> str:
    pattern = error.validator_value if error.validator == "pattern" else None
    if pattern == "^[A-Za-z_][A-Za-z0-9_]*$":
        return "use letters, digits and '_', not starting with a digit"
    if pattern == "^[A-Za-z0-9][A-Za-z0-9_.-]*$":
        return "use letters, digits, '_', '.' and '-', starting with a letter or digit"
    if pattern == r"^\s*\$\{\{.*\}\}\s*$":
        return "must be true, false or a ${{ }} expression"
    if pattern == "^https?://":
        return "must start with http:// or https://"
    if pattern == "^[^:]+:[0-9]+$":
        return "must be host:port"
    return error.message


def _alternatives(error: ValidationError) -> str:
    options = error.validator_value
    types = [option.get("type") for option in options]
    if all(isinstance(t, str) for t in types):
        return f"must be {_or(_TYPE_WORDS[t] for t in types)}, not {_describe(error.instance)}"
    required = [option.get("required") for option in options]
    if all(isinstance(r, list) and len(r) == 1 for r in required):
        return f"needs exactly one of {_or(r[0] for r in required)}"
    from jsonschema.exceptions import best_match

    best = best_match(error.context or [])
    return best.message if best is not None else error.message


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _has_type(instance: Any, wanted: Any) -> bool:
    """Whether ``instance`` is of the JSON type ``wanted`` (a bool is no number, as in JSON)."""
    if not isinstance(wanted, str) or wanted not in _PYTHON_TYPES:
        return False
    if isinstance(instance, bool) and wanted != "boolean":
        return False
    return isinstance(instance, _PYTHON_TYPES[wanted])


def _or(words: Any) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _describe(instance: Any) -> str:
    if instance is None:
        return "empty"
    if isinstance(instance, bool):
        return f"{str(instance).lower()}"
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    return f"{type(instance).__name__} {json.dumps(instance)}" if not isinstance(instance, str) else f"'{instance}'"
