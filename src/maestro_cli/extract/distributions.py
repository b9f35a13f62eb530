"""Which PyPI distribution provides an imported module.

In order: the installed environment (``importlib.metadata.packages_distributions()``, narrowed by the
files each candidate installs when a namespace is shared), then the table shipped in
``data/module_to_dist.json`` (derived from pipreqs' mapping, Apache-2.0, corrected), then the module
name itself, flagged as a guess. A module two distributions could own is reported, never guessed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

from ..fsutil import store_cache

TABLE_PATH = Path(__file__).parent / "data" / "module_to_dist.json"


class ResolvedBy(StrEnum):
    ENVIRONMENT = "environment"
    TABLE = "table"
    GUESS = "module-name"  # nothing knew the module: its name is assumed to be the distribution's
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class Resolution:
    module: str
    distribution: str | None  # None when ambiguous
    resolved_by: ResolvedBy
    candidates: tuple[str, ...] = ()


class DistributionResolver:
    """Module -> distribution; reads the environment and the table once, on first need."""

    def __init__(
        self,
        environment: Mapping[str, list[str]] | None = None,
        table: Mapping[str, str] | None = None,
        ambiguous: Mapping[str, list[str]] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._environment = environment
        self._cache_dir = cache_dir
        self._table = table
        self._ambiguous = ambiguous

    @property
    def environment(self) -> Mapping[str, list[str]]:
        return self._environment if self._environment is not None else installed_modules(self._cache_dir)

    @cached_property
    def _shipped(self) -> dict[str, dict[str, object]]:
        return json.loads(TABLE_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    @property
    def table(self) -> Mapping[str, str]:
        return self._table if self._table is not None else self._shipped["modules"]  # type: ignore[return-value]

    @property
    def ambiguous_table(self) -> Mapping[str, list[str]]:
        return self._ambiguous if self._ambiguous is not None else self._shipped["ambiguous"]  # type: ignore[return-value]

    def load(self) -> None:
        """Read the environment and the shipped table now rather than on first need (for a caller
        with time to spare, such as ``maestro scan`` while its workers parse)."""
        if self._environment is None:
            installed_modules(self._cache_dir)
        if self._table is None or self._ambiguous is None:
            self._shipped  # noqa: B018  # a cached_property: reading it is loading it

    def resolve(self, module: str) -> Resolution:
        top = module.split(".")[0]
        installed = self.environment.get(top, [])
        if len(installed) > 1:
            installed = _owners_of(module, installed)
        if len(installed) == 1:
            return Resolution(module, installed[0], ResolvedBy.ENVIRONMENT)
        if len(installed) > 1:
            return Resolution(module, None, ResolvedBy.AMBIGUOUS, tuple(sorted(installed)))
        for prefix in _prefixes(module):
            if prefix in self.table:
                return Resolution(module, self.table[prefix], ResolvedBy.TABLE)
            if prefix in self.ambiguous_table:
                return Resolution(module, None, ResolvedBy.AMBIGUOUS, tuple(self.ambiguous_table[prefix]))
        return Resolution(module, top, ResolvedBy.GUESS)


@cache
def installed_modules(cache_dir: Path | None = None) -> dict[str, list[str]]:
    """Top-level module -> distributions installed here.

    Scanning every installed RECORD takes a few hundred milliseconds, so the answer is kept once per
    process and, with ``cache_dir``, on disk under a key made of the modification times of the
    folders on sys.path: installing or removing anything changes its folder's time.
    """
    key = [[entry, os.stat(entry).st_mtime_ns] for entry in sys.path if entry and os.path.isdir(entry)]
    stored = cache_dir / "extract" / "installed-modules.json" if cache_dir is not None else None
    if stored is not None:
        try:
            document = json.loads(stored.read_text(encoding="utf-8"))
            if document["key"] == key:
                return document["modules"]  # type: ignore[no-any-return]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or damaged: scan again
    modules = {name: list(dict.fromkeys(dists)) for name, dists in metadata.packages_distributions().items()}
    if stored is not None:
        store_cache(stored, json.dumps({"key": key, "modules": modules}))
    return modules


def _prefixes(module: str) -> list[str]:
    """``a.b.c`` -> ``a.b.c``, ``a.b``, ``a``: the most specific entry wins (google.protobuf)."""
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _owners_of(module: str, candidates: list[str]) -> list[str]:
    """Of the distributions sharing a namespace, those that install files for ``module`` itself."""
    installed: dict[str, list[str]] = {}
    for name in candidates:
        try:
            installed[name] = [str(f) for f in metadata.distribution(name).files or []]
        except metadata.PackageNotFoundError:
            continue
    for prefix in _prefixes(module)[:-1]:  # most specific first; the shared top level decides nothing
        path = prefix.replace(".", "/")
        owners = [n for n, files in installed.items() if any(f.startswith((path + "/", path + ".py")) for f in files)]
        if owners:
            return owners
    return candidates
