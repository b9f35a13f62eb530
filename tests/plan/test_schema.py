"""The plan's JSON Schema is validated with its references replaced by their definitions: the same errors."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from maestro_cli.plan import schema

INVALID_PLANS: list[dict[str, Any]] = [
    {"version": 2, "steps": []},
    {"version": 1, "steps": [{"id": "a", "run": []}, {"id": "", "rn": "x"}, {"run": "x"}]},
    {"version": 1, "env": {"1BAD": "x", "ok": [1]}, "steps": [{"id": "a", "run": "x", "env": {"A": {"b": 1}}}]},
    {"version": 1, "services": {"db": {"run": "x", "health": {"http": "ftp://x", "tcp": "nohost"}}}, "steps": [{"id": "a", "run": "x", "services": "db"}]},
    {"version": 1, "steps": [{"id": "a", "run": "x", "timeout": 0, "retries": 99, "continue-on-error": "maybe", "needs": [1], "matrix": {"py": [], "include": [{}]}}]},
    {"version": 1, "secrets": ["A", "A", "no-dash"], "defaults": {"adapter": 1, "timeout": -1}, "steps": [{"id": "a", "outputs": ["1x"]}]},
]


def _errors(validator: Any, document: dict[str, Any]) -> list[tuple[list[Any], str, str]]:
    return [(list(error.absolute_path), error.validator, error.message) for error in validator.iter_errors(document)]


@pytest.mark.parametrize("document", INVALID_PLANS)
def test_the_inlined_schema_finds_what_the_referencing_one_finds(document: dict[str, Any]) -> None:
    referencing = Draft202012Validator(schema.plan_schema())
    inlined = Draft202012Validator(schema._inlined(schema.plan_schema()))
    assert "$ref" not in str(inlined.schema)
    assert _errors(inlined, document) == _errors(referencing, document) != []


def test_a_schema_referring_to_itself_is_kept_as_it_is() -> None:
    tree = {"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}, "$ref": "#/$defs/node"}
    assert schema._inlined(tree) is tree
