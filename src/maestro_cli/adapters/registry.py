"""Finding adapters: every one, built-in or third-party, comes from the ``maestro.adapters`` group.

maestro registers its own adapters as entry points in its pyproject.toml, so a plugin takes the
same road as the built-ins (as twine registers its own commands). A plugin that fails to import,
to instantiate or to satisfy the :class:`~maestro_cli.adapters.base.Adapter` protocol is left out
with a problem naming it, never a crash (pdm's ``Core.load_plugins``): callers show the problems
as warnings.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import metadata

from ..errors import InputError, did_you_mean
from .base import Adapter

ENTRY_POINT_GROUP = "maestro.adapters"


@dataclass(frozen=True)
class AdapterInfo:
    adapter: Adapter
    source: str  # the entry point's value, "module:attr"
    distribution: str | None  # the installed distribution that declared it
    version: str | None = None  # that distribution's version


@dataclass
class Registry:
    adapters: dict[str, AdapterInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # one line per plugin that failed to load

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


def load_registry(*, refresh: bool = False) -> Registry:
    """Every installed adapter, loaded once per process (entry points are scanned only once)."""
    global _cached
    with _lock:
        if _cached is None or refresh:
            _cached = _discover()
        return _cached


def _discover() -> Registry:
    registry = Registry()
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        distribution = entry_point.dist.name if entry_point.dist is not None else None
        version = entry_point.dist.version if entry_point.dist is not None else None
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
