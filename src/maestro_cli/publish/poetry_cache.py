"""poetry-core's start-up work: skipped where it is not needed, kept between builds where it is.

A small project builds in-process in about 15 ms, yet poetry-core spends far more before it: it
compiles its JSON Schemas into Python validators (fastjsonschema) and its PEP 508 and marker grammars
into LALR parsers (lark), in every process. Here the validators are compiled from schemas cut down
to the keys the pyproject has, a simple dependency line skips lark (both in poetry_shortcuts), and a
parser is built only when a line first needs it. What is built is kept in maestro's cache folder:
the validators as marshalled code objects, the parsers as lark's saved form, under keys made of the
schema or grammar bytes, the library versions and the Python version. What fails to load is built
again as poetry-core would; the backend then behaves exactly as without the cache.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import marshal
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from .. import fsutil
from .poetry_shortcuts import mirrors_grammar, pruned_schema, simple_requirement_tree

Validator = Callable[[dict[str, Any]], dict[str, Any]]

_prepared: set[Path | None] = set()  # once per process and folder: the modules keep what was installed


def prepare(cache_dir: Path | None) -> None:
    """Give poetry-core's modules the shortcuts, and validators and parsers kept in ``cache_dir``."""
    folder = cache_dir.resolve() / "build" / "poetry-core" if cache_dir is not None else None
    if folder in _prepared:
        return
    try:
        from poetry.core import json as schemas
        from poetry.core.version import markers, requirements
    except ImportError:
        return  # another poetry-core than the one this was written against: it does its own work
    if callable(getattr(schemas, "_get_validator", None)):
        schemas._get_validator = functools.cache(functools.partial(_validator, schemas, folder))  # type: ignore[attr-defined]
    for module in (requirements, markers):
        parser = getattr(module, "_parser", None)
        if parser is not None and getattr(parser, "_lark", "missing") is None:
            shortcut = simple_requirement_tree if module is requirements and _mirrored(parser) else None
            parser.parse = functools.partial(_parse, parser, folder, shortcut)  # this instance only
    _prepared.add(folder)


def _mirrored(parser: Any) -> bool:
    """The PEP 508 grammar is the one the shortcut mirrors (a later poetry-core may change it)."""
    try:
        return mirrors_grammar(Path(parser._grammar).read_text(encoding="utf-8"))
    except (OSError, TypeError, ValueError):
        return False


def _key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in (*parts, sys.implementation.cache_tag or sys.version):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _validator(schemas: ModuleType, folder: Path | None, schema_name: str) -> Validator:
    """What ``poetry.core.json._get_validator`` returns: a validator of the whole schema.

    Each table is validated by the validator of the schema pruned to the table's keys, compiled once
    per set of keys (a build validates the same tables for the sdist and again for the wheel).
    """
    from importlib.resources import files

    schema = json.loads((files(schemas.__name__) / "schemas" / f"{schema_name}.json").read_bytes())
    compiled: dict[str, Validator] = {}

    def validate(data: dict[str, Any]) -> dict[str, Any]:
        pruned = json.dumps(pruned_schema(schema, data), sort_keys=True)
        if pruned not in compiled:
            compiled[pruned] = _compiled(schema_name, pruned, folder)
        return compiled[pruned](data)

    return validate


def _compiled(schema_name: str, schema_text: str, folder: Path | None) -> Validator:
    """fastjsonschema's validator of a schema, from the code it generated before when it is kept."""
    import fastjsonschema  # poetry-core's vendored copy: poetry.core put it on sys.path

    cached = folder / f"{schema_name}-{_key(schema_text, fastjsonschema.VERSION)}.marshal" if folder else None
    kept = _kept_code(cached) if cached is not None else None
    if kept is None:
        kept = _generated(schema_name, schema_text)
        if cached is not None:
            fsutil.store_cache(cached, marshal.dumps(kept))
    entry, code = kept
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102  (code fastjsonschema generated from poetry-core's own schema)
    return namespace[entry]  # type: ignore[no-any-return]


def _kept_code(path: Path) -> tuple[str, CodeType] | None:
    try:
        entry, code = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):  # missing, damaged, or from another Python
        return None
    return (entry, code) if isinstance(entry, str) and isinstance(code, CodeType) else None


def _generated(schema_name: str, schema_text: str) -> tuple[str, CodeType]:
    """The name of the validating function, and the code that defines it, as fastjsonschema makes them."""
    import fastjsonschema
    from fastjsonschema.ref_resolver import RefResolver

    schema = json.loads(schema_text)
    entry = RefResolver.from_schema(schema, handlers={}, store={}).get_scope_name()
    return entry, compile(fastjsonschema.compile_to_code(schema), f"<{schema_name} validator>", "exec")


def _parse(parser: Any, folder: Path | None, shortcut: Callable[[str], Any] | None, text: str, **options: Any) -> Any:
    """poetry-core's ``Parser.parse``: the shortcut's tree when it has one, else lark's, its parser
    built (or loaded from the cache) on this first need."""
    tree = shortcut(text) if shortcut is not None and not options else None
    if tree is not None:
        return tree
    if parser._lark is None:
        parser._lark = _lark_parser(parser, folder)
    return parser._lark.parse(text=text, **options)


def _lark_parser(parser: Any, folder: Path | None) -> Any:
    """The lark parser poetry-core's ``Parser`` would build on its first ``parse``."""
    from lark import Lark, __version__

    grammar = Path(parser._grammar)
    cached = folder / f"{grammar.stem}-{_key(grammar.read_bytes(), __version__, parser._parser)}.lark" if folder else None
    if cached is not None:
        try:
            with open(cached, "rb") as stream:
                return Lark.load(stream)
        except Exception:  # missing, truncated or from another lark: build it again
            pass
    lark = Lark.open(grammar_filename=str(grammar), parser=parser._parser, debug=parser._debug)
    if cached is not None:
        saved = io.BytesIO()
        lark.save(saved)
        fsutil.store_cache(cached, saved.getvalue())
    return lark
