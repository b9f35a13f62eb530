"""Finding adapters: every one, built-in or third-party, comes from the ``maestro.adapters`` group.

maestro registers its own adapters as entry points in its pyproject.toml, so a plugin takes the
same road as the built-ins (as twine registers its own commands). A plugin that fails to import,
to instantiate or to satisfy the :class:`~maestro_cli.adapters.base.Adapter` protocol is left out
with a problem naming it, never a crash (pdm's ``Core.load_plugins``): callers show the problems
as warnings.

Reading entry points through :mod:`importlib.metadata` costs about a tenth of a second at every
start (its import alone pulls in the email parser), more than a whole no-op step. So the entry
points found are kept in the cache folder, keyed by what could change them: the import path and
the modification times of every ``*.dist-info``/``*.egg-info`` in its folders (pip rewrites those on
every install, upgrade or removal).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError, did_you_mean
from .base import Adapter

ENTRY_POINT_GROUP = "maestro.adapters"
_CACHE_FILE = "adapter-entry-points.json"
# "module.sub:attr.attr [extra]", as the entry point specification writes a value
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?(\[.*\])?\s*$")


# only __init__ generated: nothing prints, compares or assigns to these (see errors.Location)
@dataclass(repr=False, eq=False)
class AdapterInfo:
    """An installed adapter and the entry point it came from."""

    adapter: Adapter
    source: str  # the entry point's value, "module:attr"
    distribution: str | None  # the installed distribution that declared it
    version: str | None = None  # that distribution's version


@dataclass(repr=False, eq=False)
class Registry:
    """The installed adapters by name, and the plugins that failed to load."""

    adapters: dict[str, AdapterInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per plugin that failed to load
    # what the adapters were found from (the install fingerprint and the entry points), for caches
    # of work that depends on them, such as a checked plan
    installed: str = ""

    @property
    def names(self) -> list[str]:
        return sorted(self.adapters)

    def get(self, name: str) -> Adapter:
        info = self.adapters.get(name)
        if info is None:
            raise InputError(
                f"unknown adapter '{name}'{did_you_mean(name, self.adapters)}",
                hint="`maestro adapters` lists the installed ones",
            )
        return info.adapter


_lock = threading.Lock()
_cached: Registry | None = None


def load_registry(*, refresh: bool = False, cache_dir: Path | None = None) -> Registry:
    """Every installed adapter, loaded once per process (entry points are scanned only once).

    ``cache_dir`` keeps the entry points found between runs (see the module's docstring).
    """
    global _cached
    with _lock:
        if _cached is None or refresh:
            _cached = _discover(cache_dir)
        return _cached


class EntryPoint(NamedTuple):
    name: str
    value: str  # "module:attr"
    distribution: str | None
    version: str | None

    def load(self) -> object:
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"not an entry point value: {self.value!r}")
        loaded: object = importlib.import_module(match["module"])
        for attr in match["attr"].split(".") if match["attr"] else ():
            loaded = getattr(loaded, attr)
        return loaded


def entry_points(cache_dir: Path | None = None, fingerprint: list[list[object]] | None = None) -> list[EntryPoint]:
    """The group's entry points by name, from the cache when nothing installed has changed since."""
    cache = cache_dir / _CACHE_FILE if cache_dir is not None else None
    fingerprint = _install_fingerprint() if fingerprint is None else fingerprint
    if cache is not None:
        try:
            cached = json.loads(cache.read_text(encoding="utf-8"))
            if cached["fingerprint"] == fingerprint:
                return [EntryPoint(*row) for row in cached["entry_points"]]
        except (OSError, ValueError, KeyError, TypeError):  # no cache yet, or one from another version
            pass
    from importlib import metadata

    found = sorted(
        (
            EntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None)
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        ),
        key=lambda ep: ep.name,
    )
    if cache is not None:
        from ..fsutil import store_cache

        store_cache(cache, json.dumps({"fingerprint": fingerprint, "entry_points": found}))
    return found


def _install_fingerprint() -> list[list[object]]:
    """The import path, and the metadata folders in each of its folders with their modification
    times (nanoseconds). A folder's own time is left out: its metadata folders already show what
    was installed or removed, and anything else written there (a checkout's root is on the path of
    an editable install) must not make the next start read every distribution again."""
    fingerprint: list[list[object]] = []
    for folder in sys.path:
        try:
            with os.scandir(folder or ".") as entries:
                found = sorted([entry.name, entry.stat().st_mtime_ns] for entry in entries if entry.name.endswith((".dist-info", ".egg-info")))
            fingerprint.append([folder, "folder"])
            fingerprint += found
        except NotADirectoryError:  # a zip file on the path: its own time stands for its content
            fingerprint.append([folder, os.stat(folder).st_mtime_ns])
        except OSError:  # a missing folder: its absence is the fingerprint
            fingerprint.append([folder, None])
    return fingerprint


def _discover(cache_dir: Path | None) -> Registry:
    fingerprint = _install_fingerprint()
    found = entry_points(cache_dir, fingerprint)
    registry = Registry(installed=json.dumps([fingerprint, found]))
    for entry_point in found:
        distribution, version = entry_point.distribution, entry_point.version
        label = f"adapter plugin '{entry_point.name}' ({entry_point.value}"
        label += f", from {distribution})" if distribution else ")"
        try:
            adapter = _instantiate(entry_point.load())
        except Exception as exc:  # a broken plugin must not take maestro down with it
            registry.problems.append(f"{label} failed to load: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(adapter, Adapter):
            missing = [name for name in ("name", "description", "options_schema", "check", "run") if not hasattr(adapter, name)]
            registry.problems.append(f"{label} is not an adapter: missing {', '.join(missing)}")
            continue
        if adapter.name in registry.adapters:
            other = registry.adapters[adapter.name].source
            registry.problems.append(f"{label} ignored: adapter '{adapter.name}' is already provided by {other}")
            continue
        registry.adapters[adapter.name] = AdapterInfo(adapter, entry_point.value, distribution, version)
    return registry


def _instantiate(loaded: object) -> object:
    """The entry point names a class (instantiated without arguments) or a ready instance."""
    return loaded() if isinstance(loaded, type) else loaded
