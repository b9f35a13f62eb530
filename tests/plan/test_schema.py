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


# steps that agree in shape or differ by one thing the schema looks at (valid ones and broken ones)
STEPS: list[dict[str, Any]] = [
    {"id": "a", "run": "true"},
    {"id": "b", "run": "make test"},
    {"id": "", "run": "true"},
    {"id": "c", "run": ""},
    {"id": "d", "run": ["pytest", "-x", 3, True]},
    {"id": "e", "run": []},
    {"id": "f", "run": "x", "timeout": 0},
    {"id": "g", "run": "x", "timeout": 0.5},
    {"id": "h", "run": "x", "timeout": float("nan")},
    {"id": "i", "run": "x", "retries": 20},
    {"id": "j", "run": "x", "retries": 21},
    {"id": "k", "run": "x", "retries": 2.0},
    {"id": "l", "run": "x", "retries": 2.5},
    {"id": "m", "run": "x", "retries": True},
    {"id": "n", "run": "x", "continue-on-error": "${{ matrix.experimental }}"},
    {"id": "o", "run": "x", "continue-on-error": "maybe"},
    {"id": "p", "run": "x", "outputs": ["version", "1st"]},
    {"id": "q", "run": "x", "outputs": ["version", "first"]},
    {"id": "r", "run": "x", "env": {"GOOD": "1", "bad-name": "2"}},
    {"id": "s", "run": "x", "env": {"GOOD": {"nested": 1}}},
    {"id": "t", "run": "x", "matrix": {"py": ["3.11", 3.12], "include": [{"py": "3.13"}]}},
    {"id": "u", "run": "x", "matrix": {"py": []}},
    {"id": "v", "run": "x", "needs": ["a", 1]},
    {"id": "w", "rn": "x"},
    {"run": "x"},
    {"id": 7, "run": "x"},
]


def test_steps_reduced_to_one_per_shape_give_the_whole_plans_verdict() -> None:
    import random

    from maestro_cli.plan import schema_shapes

    validator = Draft202012Validator(schema._inlined(schema.plan_schema()))
    chooser = random.Random(5)
    reduced_some = 0
    for _ in range(400):
        steps = [dict(chooser.choice(STEPS), id=f"s{n}") if chooser.random() < 0.5 else dict(chooser.choice(STEPS)) for n in range(chooser.randint(2, 7))]
        document = {"version": 1, "steps": steps}
        one_per_shape = schema_shapes.reduced(document, validator.schema)
        if one_per_shape is not None:
            reduced_some += 1
            assert validator.is_valid(one_per_shape) == validator.is_valid(document), steps
    assert reduced_some > 100  # most documents had steps of one shape to fold


def test_five_hundred_steps_of_one_shape_are_one_check() -> None:
    from maestro_cli.plan import schema_shapes

    validator = Draft202012Validator(schema._inlined(schema.plan_schema()))
    document = {"version": 1, "steps": [{"id": f"s{n}", "run": "true"} for n in range(500)]}
    assert schema_shapes.reduced(document, validator.schema) == {"version": 1, "steps": [{"id": "s0", "run": "true"}]}


def test_a_keyword_a_shape_cannot_account_for_leaves_the_list_whole() -> None:
    from maestro_cli.plan import schema_shapes

    items = {"type": "object", "properties": {"id": {"type": "string"}}}
    document = {"steps": [{"id": "a"}, {"id": "b"}]}
    assert schema_shapes.reduced(document, {"properties": {"steps": {"type": "array", "items": items}}}) is not None
    for unaccounted in ({"multipleOf": 2}, {"$ref": "#/$defs/x"}, {"if": {}, "then": {}}):
        assert schema_shapes.reduced(document, {"properties": {"steps": {"type": "array", "items": {**items, **unaccounted}}}}) is None
    assert schema_shapes.reduced(document, {"properties": {"steps": {"type": "array", "uniqueItems": True, "items": items}}}) is None
