"""YAML loaded safely, keeping the line and column of every key and value.

PyYAML's composer gives nodes with marks; we construct the plain data ourselves from those nodes
so that each value's path (``("steps", 1, "needs", 0)``) maps to where it was written.
"""

from __future__ import annotations

import marshal
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, Location, PlanError
from ..fsutil import store_cache

YamlPath = tuple[str | int, ...]


@dataclass
class Source:
    """Plain data from a YAML file, and where each part of it was written."""

    file: str  # as shown to the user
    data: Any
    values: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def location(self, path: YamlPath, *, key: bool = False) -> Location:
        """Where ``path`` was written (its key with ``key=True``), or its closest written parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                line, column = table[probe]
                return Location(self.file, line, column)
            if probe in self.values:
                line, column = self.values[probe]
                return Location(self.file, line, column)
            probe = probe[:-1]
        line, column = self.values.get((), (1, 1))
        return Location(self.file, line, column)

    def problem(self, path: YamlPath, message: str, *, key: bool = False, at: YamlPath | None = None) -> str:
        """``file:line:col: steps[1].needs: message``; ``at`` points somewhere more precise than ``path``."""
        where = self.location(path if at is None else at, key=key)
        label = dotted(path)
        return f"{where}: {label}: {message}" if label else f"{where}: {message}"


def dotted(path: YamlPath) -> str:
    """``("steps", 1, "needs")`` -> ``steps[1].needs``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load(path: Path, shown_as: str | None = None, *, cache_dir: Path | None = None) -> Source:
    """Parse one YAML document; a syntax error is a PlanError with its line and column.

    ``cache_dir`` keeps what a plan's text parsed to, by its sha256: a plan that has not changed
    since its last run is read back with marshal, without importing PyYAML (12 ms) or parsing it
    (6 ms for 500 steps).
    """
    file = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the plan: {exc.strerror or exc}", location=Location(file)) from None
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        raise InputError(f"cannot read the plan: {reason}", location=Location(file)) from None
    cached = _cache_file(cache_dir, text) if cache_dir is not None else None
    if cached is not None:
        try:
            data, values, keys = marshal.loads(cached.read_bytes())
            return Source(file, data, values, keys)
        except (OSError, EOFError, ValueError, TypeError):  # not parsed yet, or a cache of another shape
            pass
    source = _parse(text, file)
    if cached is not None and not source.problems:  # problems name the file as shown: parsed each time
        try:
            store_cache(cached, marshal.dumps((source.data, source.values, source.keys)))
        except ValueError:  # a value marshal cannot write (a YAML date): parsed each time
            pass
    return source


# Bumped whenever what _construct makes of a document changes: the cache then starts afresh.
_CACHE_FORMAT = "1"


def _cache_file(cache_dir: Path, text: str) -> Path | None:
    """Where the parse of ``text`` is kept: named by the text, this module's format and the PyYAML
    installed (its files' modification time), so that an upgrade of either parses again."""
    import hashlib
    from importlib.util import find_spec

    spec = find_spec("yaml")
    if spec is None or spec.origin is None:
        return None
    installed = f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{installed}\0{text}".encode()).hexdigest()
    return cache_dir / "plan-sources" / digest


def _parse(text: str, file: str) -> Source:
    import yaml

    # libyaml's parser when PyYAML has it: the same nodes and marks, several times faster
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        source = Source(file, None)
        if node is None:
            source.values[()] = (1, 1)
            return source
        source.data = _construct(loader, node, (), source)
        return source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        lines = text.splitlines()
        tab = mark is not None and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t"
        hint = " (YAML indents with spaces, not tabs)" if tab else ""
        raise PlanError([f"{where}: invalid YAML: {exc.problem or exc.context}{hint}"]) from None
    finally:
        loader.dispose()


_STR = "tag:yaml.org,2002:str"


def _construct(loader: Any, node: Any, path: YamlPath, source: Source) -> Any:
    import yaml

    mapping_node, sequence_node = yaml.MappingNode, yaml.SequenceNode
    values, keys, problems = source.values, source.keys, source.problems

    def construct(node: Any, path: YamlPath) -> Any:
        mark = node.start_mark
        values[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, mapping_node):
            # keys written here, as opposed to merged in from an anchor, which they may override
            own = {id(key_node) for key_node, _ in node.value}
            loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            mapping: dict[Any, Any] = {}
            written: set[Any] = set()
            for key_node, value_node in node.value:
                # a string is the node's text: the common case skips PyYAML's constructor machinery
                key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):  # `on:` is True and `1:` an int in YAML; plans name keys
                    key = str(key)
                child = (*path, key)
                key_mark = key_node.start_mark
                if id(key_node) in own:
                    if key in written:
                        where = Location(source.file, key_mark.line + 1, key_mark.column + 1)
                        problems.append(f"{where}: {dotted(child)}: duplicate key '{key}'")
                    written.add(key)
                keys[child] = (key_mark.line + 1, key_mark.column + 1)
                mapping[key] = construct(value_node, child)
            return mapping
        if isinstance(node, sequence_node):
            return [construct(item, (*path, index)) for index, item in enumerate(node.value)]
        if node.tag == _STR:
            return node.value
        value = loader.construct_object(node, deep=True)
        if isinstance(value, float) and "matrix" in path[:3] and str(value) != node.value.strip():
            # GitHub Actions' old trap: python [3.9, 3.10] runs 3.1; a matrix value is a name, not a number
            problems.append(f"{Location(source.file, mark.line + 1, mark.column + 1)}: {dotted(path)}: {node.value} reads as the number {value}: quote it ('{node.value}')")
        return value

    return construct(node, path)
