"""Carve-out candidates of one repo: what each package or top-level module imports, and who imports it.

Imports come classified from ``maestro extract``'s analysis with no SOURCE (every import of the repo's
own modules is then a legacy import); this module resolves each to the repo module it names, the way
extract resolves a crossing (``from shared import config`` is ``shared.config`` when that is a module),
and judges every candidate at once on that graph.
"""

from __future__ import annotations

import bisect
import os
import re
import shlex
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from ..extract.analysis import ImportKind, ModuleImports
from ..extract.declared import Declared
from ..extract.distributions import DistributionResolver
from ..extract.inference import infer_requirements
from .model import Candidate, Crossing, Verdict
from .repos import LegacyRepo

DECLARATION_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile", "poetry.lock")


@dataclass
class ImportGraph:
    """Run-time imports between the modules of one repo (TYPE_CHECKING imports do not count, as in extract)."""

    names: list[str]  # sorted, so that a package's modules are one slice
    index: dict[str, int]  # position in names: the module's bit in a bit set
    files: dict[str, Path]
    edges: dict[str, list[tuple[str, int]]]  # module -> (imported module, line)
    importers: dict[str, set[str]]
    reach: dict[str, int]  # module -> bit set of every module it needs, itself included

    def members(self, dotted: str, is_package: bool) -> list[str]:
        if not is_package:
            return [dotted]
        start = bisect.bisect_left(self.names, dotted)
        end = bisect.bisect_left(self.names, dotted + "/")  # "/" sorts right after "."
        return self.names[start:end]

    def bits(self, modules: list[str]) -> int:
        mask = 0
        for module in modules:
            mask |= 1 << self.index[module]
        return mask

    def decode(self, mask: int) -> list[str]:
        found = []
        while mask:
            lowest = mask & -mask
            found.append(self.names[lowest.bit_length() - 1])
            mask ^= lowest
        return found


def import_graph(repo: LegacyRepo, imports: dict[Path, ModuleImports]) -> ImportGraph:
    files = {dotted: path for path, dotted in repo.modules.items()}
    names = sorted(files)
    index = {name: position for position, name in enumerate(names)}
    edges: dict[str, list[tuple[str, int]]] = defaultdict(list)
    importers: dict[str, set[str]] = defaultdict(set)
    for path, dotted in repo.modules.items():
        for record in imports[path].imports:
            if record.kind is not ImportKind.LEGACY or record.type_checking:
                continue
            for target in _targets(record.module, record.names, files):
                if target != dotted:
                    edges[dotted].append((target, record.line))
                    importers[target].add(dotted)
    return ImportGraph(names, index, files, dict(edges), dict(importers), _reachability(names, index, edges))


def _targets(module: str, names: tuple[str, ...], files: dict[str, Path]) -> list[str]:
    """The repo modules an import names: submodules taken by ``from``, and the module (or its nearest
    parent) itself unless every name taken is a submodule."""
    submodules = [f"{module}.{name}" for name in names if f"{module}.{name}" in files]
    if names and len(submodules) == len(names):
        return submodules
    while module and module not in files:
        module = module.rpartition(".")[0]
    return [*submodules, module] if module else submodules


def _reachability(names: list[str], index: dict[str, int], edges: dict[str, list[tuple[str, int]]]) -> dict[str, int]:
    """Transitive closure as integer bit sets, iterated to a fixed point (import cycles are common)."""
    successors = {name: {index[t] for t, _ in edges.get(name, ())} for name in names}
    reach = {name: 1 << index[name] for name in names}
    changed = True
    while changed:
        changed = False
        for name in reversed(names):
            combined = reach[name]
            for position in successors[name]:
                combined |= reach[names[position]]
            if combined != reach[name]:
                reach[name] = combined
                changed = True
    return reach


def repo_candidates(
    repo: LegacyRepo,
    units: list[tuple[str, str, Path]],
    imports: dict[Path, ModuleImports],
    loc: dict[Path, int],
    resolver: DistributionResolver,
    declarations: Callable[[Path], Declared],
) -> list[Candidate]:
    """Each of ``units`` (``repos.candidate_units``) judged and given its extract command."""
    graph = import_graph(repo, imports)
    tests = {name for name in graph.names if repo.is_test(graph.files[name])}
    found = []
    for dotted, kind, path in units:
        members = graph.members(dotted, kind != "module")
        member_set = set(members)
        crossings = sorted(
            {
                Crossing(repo.relative(graph.files[member]), line, target)
                for member in members
                for target, line in graph.edges.get(member, ())
                if target not in member_set
            },
            key=lambda c: (c.file, c.line, c.module),
        )
        closure_mask = 0
        for crossing in crossings:
            closure_mask |= graph.reach[crossing.module]
        closure = graph.decode(closure_mask & ~graph.bits(members))
        dependents = sorted(
            {importer for member in members for importer in graph.importers.get(member, ())}
            - member_set
            - tests
        )
        analysed = [imports[graph.files[m]] for m in members]
        unparsable = tuple(
            f"{m.error.file}:{m.error.line}: {m.error.message}"
            for m in [*analysed, *(imports[graph.files[name]] for name in closure)]
            if m.error is not None
        )
        requirements = infer_requirements([m for m in analysed if m.error is None], [], declarations(path), resolver)
        candidate = Candidate(
            repo=repo.name,
            module=dotted,
            path=repo.relative(path),
            kind=kind,
            files=len(members),
            loc=sum(loc[graph.files[m]] for m in members),
            dependencies=tuple(requirements.dependencies),
            crossings=tuple(crossings),
            closure=tuple(closure),
            dependents=tuple(dependents),
            unparsable=unparsable,
            member_files=tuple(repo.relative(graph.files[m]) for m in members),
        )
        found.append(_with_command(candidate, repo))
    return found


def _with_command(candidate: Candidate, repo: LegacyRepo) -> Candidate:
    """The ``maestro extract`` line for a ready or needs candidate, with paths as the user gave them."""
    if candidate.verdict is Verdict.BLOCKED:
        return candidate
    name = canonicalize_name(re.sub(r"[^A-Za-z0-9]+", "-", f"{repo.name}-{candidate.module.rpartition('.')[2]}").strip("-"))
    words = ["maestro", "extract", str(Path(repo.shown, candidate.path)), "--name", name, "--repo", repo.shown]
    if candidate.verdict is Verdict.NEEDS:
        words.append("--with-internal")
    return replace(candidate, extract_command=shlex.join(words))


def declares_anything(folder: Path) -> bool:
    """Whether ``folder`` holds a file that declares requirements or a project."""
    try:
        names = os.listdir(folder)  # one system call, where testing each file name takes seven
    except OSError:
        return False
    return any(name in DECLARATION_FILES or (name.startswith("requirements") and name.endswith(".txt")) for name in names)
