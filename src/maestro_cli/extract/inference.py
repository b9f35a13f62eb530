"""From classified imports to a package's requirements: hard dependencies, extras, test needs, Python.

Rules (issue 3): an import guarded by ``try/except ImportError`` is optional and becomes an extra named
after its distribution, unless the distribution is also imported unconditionally or the repo declares
it as a hard requirement. When the ``except`` branch imports an alternative, a standard-library (or
internal) alternative means nothing is needed, and a third-party one is the hard dependency while
the preferred import becomes the extra. ``TYPE_CHECKING`` imports are not run-time needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .analysis import ImportKind, ImportRecord, ModuleImports
from .declared import Declared
from .distributions import DistributionResolver, ResolvedBy

# the oldest Python that current build backends and pip still support: the floor when the code
# itself uses nothing newer
PYTHON_FLOOR = (3, 8)
# ``except ImportError: import warnings`` (then warn, log or exit) replaces nothing: these modules,
# imported whole in a fallback branch, are not an alternative to the guarded import
NOT_ALTERNATIVES = frozenset({"warnings", "logging", "sys", "traceback"})
TEST_RUNNER = "pytest"
PLUGIN_PREFIX = "pytest-"


@dataclass(frozen=True)
class Ambiguity:
    module: str
    candidates: tuple[str, ...]
    where: str  # file:line of the first import


@dataclass
class Requirements:
    dependencies: list[str] = field(default_factory=list)
    optional_dependencies: dict[str, list[str]] = field(default_factory=dict)
    test_dependencies: list[str] = field(default_factory=list)
    requires_python: str = ""
    ambiguous: list[Ambiguity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Necessity(Enum):
    HARD = "hard"
    OPTIONAL = "optional"  # guarded, no alternative: an extra
    COVERED = "covered"  # guarded, and a standard-library alternative exists: nothing, unless the repo insists


@dataclass
class _Need:
    distribution: str
    hard: bool = False
    optional: bool = False
    where: str = ""


def infer_requirements(
    code: Iterable[ModuleImports],
    tests: Iterable[ModuleImports],
    declared: Declared,
    resolver: DistributionResolver,
    *,
    extra_hard: Iterable[str] = (),
) -> Requirements:
    code = list(code)
    result = Requirements()
    needs = _needs(code, declared, resolver, result)
    for name in extra_hard:
        needs.setdefault(canonicalize_name(name), _Need(name, hard=True))
    for key, need in sorted(needs.items()):
        requirement = declared.constraint_for(need.distribution)
        if need.hard or key in declared.hard:
            result.dependencies.append(requirement)
        elif need.optional:
            result.optional_dependencies[key] = [requirement]
    test_needs = _needs(list(tests), declared, resolver, result, guesses=False)
    test_needs.setdefault(TEST_RUNNER, _Need(TEST_RUNNER))
    # pytest plugins load through entry points, never by import: the repo's declarations name them
    for key, requirement in declared.requirements.items():
        if key.startswith(PLUGIN_PREFIX):
            test_needs.setdefault(key, _Need(Requirement(requirement).name))
    result.test_dependencies = [
        declared.constraint_for(need.distribution) for key, need in sorted(test_needs.items()) if key not in needs
    ]
    for module in code:
        for dynamic in module.dynamic:
            result.warnings.append(
                f"{dynamic.file}:{dynamic.line}: imports '{dynamic.module}' dynamically; "
                "maestro cannot tell whether it is needed"
            )
    newest = max([PYTHON_FLOOR, *(m.min_python for m in code)])
    result.requires_python = declared.requires_python or f">={newest[0]}.{newest[1]}"
    return result


def _needs(
    modules: list[ModuleImports], declared: Declared, resolver: DistributionResolver, result: Requirements, *, guesses: bool = True
) -> dict[str, _Need]:
    """Distributions the imports need; without ``guesses``, a module nothing knows (often one a test
    makes at run time, or puts on sys.path itself) is only kept when the repo declares it."""
    needs: dict[str, _Need] = {}
    reported: set[str] = {a.module for a in result.ambiguous}
    for record, necessity in _third_party(modules):
        resolution = resolver.resolve(record.module)
        where = f"{record.file}:{record.line}"
        if resolution.distribution is None:
            if resolution.module not in reported:
                reported.add(resolution.module)
                result.ambiguous.append(Ambiguity(record.module, resolution.candidates, where))
                result.warnings.append(
                    f"{where}: '{record.module}' could come from {' or '.join(resolution.candidates)}; "
                    "add the right one yourself"
                )
            continue
        key = canonicalize_name(resolution.distribution)
        if necessity is Necessity.COVERED and key not in declared.hard:
            continue  # a standard-library alternative exists, and the repo does not insist
        if key not in needs and resolution.resolved_by is ResolvedBy.GUESS and key not in declared.requirements:
            if not guesses:
                result.warnings.append(f"{where}: '{record.top}' is neither installed nor declared; not a test dependency")
                continue
            result.warnings.append(
                f"{where}: no installed distribution or known mapping provides '{record.top}'; assuming '{resolution.distribution}'"
            )
        need = needs.setdefault(key, _Need(resolution.distribution, where=where))
        need.hard = need.hard or necessity is not Necessity.OPTIONAL
        need.optional = need.optional or necessity is Necessity.OPTIONAL
    return needs


def _guarded_only(modules: list[ModuleImports]) -> set[str]:
    """The modules of SOURCE that the others import only under ``try/except ImportError``: whatever
    they import is optional too (httpx guards ``from ._main import main``, and _main needs click)."""
    guarded: set[str] = set()
    plain: set[str] = set()
    for module in modules:
        for record in module.imports:
            if record.kind is ImportKind.INTERNAL and not record.type_checking:
                targets = {record.module, *(f"{record.module}.{name}" for name in record.names)}
                (guarded if record.optional else plain).update(targets)
    return (guarded - plain) & {m.module for m in modules}


def _third_party(modules: list[ModuleImports]) -> Iterable[tuple[ImportRecord, Necessity]]:
    """Each run-time third-party import with how much it is needed."""
    guarded_only = _guarded_only(modules)
    for module in modules:
        unguarded = Necessity.OPTIONAL if module.module in guarded_only else Necessity.HARD
        guards: dict[int, list[ImportRecord]] = defaultdict(list)
        for record in module.imports:
            if record.type_checking:
                continue
            if record.guard_line is not None:
                guards[record.guard_line].append(record)
            elif record.kind is ImportKind.THIRD_PARTY:
                yield record, unguarded
        for group in guards.values():
            # an alternative sits on the other side of the guard: ``import json`` beside ``import yaml``
            # in the same ``try:`` body replaces nothing
            standard_sides = {
                r.fallback for r in group
                if r.kind in (ImportKind.STDLIB, ImportKind.INTERNAL) and (r.names or r.module not in NOT_ALTERNATIVES)
            }
            for record in group:
                if record.kind is not ImportKind.THIRD_PARTY:
                    continue
                if (not record.fallback) in standard_sides:
                    yield record, Necessity.COVERED
                else:
                    yield record, Necessity.HARD if record.fallback else Necessity.OPTIONAL
