"""Groups of near-identical modules, classes and functions, found without comparing every pair.

Units are bucketed by bands of their MinHash signatures (locality-sensitive hashing): two units
land in a common bucket with a probability that rises steeply with their similarity, so only
units that share a bucket are compared. Pairs at or above the similarity threshold are joined into
groups (A ≈ B ≈ C); a group whose every member lies inside a member of a larger group (the
functions of two copied modules) says nothing new and is left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations, compress, repeat
from operator import getitem, xor

from .fingerprint import BINS, WORD, estimated_similarity
from .model import DuplicateGroup, DuplicateMember

# rows per band, most selective first; the chosen one puts the LSH threshold (1/bands)**(1/rows)
# well below the requested similarity, so that pairs above it are found with near certainty
_ROWS_CHOICES = (8, 6, 4, 2)
_THRESHOLD_MARGIN = 0.15
# a bucket this crowded holds boilerplate shapes; its members are compared with its first one only
_CROWDED_BUCKET = 64
_KIND_ORDER = {"module": 0, "class": 1, "function": 2}


@dataclass(frozen=True)
class Unit:
    """One fingerprinted module, class or function of one repo."""

    repo: str
    path: str  # relative to the repo
    kind: str
    name: str
    start: int
    end: int
    signature: bytes  # BINS values packed as array("q")

    @property
    def lines(self) -> int:
        return self.end - self.start + 1

    def overlaps(self, other: Unit) -> bool:
        return (self.repo, self.path) == (other.repo, other.path) and self.start <= other.end and other.start <= self.end


def rows_per_band(similarity: float) -> int:
    for rows in _ROWS_CHOICES:
        if (1 / (BINS // rows)) ** (1 / rows) <= similarity - _THRESHOLD_MARGIN:
            return rows
    return _ROWS_CHOICES[-1]


def find_duplicates(units: Sequence[Unit], similarity: float) -> list[DuplicateGroup]:
    """Every group of two or more units at least ``similarity`` alike, largest duplication first."""
    pairs = _similar_pairs(units, similarity)
    parent = list(range(len(units)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    weakest: dict[int, float] = {}
    for (first, second), score in sorted(pairs.items(), key=lambda item: -item[1]):
        a, b = root(first), root(second)
        if a != b:
            parent[b] = a
            weakest[a] = min(score, weakest.get(a, 1.0), weakest.get(b, 1.0))
    members: dict[int, list[int]] = defaultdict(list)
    for index in sorted({i for pair in pairs for i in pair}):
        members[root(index)].append(index)
    groups = [_group([units[i] for i in indexes], weakest[group]) for group, indexes in members.items()]
    groups.sort(key=lambda g: (_KIND_ORDER[g.kind], -g.duplicated_lines))
    kept: list[DuplicateGroup] = []
    kept_in_file: dict[tuple[str, str], list[DuplicateGroup]] = defaultdict(list)
    for group in groups:
        first = group.members[0]
        if any(_covers(bigger, group) for bigger in kept_in_file[(first.repo, first.path)]):
            continue
        kept.append(group)
        for member in group.members:
            kept_in_file[(member.repo, member.path)].append(group)
    kept.sort(key=lambda g: (-g.duplicated_lines, -g.similarity))
    return kept


def _similar_pairs(units: Sequence[Unit], similarity: float) -> dict[tuple[int, int], float]:
    rows = rows_per_band(similarity)
    bands = BINS // rows
    # every band of every unit as one int: the band's hash salted with its kind and position, made
    # in C (zip over one iterator cuts a signature into bands); hash collisions only add candidates
    # in C: a band is a slice of the packed signature, and bytes hash without making an int per value
    # (unlike tuples, bytes hash differently in each process: the keys only group within this run)
    salts = {kind: [hash((kind, band)) for band in range(bands)] for kind in _KIND_ORDER}
    band_slices = [slice(band * rows * WORD, (band + 1) * rows * WORD) for band in range(bands)]
    keys: list[int] = []
    for unit in units:
        keys += map(xor, map(hash, map(getitem, repeat(unit.signature, bands), band_slices)), salts[unit.kind])
    # most keys are unique: count them in C and visit only the positions of repeated ones
    counts = Counter(keys)
    buckets: dict[int, list[int]] = defaultdict(list)
    for position in compress(range(len(keys)), map((1).__lt__, map(counts.__getitem__, keys))):
        buckets[keys[position]].append(position // bands)
    scored: dict[tuple[int, int], float] = {}
    for bucket in buckets.values():
        candidates = combinations(bucket, 2) if len(bucket) <= _CROWDED_BUCKET else ((bucket[0], i) for i in bucket[1:])
        for pair in candidates:
            if pair in scored:
                continue
            first, second = units[pair[0]], units[pair[1]]
            scored[pair] = -1.0 if first.overlaps(second) else estimated_similarity(first.signature, second.signature)
    return {pair: score for pair, score in scored.items() if score >= similarity}


def _group(units: list[Unit], similarity: float) -> DuplicateGroup:
    units.sort(key=lambda u: (-u.lines, u.repo, u.path, u.start))
    reference = units[0]
    members = tuple(
        DuplicateMember(
            repo=unit.repo,
            path=unit.path,
            name=unit.name,
            start=unit.start,
            end=unit.end,
            similarity=round(estimated_similarity(reference.signature, unit.signature), 3),
        )
        for unit in units
    )
    return DuplicateGroup(kind=reference.kind, similarity=round(similarity, 3), members=members)


def _covers(bigger: DuplicateGroup, smaller: DuplicateGroup) -> bool:
    return all(any(outer.contains(inner) for outer in bigger.members) for inner in smaller.members)
