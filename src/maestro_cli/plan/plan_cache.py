"""A checked plan kept between runs: an unchanged plan starts without being loaded and checked again.

Loading a plan of 500 steps (its parse read back, 500 steps built, the graph and the adapters'
checks, and the imports all that needs) costs as much as a dozen no-op steps at every start. What
it produces depends only on the plan's text and where it is, the ``--var`` values, whether secrets
were required, the installed adapters and maestro's own plan code, and, when the plan can read
them (a ``${{ }}`` template or an ``if:``), on the environment. All of that is the entry's key,
kept inside the entry and compared whole when it is read: an entry serves exactly the same inputs,
never a near miss. One entry per plan file: a plan edited a hundred times leaves one entry.

A plan that names secrets is never kept: their values would be written to the cache folder. Nor
is a plan with a step whose adapter's ``check`` may look beyond the step (the browser adapters
look for the browser's executable); adapters say they do not (see adapters/base.py).
"""

from __future__ import annotations

import os
import re
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from ..adapters.registry import Registry
from ..fsutil import store_cache
from .model import Plan

try:  # pickle's C core alone: pickle.py around it (its pure-Python pickler) costs 1.5 ms to import
    from _pickle import dumps, load
except ImportError:  # an interpreter without it
    from pickle import dumps, load

# Bumped whenever what an entry holds changes shape.
_FORMAT = 1
_FOLDER = "checked-plans"
# maestro's code that turns a plan's text into a checked plan (editable installs change it in place)
_CODE_FOLDERS = (Path(__file__).parent, Path(__file__).parent.parent / "adapters")


class PlanKey(NamedTuple):
    """Everything a checked plan depends on, compared whole when an entry is read."""

    format: int
    shown: str  # the plan's path as given
    where: str  # and resolved
    text: str
    variables: list[tuple[str, str]]
    # only a plan naming secrets loads differently for --check: `run-plan --check` then a run share one entry
    require_secrets: bool | None
    installed: str  # the adapters found, and what they were found from
    code: list[tuple[str, int, int]]
    environment: str | None  # a digest, only when the plan can read the environment


def plan_key(path: Path, registry: Registry, variables: Mapping[str, str], require_secrets: bool) -> PlanKey | None:
    """The key of ``path``'s checked plan; None when the plan cannot be read (the loader says why)."""
    try:
        text = path.read_text(encoding="utf-8")
        where = str(path.resolve())
    except (OSError, UnicodeDecodeError, RuntimeError):
        return None
    return PlanKey(
        format=_FORMAT,
        shown=str(path),
        where=where,
        text=text,
        variables=sorted(variables.items()),
        require_secrets=require_secrets if "secrets" in text else None,
        installed=registry.installed,
        code=_code_fingerprint(registry),
        environment=_environment_digest() if _reads_environment(text) else None,
    )


def read(cache_dir: Path, key: PlanKey) -> Plan | None:
    """The plan kept for exactly ``key``, or None."""
    try:
        with open(_entry(cache_dir, key), "rb") as stream:
            kept_key, plan = load(stream)
    except Exception:  # no entry yet, or one another version of maestro wrote: load the plan again
        return None
    # kept as a plain tuple: an entry does not depend on this class being importable under its name
    return plan if tuple(kept_key) == tuple(key) and isinstance(plan, Plan) else None


def write(cache_dir: Path, key: PlanKey, plan: Plan, registry: Registry) -> None:
    """Keep ``plan`` for ``key``, unless it names secrets or an adapter's check may look beyond the step."""
    if plan.secrets or not all(_checks_only_the_step(registry, step.adapter) for step in plan.steps):
        return
    store_cache(_entry(cache_dir, key), dumps((tuple(key), plan), protocol=-1))  # -1: the highest protocol


def _checks_only_the_step(registry: Registry, adapter: str) -> bool:
    """Whether the adapter's ``check`` reads nothing but the step (see adapters/base.py): a browser
    adapter's looks for the browser's executable, which may be gone by the next run."""
    info = registry.adapters.get(adapter)
    return info is not None and getattr(info.adapter, "CHECK_READS_ONLY_THE_STEP", False) is True


def _entry(cache_dir: Path, key: PlanKey) -> Path:
    """The entry's file: named by the plan's path (as given and resolved), so one per plan file."""
    return cache_dir / _FOLDER / f"{zlib.crc32(f'{key.shown}:{key.where}'.encode()):08x}.pickle"


def _code_fingerprint(registry: Registry) -> list[tuple[str, int, int]]:
    """maestro's plan and adapter modules, and each installed adapter's module, with their
    modification times and sizes: an adapter's ``check`` may change without a reinstall."""
    files = [entry.path for folder in _CODE_FOLDERS for entry in os.scandir(folder) if entry.name.endswith((".py", ".json"))]
    for info in registry.adapters.values():
        module = sys.modules.get(type(info.adapter).__module__)
        if module is not None and getattr(module, "__file__", None):
            files.append(module.__file__)
    fingerprint = []
    for file in sorted(set(files)):
        try:
            stat = os.stat(file)
        except OSError:
            continue
        fingerprint.append((file, stat.st_mtime_ns, stat.st_size))
    return fingerprint


def _reads_environment(text: str) -> bool:
    """Whether the plan can read the environment while it is loaded: a template, or an `if:`
    expression (evaluated once with every step passed, so that a typo fails before the run). A
    plan that merely mentions "if" somewhere is keyed by the environment too: a wasted entry at
    worst, never a wrong one."""
    # substring tests first: the word-boundary search alone takes a millisecond over 500 steps
    return "${{" in text or ("if" in text and re.search(r"\bif\b", text) is not None)


def _environment_digest() -> str:
    """The environment, hashed: its values may be secrets (tokens in CI), which are never written."""
    import hashlib

    return hashlib.sha256(repr(sorted(os.environ.items())).encode("utf-8", "surrogateescape")).hexdigest()
