"""Judging what the scan read: candidates ranked with their extract commands, duplicate groups and
the summary. Imported by the engine only once the worker processes are parsing (they never need it).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..extract.analysis import ImportContext, ModuleImports, classify_scan
from ..extract.declared import Declared, read_declarations
from ..extract.distributions import DistributionResolver
from ..extract.roots import top_level_modules
from .candidates import declares_anything, repo_candidates
from .duplicates import Unit, find_duplicates
from .known_groups import KnownGroups
from .model import Candidate, DuplicateGroup, DuplicateMember, Repo, ScanReport, Summary, Verdict, ranked
from .repos import LegacyRepo, candidate_units

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from .engine import ScanRequest
    from .sources import Facts, Reading

T = TypeVar("T")


class Groundwork:
    """What judging needs that no file's contents decide, laid while the worker processes parse: the
    installed distributions, and each repo's candidates, top-level names and declarations (read in
    judging's order, so that their warnings keep it). Anything not laid is made on first need."""

    def __init__(self, repos: list[LegacyRepo], cache_dir: Path | None, warnings: list[str]) -> None:
        self.repos = repos
        self.resolver = DistributionResolver(cache_dir=cache_dir)
        self.declarations = {repo.root: _declarations(repo.root, warnings) for repo in repos}
        self._units: dict[Path, list[tuple[str, str, Path]]] = {}
        self._contexts: dict[Path, ImportContext] = {}

    def lay(self) -> None:
        self.resolver.load()
        for repo in self.repos:
            for _, _, path in self.units(repo):
                self.declarations[repo.root](path)
            self.context(repo)

    def units(self, repo: LegacyRepo) -> list[tuple[str, str, Path]]:
        if repo.root not in self._units:
            self._units[repo.root] = candidate_units(repo)
        return self._units[repo.root]

    def context(self, repo: LegacyRepo) -> ImportContext:
        """Extract's classification with no SOURCE: every import of the repo's own modules is a legacy one."""
        if repo.root not in self._contexts:
            self._contexts[repo.root] = ImportContext("", frozenset(top_level_modules(repo.import_roots)))
        return self._contexts[repo.root]


def judged(
    request: ScanRequest,
    repos: list[LegacyRepo],
    reading: Reading,
    groundwork: Groundwork,
    warnings: list[str],
    step: Callable[[str], None],
    later: Callable[[Callable[[], None]], None],
) -> ScanReport:
    """The report; ``later`` takes cache writes to do beside the rest of the work."""
    step("judging candidates")
    facts_of = dict(zip((path for repo in repos for path in repo.files), reading.facts, strict=True))
    known_groups = KnownGroups.for_scan(
        request.cache_dir,
        (repo.root for repo in repos),
        request.similarity,
        request.min_lines,
        ((repo.name, repo.relative(path), facts_of[path][1]) for repo in repos for path in repo.files),
    )
    duplicates = known_groups.load()
    if duplicates is None:
        grouping = _beside(_grouped, repos, facts_of, request.similarity, fork=request.jobs > 1)
    later(reading.save)  # after the fork: a child never starts beside a thread that writes
    candidates: list[Candidate] = []
    summaries: list[Repo] = []
    for repo in repos:
        context = groundwork.context(repo)
        imports: dict[Path, ModuleImports] = {}
        lines, loc = {}, {}
        for path in repo.files:
            scan, key, (lines[path], loc[path], _) = facts_of[path]
            relative = repo.relative(path)
            module = repo.modules.get(path, path.stem)
            imports[path] = classify_scan(scan, key, relative, module, is_package=path.name == "__init__.py", context=context)
        candidates += repo_candidates(
            repo, groundwork.units(repo), imports, loc, groundwork.resolver, groundwork.declarations[repo.root]
        )
        summaries.append(
            Repo(
                name=repo.name,
                path=repo.shown,
                files=len(repo.files),
                lines=sum(lines.values()),
                loc=sum(loc.values()),
                unparsable=sum(1 for m in imports.values() if m.error is not None),
            )
        )
    if duplicates is None:
        step("grouping duplicates")
        duplicates = grouping()
        later(partial(known_groups.save, duplicates))
    holdings = _Holdings(duplicates)
    ordered = ranked([replace(c, copies=holdings.copies_of(c)) for c in candidates])
    top = [c for c in ordered if c.verdict is not Verdict.BLOCKED][: request.top]
    return ScanReport(
        repos=tuple(summaries),
        candidates=tuple(ordered[: request.top]),
        duplicates=tuple(duplicates),
        summary=_summary(summaries, ordered, duplicates, top, holdings, request.top),
        similarity=request.similarity,
        min_lines=request.min_lines,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _grouped(repos: list[LegacyRepo], facts_of: dict[Path, Facts], similarity: float) -> list[DuplicateGroup]:
    units = [Unit(repo.name, repo.relative(path), *unit) for repo in repos for path in repo.files for unit in facts_of[path][2][2]]
    return find_duplicates(units, similarity)


def _beside(function: Callable[..., T], *args: object, fork: bool) -> Callable[[], T]:
    """``function(*args)`` in a forked child, beside what this process does next; the callable
    returned waits for the result. Without ``fork`` (or where processes cannot fork, or when the
    child dies), the function runs here when its result is asked for."""
    if not fork or sys.platform == "win32":
        return lambda: function(*args)
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    # a child flushes the standard streams it inherited when it ends: nothing may be waiting in them
    sys.stdout.flush()
    sys.stderr.flush()
    child = context.Process(target=_send_result, args=(sending, function, args), daemon=True)
    child.start()
    sending.close()

    def result() -> T:
        try:
            succeeded, outcome = receiving.recv()
        except EOFError:  # killed: the work is done here instead
            succeeded, outcome = True, function(*args)
        finally:
            receiving.close()
            child.join()
        if not succeeded:
            raise outcome
        return outcome  # type: ignore[no-any-return]

    return result


def _send_result(sending: Connection, function: Callable[..., object], args: tuple[object, ...]) -> None:
    try:
        sending.send((True, function(*args)))
    except BaseException as exc:  # raised again in the parent, where the scan's errors are handled
        sending.send((False, exc))


def _declarations(root: Path, warnings: list[str]) -> Callable[[Path], Declared]:
    """What the repo declares for a candidate, read once per project folder (the repo's root, mostly)."""

    @cache
    def for_project(folder: Path) -> Declared:
        found = read_declarations(root, folder)
        warnings.extend(found.warnings)
        return found

    @cache
    def project_of(folder: Path) -> Path:
        """The nearest folder from ``folder`` up to the root that declares anything; each folder is
        listed once, however many candidates lie below it."""
        return folder if folder == root or declares_anything(folder) else project_of(folder.parent)

    return lambda path: for_project(project_of(path if path.is_dir() else path.parent))


class _Holdings:
    """Which duplicate groups have a member inside a candidate, and where their copies in other repos
    are: those the extracted package would replace. (Near copies inside one repo, such as Django's
    per-locale format files, are often meant to be separate and do not make a candidate worth more.)"""

    def __init__(self, duplicates: list[DuplicateGroup]) -> None:
        self.by_file: dict[tuple[str, str], list[DuplicateGroup]] = defaultdict(list)
        for group in duplicates:
            for member in group.members:
                self.by_file[(member.repo, member.path)].append(group)

    def groups_of(self, candidate: Candidate) -> list[DuplicateGroup]:
        held = {id(g): g for path in candidate.member_files for g in self.by_file.get((candidate.repo, path), ())}
        return list(held.values())

    def outside(self, candidate: Candidate, group: DuplicateGroup) -> list[DuplicateMember]:
        return [m for m in group.members if m.repo != candidate.repo]

    def copies_of(self, candidate: Candidate) -> tuple[str, ...]:
        return tuple(sorted({m.location for g in self.groups_of(candidate) for m in self.outside(candidate, g)}))


def _summary(
    repos: list[Repo],
    candidates: list[Candidate],
    duplicates: list[DuplicateGroup],
    top: list[Candidate],
    holdings: _Holdings,
    top_count: int,
) -> Summary:
    lines = sum(r.lines for r in repos)
    loc = sum(r.loc for r in repos)
    across = [g for g in duplicates if len(g.repos) > 1]
    duplicated = _covered_lines((m.repo, m.path, m.start, m.end) for g in across for m in g.members)
    ready_loc = sum(c.loc for c in candidates if c.verdict is Verdict.READY and not _inside_ready(c, candidates))
    # each group is replaced by the best-ranked top candidate holding one of its members, once
    replaced: list[tuple[str, str, int, int]] = []
    credited: set[int] = set()
    for candidate in top:
        for group in holdings.groups_of(candidate):
            if id(group) not in credited:
                credited.add(id(group))
                replaced += [(m.repo, m.path, m.start, m.end) for m in holdings.outside(candidate, group)]
    reuse = _covered_lines(replaced)
    return Summary(
        repos=len(repos),
        files=sum(r.files for r in repos),
        lines=lines,
        loc=loc,
        unparsable_files=sum(r.unparsable for r in repos),
        duplicated_lines=duplicated,
        duplicated_share=round(duplicated / lines, 4) if lines else 0.0,
        ready_loc=ready_loc,
        ready_share=round(ready_loc / loc, 4) if loc else 0.0,
        reuse_lines=reuse,
        reuse_share=round(reuse / lines, 4) if lines else 0.0,
        top=min(top_count, len(top)),
    )


def _inside_ready(candidate: Candidate, candidates: list[Candidate]) -> bool:
    """A ready subpackage of a ready package is counted once, with its package."""
    return any(
        other.repo == candidate.repo and other.verdict is Verdict.READY and candidate.module.startswith(other.module + ".")
        for other in candidates
    )


def _covered_lines(ranges: Iterable[tuple[str, str, int, int]]) -> int:
    """Lines covered by the ranges, each line of each file counted once."""
    by_file: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for repo, path, start, end in ranges:
        by_file[(repo, path)].append((start, end))
    total = 0
    for spans in by_file.values():
        reached = 0
        for start, end in sorted(spans):
            start = max(start, reached + 1)
            if end >= start:
                total += end - start + 1
                reached = end
    return total
