"""Cheaper roads to the answers poetry-core computes at every start, giving exactly the same answers.

On a first build (nothing in maestro's cache yet) poetry-core spends most of its time before the
build: it compiles its whole JSON Schemas into Python (fastjsonschema: ~120 ms, mostly the ``compile``
of 250 KB of generated code) to validate a pyproject that uses a handful of keys, and it builds a
LALR parser from its PEP 508 grammar (lark: ~80 ms) to read dependency lines such as
``packaging>=20``. Two shortcuts:

* a schema's top-level ``properties`` that the validated table does not have are never checked by
  JSON Schema (only their ``default`` is filled in), so they are replaced by what they can still do
  before compiling: the validator checks the same things, fills the same defaults and words its
  errors the same, in a fifth of the code;
* a dependency line made only of a name, extras and version constraints (no parenthesis, URL or
  marker) is tokenised with the grammar's own terminal expressions into the tree lark would build;
  anything else goes to lark, so every error still comes from poetry-core's parser.
"""

from __future__ import annotations

import re
from typing import Any

# The lines of poetry-core's pep508.lark that the tokeniser below mirrors: another grammar (a later
# poetry-core) may read a line otherwise, and then every line goes to lark (see mirrors_grammar).
GRAMMAR_LINES = (
    "start: _requirement",
    "_requirement: _full_name (_MARKER_SEPARATOR marker_spec)?",
    "_full_name: NAME _extras? (version_specification | _url)?",
    "_extras: _L_BRACKET _extra? _R_BRACKET",
    "_extra: EXTRA (_COMMA EXTRA)*",
    "version_specification: (_version_many | _L_PAREN _version_many _R_PAREN)",
    "_version_many: _single_version (_COMMA _single_version)*",
    "_single_version: LEGACY_VERSION_CONSTRAINT",
    "NAME: /[a-zA-Z0-9][a-zA-Z0-9-_.]*/",
    "EXTRA: NAME",
    r"LEGACY_VERSION_CONSTRAINT: /(~=|==|!=|<=|>=|<|>)\s*[^,;\s)]*/i",
    '_L_BRACKET: "["',
    '_R_BRACKET: "]"',
    '_COMMA: ","',
    "%import common.WS_INLINE",
    "%ignore WS_INLINE",
)
# Those terminals as regular expressions; whitespace between them is WS_INLINE.
_NAME = r"[a-zA-Z0-9][a-zA-Z0-9\-_.]*"
_VERSION_CONSTRAINT = r"(?:~=|==|!=|<=|>=|<|>)[ \t]*[^,;\s)]*"  # LEGACY_VERSION_CONSTRAINT, no newlines
_SPACE = r"[ \t]*"
_SIMPLE_REQUIREMENT = re.compile(
    rf"{_SPACE}(?P<name>{_NAME}){_SPACE}"
    rf"(?:\[{_SPACE}(?P<extras>{_NAME}(?:{_SPACE},{_SPACE}{_NAME})*)?{_SPACE}\]{_SPACE})?"
    rf"(?P<constraints>{_VERSION_CONSTRAINT}(?:{_SPACE},{_SPACE}{_VERSION_CONSTRAINT})*)?{_SPACE}"
)


def pruned_schema(schema: dict[str, Any], data: object) -> dict[str, Any]:
    """``schema`` with the top-level properties ``data`` lacks cut down to their ``default``.

    Everything else (``required``, ``additionalProperties``, the definitions, nested schemas) stays
    as it is: the names of the cut properties are still known properties.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    present = data.keys() if isinstance(data, dict) else ()
    kept = {
        name: sub if name in present or not isinstance(sub, dict) else {k: v for k, v in sub.items() if k == "default"}
        for name, sub in properties.items()
    }
    return {**schema, "properties": kept}


def mirrors_grammar(grammar: str) -> bool:
    """Whether ``grammar`` (a pep508.lark's text) is the one simple_requirement_tree mirrors."""
    lines = {line.strip() for line in grammar.splitlines()}
    return all(line in lines for line in GRAMMAR_LINES)


def simple_requirement_tree(text: str) -> Any | None:
    """The tree poetry-core's PEP 508 parser builds for ``text``, when ``text`` is a simple line.

    None for anything else (URLs, markers, parenthesised versions, invalid lines): lark reads those.
    """
    match = _SIMPLE_REQUIREMENT.fullmatch(text)
    if match is None:
        return None
    from lark import Token, Tree

    children: list[Any] = [Token("NAME", match["name"])]
    if match["extras"]:
        children += [Token("EXTRA", extra) for extra in re.findall(_NAME, match["extras"])]
    if match["constraints"]:
        constraints = [Token("LEGACY_VERSION_CONSTRAINT", c) for c in re.findall(_VERSION_CONSTRAINT, match["constraints"])]
        children.append(Tree(Token("RULE", "version_specification"), constraints))
    return Tree(Token("RULE", "start"), children)
