"""The shortcuts past poetry-core's start-up work give exactly poetry-core's answers."""

from __future__ import annotations

import copy
import importlib
import itertools
import json
from importlib.resources import files
from typing import Any

import pytest
from poetry.core.version.requirements import _parser as poetry_pep508_parser

from maestro_cli.publish.poetry_shortcuts import mirrors_grammar, pruned_schema, simple_requirement_tree

# poetry-core's vendored copy, the one its backend compiles with: importing poetry.core (above) put
# its _vendor folder on sys.path; a fresh install has no fastjsonschema of its own
fastjsonschema = importlib.import_module("fastjsonschema")

NAMES = ["packaging", "Foo.Bar_baz-1", "a", "9lives", "x-"]
EXTRAS = ["", "[]", "[socks]", "[ socks , http2 ]", "[a,b,c]", "[bad extra]"]
CONSTRAINTS = ["", ">=20", " >= 20", ">=1.0, <2", "==1.0.*", "~=2.2", "!=1.5,>1", ">=", ">=1.0>=2", "<=3 ,", "===1"]


@pytest.fixture(scope="module")
def lark_parse() -> Any:
    from lark import Lark
    from lark.exceptions import LarkError

    lark = Lark.open(grammar_filename=str(poetry_pep508_parser._grammar), parser="lalr")

    def parse(text: str) -> Any:
        try:
            return lark.parse(text)
        except LarkError:
            return None

    return parse


def _shape(tree: Any) -> Any:
    """A tree as nested (rule, children) with (type, value) tokens: equal only when lark's would be."""
    from lark import Token, Tree

    if isinstance(tree, Tree):
        return (str(tree.data), [_shape(child) for child in tree.children])
    assert isinstance(tree, Token)
    return (tree.type, str(tree))


def test_a_simple_line_gets_the_very_tree_lark_builds(lark_parse):
    lines = [f"{n}{e}{c}" for n, e, c in itertools.product(NAMES, EXTRAS, CONSTRAINTS)]
    lines += [f"  {line}\t" for line in lines[::7]] + [line.replace(">=", " >= ") for line in lines[::5]]
    taken = 0
    for line in lines:
        tree = simple_requirement_tree(line)
        if tree is not None:
            taken += 1
            expected = lark_parse(line)
            assert expected is not None, f"the shortcut read {line!r}, which lark rejects"
            assert _shape(tree) == _shape(expected), line
    assert taken > len(lines) // 2  # the shortcut does take the common lines


@pytest.mark.parametrize(
    "line",
    [
        "foo (>=1.0)",
        "foo>=1.0; python_version < '3.8'",
        "foo @ https://example.org/foo-1.0.whl",
        "foo >=1.0\n",
        "foo >=\u00a01.0",
        "foo bar",
        "-foo",
        "",
    ],
)
def test_anything_but_a_simple_line_is_left_to_lark(line):
    assert simple_requirement_tree(line) is None


def test_the_shortcut_is_taken_only_with_the_grammar_it_mirrors():
    from pathlib import Path

    grammar = Path(poetry_pep508_parser._grammar).read_text(encoding="utf-8")
    assert mirrors_grammar(grammar)  # the installed poetry-core's
    another = grammar.replace("NAME: /[a-zA-Z0-9][a-zA-Z0-9-_.]*/", "NAME: /[a-zA-Z0-9][a-zA-Z0-9-_.+]*/")
    assert another != grammar
    assert not mirrors_grammar(another)


def _poetry_schema(name: str) -> dict[str, Any]:
    return json.loads((files("poetry.core.json") / "schemas" / f"{name}.json").read_bytes())


def _outcome(schema: dict[str, Any], data: Any) -> tuple[str | None, Any]:
    """The error message fastjsonschema gives (None when valid) and the data after defaults."""
    data = copy.deepcopy(data)
    try:
        fastjsonschema.compile(schema)(data)
    except fastjsonschema.JsonSchemaException as exc:
        return exc.message, data
    return None, data


TABLES = {
    "project-schema": [
        {"name": "acme", "version": "1.0"},
        {"name": "acme bad!", "version": "1.0"},
        {"name": "acme", "version": "1.0", "dependencies": "packaging"},
        {"name": "acme", "version": "1.0", "readme": {"file": "README.md", "content-type": 3}},
        {"name": "acme", "version": "1.0", "unknown-key": 1},
        {"version": "1.0"},
        {"name": "acme", "dynamic": ["version"], "scripts": {"acme": "acme:main"}},
        ["not", "a", "table"],
    ],
    "poetry-schema": [
        {},
        {"packages": [{"include": "acme", "from": "src"}]},
        {"packages": [{"from": "src"}]},
        {"package-mode": "yes"},
        {"dependencies": {"python": "^3.9", "requests": {"version": "^2", "optional": "no"}}},
        {"group": {"dev": {"dependencies": {"pytest": "*"}}}},
        {"not-a-poetry-key": True},
        {"build": {"script": "build.py", "generate-setup-file": False}},
    ],
}


@pytest.mark.parametrize(("schema_name", "table"), [(name, table) for name, tables in TABLES.items() for table in tables])
def test_a_pruned_schema_validates_and_fills_defaults_as_the_whole_one(schema_name, table):
    schema = _poetry_schema(schema_name)
    pruned = pruned_schema(schema, table)
    assert _outcome(pruned, table) == _outcome(schema, table)


@pytest.mark.parametrize(
    ("schema_name", "table"),
    [
        ("project-schema", dict.fromkeys(["name", "version", "description", "readme", "requires-python", "dependencies"])),
        ("poetry-schema", {"packages": []}),
    ],
)
def test_a_small_projects_tables_need_a_fraction_of_the_validating_code(schema_name, table):
    """What costs the time is the Python fastjsonschema generates and then compiles."""
    schema = _poetry_schema(schema_name)
    assert len(fastjsonschema.compile_to_code(pruned_schema(schema, table))) < len(fastjsonschema.compile_to_code(schema)) / 2
