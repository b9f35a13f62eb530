"""poetry-core's start-up work, kept between builds in maestro's cache folder.

A small project builds in-process in about 15 ms, yet poetry-core spends far more before it: it
compiles its JSON Schemas into Python validators (fastjsonschema: ~75 ms) and its PEP 508 grammar into
a LALR parser (lark: ~65 ms), in every process. Both depend only on poetry-core's own files, so they
are kept: the validators as marshalled code objects, the parsers as lark's saved form, under keys made
of the schema or grammar bytes, the library versions and the Python version. What fails to load is
built again as poetry-core would; the backend then behaves exactly as without the cache.
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
from types import ModuleType
from typing import Any

from .. import fsutil

Validator = Callable[[dict[str, Any]], dict[str, Any]]

_prepared: set[Path] = set()  # once per process and folder: the modules keep what was installed


def prepare(cache_dir: Path) -> None:
    """Give poetry-core's modules their validators and parsers from ``cache_dir`` (filled on first use)."""
    folder = cache_dir.resolve() / "build" / "poetry-core"
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
            parser._lark = _lark_parser(parser, folder)
    _prepared.add(folder)


def _key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in (*parts, sys.implementation.cache_tag or sys.version):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _validator(schemas: ModuleType, folder: Path, schema_name: str) -> Validator:
    """What ``poetry.core.json._get_validator`` returns, from the code fastjsonschema generated before."""
    import fastjsonschema  # poetry-core's vendored copy: poetry.core put it on sys.path

    from importlib.resources import files

    schema_bytes = (files(schemas.__name__) / "schemas" / f"{schema_name}.json").read_bytes()
    cached = folder / f"{schema_name}-{_key(schema_bytes, fastjsonschema.VERSION)}.marshal"
    try:
        entry, code = marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        from fastjsonschema.ref_resolver import RefResolver

        schema = json.loads(schema_bytes)
        entry = RefResolver.from_schema(schema, handlers={}, store={}).get_scope_name()
        code = compile(fastjsonschema.compile_to_code(schema), f"<{schema_name} validator>", "exec")
        fsutil.store_cache(cached, marshal.dumps((entry, code)))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102  (code fastjsonschema generated from poetry-core's own schema)
    return namespace[entry]  # type: ignore[no-any-return]


def _lark_parser(parser: Any, folder: Path) -> Any:
    """The lark parser poetry-core's ``Parser`` would build on its first ``parse``."""
    from lark import Lark, __version__

    grammar = Path(parser._grammar)
    cached = folder / f"{grammar.stem}-{_key(grammar.read_bytes(), __version__, parser._parser)}.lark"
    try:
        with open(cached, "rb") as stream:
            return Lark.load(stream)
    except Exception:  # missing, truncated or from another lark: build it again
        pass
    lark = Lark.open(grammar_filename=str(grammar), parser=parser._parser, debug=parser._debug)
    saved = io.BytesIO()
    lark.save(saved)
    fsutil.store_cache(cached, saved.getvalue())
    return lark
