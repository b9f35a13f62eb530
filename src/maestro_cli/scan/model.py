"""What a scan finds, and how candidates are judged and ranked.

A candidate's verdict follows from what extracting it would meet: a file that does not parse blocks
it; imports of other legacy modules (crossings) mean ``maestro extract --with-internal`` has to carry
their closure along; neither means it is ready. Rank is value over cost: code that many modules use
(or that was copied into other repos, where the package would replace the copy) and that is big
enough to matter, divided by what has to come along with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    READY = "ready"
    NEEDS = "needs"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Crossing:
    """An import that leaves the candidate for another module of the same repo."""

    file: str
    line: int
    module: str


@dataclass(frozen=True)
class Candidate:
    repo: str
    module: str  # dotted name
    path: str  # relative to the repo
    kind: str  # "package", "subpackage" or "module"
    files: int
    loc: int
    dependencies: tuple[str, ...]  # PEP 508 strings, as maestro extract would declare them
    crossings: tuple[Crossing, ...]
    closure: tuple[str, ...]  # the legacy modules ``--with-internal`` would copy along
    dependents: tuple[str, ...]  # modules of the repo outside the candidate that import it
    unparsable: tuple[str, ...]  # "file:line: message" for each file (or closure file) that does not parse
    member_files: tuple[str, ...] = ()  # its Python files, relative to the repo
    copies: tuple[str, ...] = ()  # near copies of its code in other repos ("repo/path:start-end"): more who benefit
    extract_command: str | None = None

    @property
    def verdict(self) -> Verdict:
        if self.unparsable:
            return Verdict.BLOCKED
        return Verdict.NEEDS if self.crossings else Verdict.READY

    @property
    def verdict_label(self) -> str:
        if self.verdict is Verdict.NEEDS:
            count = len(self.closure)
            return f"needs {count} module{'s' if count != 1 else ''}"
        return self.verdict.value

    @property
    def score(self) -> float:
        """Value over cost; zero for blocked candidates, which cannot be extracted as they are."""
        if self.verdict is Verdict.BLOCKED:
            return 0.0
        value = (1 + len(self.dependents) + len(self.copies)) * math.log2(2 + self.loc)
        cost = 1 + len(self.crossings) + len(self.closure)
        return round(value / cost, 2)


def ranked(candidates: list[Candidate]) -> list[Candidate]:
    """Best first: highest score, then the bigger, then by name so that equal scores keep one order."""
    return sorted(candidates, key=lambda c: (-c.score, -c.loc, c.repo, c.module))


@dataclass(frozen=True)
class DuplicateMember:
    repo: str
    path: str
    name: str  # qualified class or function name; "" for a whole module
    start: int
    end: int
    similarity: float  # to the group's first (largest) member

    @property
    def lines(self) -> int:
        return self.end - self.start + 1

    def contains(self, other: DuplicateMember) -> bool:
        return (self.repo, self.path) == (other.repo, other.path) and self.start <= other.start and other.end <= self.end

    @property
    def location(self) -> str:
        return f"{self.repo}/{self.path}:{self.start}-{self.end}"


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "module", "class" or "function"
    similarity: float  # the weakest link that joined the group
    members: tuple[DuplicateMember, ...]

    @property
    def repos(self) -> list[str]:
        return sorted({member.repo for member in self.members})

    @property
    def duplicated_lines(self) -> int:
        """Lines beyond one copy: what consolidating the group into one package would remove."""
        sizes = [member.lines for member in self.members]
        return sum(sizes) - max(sizes)


@dataclass(frozen=True)
class Repo:
    name: str
    path: str  # as the user gave it (joined with the folder found in it)
    files: int
    lines: int
    loc: int
    unparsable: int


@dataclass(frozen=True)
class Summary:
    repos: int
    files: int
    lines: int  # physical lines of every Python file scanned
    loc: int  # lines holding code (no blanks, comments or string continuation lines)
    unparsable_files: int
    duplicated_lines: int  # lines that have a near copy in another repo
    duplicated_share: float
    ready_loc: int  # code in ready top-level candidates
    ready_share: float
    reuse_lines: int  # copies elsewhere that the top candidates, once extracted, would replace
    reuse_share: float
    top: int


@dataclass(frozen=True)
class ScanReport:
    repos: tuple[Repo, ...]
    candidates: tuple[Candidate, ...]  # ranked
    duplicates: tuple[DuplicateGroup, ...]
    summary: Summary
    similarity: float
    min_lines: int
    warnings: tuple[str, ...] = field(default_factory=tuple)


def candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "repo": candidate.repo,
        "module": candidate.module,
        "path": candidate.path,
        "kind": candidate.kind,
        "files": candidate.files,
        "loc": candidate.loc,
        "verdict": candidate.verdict.value,
        "verdict_label": candidate.verdict_label,
        "score": candidate.score,
        "crossings": [asdict(crossing) for crossing in candidate.crossings],
        "closure": list(candidate.closure),
        "dependents": list(candidate.dependents),
        "dependencies": list(candidate.dependencies),
        "copies": list(candidate.copies),
        "unparsable": list(candidate.unparsable),
        "extract_command": candidate.extract_command,
    }


def group_to_json(group: DuplicateGroup) -> dict[str, Any]:
    return {
        "kind": group.kind,
        "similarity": group.similarity,
        "repos": group.repos,
        "duplicated_lines": group.duplicated_lines,
        "members": [asdict(member) for member in group.members],
    }


def report_to_json(report: ScanReport) -> dict[str, Any]:
    """The ``--format json`` document: a pure function of the report (pip's ``format_for_json``)."""
    return {
        "repos": [asdict(repo) for repo in report.repos],
        "candidates": [candidate_to_json(candidate) for candidate in report.candidates],
        "duplicates": [group_to_json(group) for group in report.duplicates],
        "summary": asdict(report.summary),
        "options": {"similarity": report.similarity, "min_lines": report.min_lines},
        "warnings": list(report.warnings),
    }
