"""What a report knows, held in bounded memory: counters, a capped failure list and a top-N heap.

A :class:`Tally` takes one :class:`Case` at a time and keeps only what the report shows, so a
million test cases cost no more memory than a thousand. Tallies made in worker processes are
merged in input order, which keeps the report the same whether one process or two did the work.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .spool import CaseSpool

OUTCOMES = ("passed", "failed", "error", "skipped", "flaky")
FAILING = frozenset(("failed", "error"))

# the index of each counter in a bucket list: [tests, passed, failed, errors, skipped, flaky, time];
# plain lists because a bucket is updated once per test case, the hottest line of the report
_SLOT = {"passed": 1, "failed": 2, "error": 3, "skipped": 4, "flaky": 5}
_TIME = 6

MAX_FAILURES = 500  # failures kept with message and details; the rest are counted
MAX_FAILING_IDS = 50_000  # identities of failing tests kept for --baseline and --history
MAX_FLAKY = 1_000
MAX_BUCKETS = 5_000  # suites or classes; past this the rest share one "(other)" bucket
OTHER_BUCKET = "(other)"
DETAIL_LINES = 40
DETAIL_CHARS = 8_000
MAX_MESSAGE = 4_000  # pytest puts a whole assertion diff in the message attribute


@dataclass(slots=True)
class AttachmentRef:
    """A file a test produced (a screenshot, a trace), as an absolute path."""

    path: str
    kind: str = "file"
    content_type: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Case:
    """One test case as read from an input, before it is folded into a :class:`Tally`."""

    suite: str
    classname: str
    name: str
    outcome: str = "passed"
    time: float = 0.0
    file: str | None = None
    line: int | None = None
    kind: str | None = None  # failure or error, for failing cases
    message: str | None = None
    details: str | None = None
    reruns: int = 0  # failed attempts before the last one
    rerun_message: str | None = None  # the first failed attempt's message
    attachments: list[AttachmentRef] = field(default_factory=list)
    record: Any = None  # the Failure or Flaky this case put in a tally, to take it back on a rerun

    @property
    def identity(self) -> tuple[str, str]:
        return identity(self.suite, self.classname, self.name)

    @property
    def evidence(self) -> str:
        times = "once" if self.reruns == 1 else f"{self.reruns} times"
        if self.outcome == "flaky":
            text = f"failed {times}, then passed on rerun"
        else:
            text = f"failed all {self.reruns + 1} attempts"
        return f"{text}: {self.rerun_message}" if self.rerun_message else text


def identity(suite: str, classname: str, name: str) -> tuple[str, str]:
    """How one test is known across runs: its class (its suite when it has none) and its name."""
    return (classname or suite, name)


def test_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}::{pair[1]}"


def clip(text: str | None, lines: int = DETAIL_LINES, chars: int = DETAIL_CHARS) -> str | None:
    """The first lines of a detail text: a stack trace's head is where the cause is."""
    if not text:
        return text
    text = text.strip("\n")
    if len(text) <= chars and text.count("\n") < lines:
        return text
    head = "\n".join(text.split("\n", lines)[:lines])[:chars]
    return head if head == text else head + "\n…"


@dataclass(slots=True)
class Failure:
    suite: str
    classname: str
    name: str
    kind: str
    message: str | None
    details: str | None
    time: float
    file: str | None = None
    line: int | None = None
    evidence: str | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)
    status: str | None = None  # new / still-failing, when compared with a baseline

    @property
    def test_id(self) -> str:
        return test_id(identity(self.suite, self.classname, self.name))


@dataclass(slots=True)
class Flaky:
    suite: str
    classname: str
    name: str
    evidence: str
    source: str = "rerun"  # rerun: within this run; history: across runs in --history
    flip_rate: float | None = None


@dataclass(slots=True)
class Slow:
    suite: str
    classname: str
    name: str
    time: float


@dataclass(slots=True)
class Problem:
    """Something wrong with one input: a warning, or fatal under ``--strict``."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.path, self.line, self.column) if p is not None)
        return f"{where}: {self.message}"


@dataclass(slots=True)
class InputInfo:
    path: str
    format: str  # junit, maestro-results, unknown
    tests: int = 0
    ok: bool = True


@dataclass
class Counts:
    name: str
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    time: float = 0.0

    @classmethod
    def from_bucket(cls, name: str, bucket: list[Any]) -> Counts:
        return cls(name, *bucket[:_TIME], round(bucket[_TIME], 6))

    @property
    def failing(self) -> int:
        return self.failed + self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "flaky": self.flaky,
            "time": round(self.time, 3),
        }


def _new_bucket() -> list[Any]:
    return [0, 0, 0, 0, 0, 0, 0.0]


def _bucket(buckets: dict[str, list[Any]], key: str) -> list[Any]:
    bucket = buckets.get(key)
    if bucket is None:
        bucket = buckets.setdefault(key if len(buckets) < MAX_BUCKETS else OTHER_BUCKET, _new_bucket())
    return bucket


class Tally:
    """Running aggregate of test cases; every field is bounded whatever the input size."""

    def __init__(self, top: int = 10) -> None:
        self.top = top
        self.suites: dict[str, list[Any]] = {}
        self.classes: dict[str, list[Any]] = {}
        self.failures: list[Failure] = []
        self.failures_total = 0
        self.failing_ids: set[tuple[str, str]] = set()
        self.failing_ids_complete = True
        self.flaky: list[Flaky] = []
        self.flaky_total = 0
        self.slowest: list[tuple[float, int, Slow]] = []  # a min-heap of the N longest
        self._sequence = 0  # heap tie-breaker, so equal times never compare Slow objects
        self.inputs: list[InputInfo] = []
        self.problems: list[Problem] = []
        self.spool: CaseSpool | None = None  # set when an output lists every case
        self.spool_paths: list[str] = []
        # a case must last longer than this to enter the slowest list (infinite when --top 0)
        self.slow_floor = 0.0 if top else math.inf
        self._last_suite: str | None = None
        self._last_suite_bucket: list[Any] = []
        self._last_class: str | None = None
        self._last_class_bucket: list[Any] = []

    # -- one case -----------------------------------------------------------------------------
    def add_passes(self, suite: str, classname: str, count: int, time: float) -> None:
        """Passing cases of one suite and class in a row: the common ones, counted in one go."""
        for bucket in (self._suite_bucket(suite), self._class_bucket(classname or suite)):
            bucket[0] += count
            bucket[1] += count
            bucket[_TIME] += time

    def add(self, case: Case) -> None:
        self._count(case, 1)
        outcome = case.outcome
        if outcome in FAILING:
            self.failures_total += 1
            if len(self.failures) < MAX_FAILURES:
                case.record = self._failure(case)
                self.failures.append(case.record)
            if len(self.failing_ids) < MAX_FAILING_IDS:
                self.failing_ids.add(case.identity)
            else:
                self.failing_ids_complete = False
        elif outcome == "flaky":
            self.flaky_total += 1
            if len(self.flaky) < MAX_FLAKY:
                case.record = Flaky(case.suite, case.classname, case.name, case.evidence)
                self.flaky.append(case.record)
        if case.time > self.slow_floor:
            self.push_slow(Slow(case.suite, case.classname, case.name, case.time))

    def retract(self, case: Case) -> None:
        """Take back a case that turned out to be an earlier attempt of a rerun test."""
        self._count(case, -1)
        if case.outcome in FAILING:
            self.failures_total -= 1
            self.failing_ids.discard(case.identity)
            if case.record is not None:
                self.failures.remove(case.record)
        elif case.outcome == "flaky":
            self.flaky_total -= 1
            if case.record is not None:
                self.flaky.remove(case.record)
        case.record = None

    def _count(self, case: Case, sign: int) -> None:
        slot = _SLOT[case.outcome]
        for bucket in (self._suite_bucket(case.suite), self._class_bucket(case.classname or case.suite)):
            bucket[0] += sign
            bucket[slot] += sign
            bucket[_TIME] += case.time * sign

    # consecutive cases nearly always share their suite and class: remember the last bucket of each
    def _suite_bucket(self, suite: str) -> list[Any]:
        if suite != self._last_suite:
            self._last_suite, self._last_suite_bucket = suite, _bucket(self.suites, suite)
        return self._last_suite_bucket

    def _class_bucket(self, group: str) -> list[Any]:
        if group != self._last_class:
            self._last_class, self._last_class_bucket = group, _bucket(self.classes, group)
        return self._last_class_bucket

    def push_slow(self, slow: Slow) -> None:
        """Offer a test to the slowest list; callers skip those not longer than ``slow_floor``."""
        self._sequence += 1
        if len(self.slowest) < self.top:
            heapq.heappush(self.slowest, (slow.time, self._sequence, slow))
        else:
            heapq.heapreplace(self.slowest, (slow.time, self._sequence, slow))
        if len(self.slowest) >= self.top:
            self.slow_floor = self.slowest[0][0]

    @staticmethod
    def _failure(case: Case) -> Failure:
        return Failure(
            suite=case.suite,
            classname=case.classname,
            name=case.name,
            kind=case.kind or ("error" if case.outcome == "error" else "failure"),
            message=case.message,
            details=clip(case.details),
            time=case.time,
            file=case.file,
            line=case.line,
            evidence=case.evidence if case.reruns else None,
            attachments=list(case.attachments),
        )

    # -- combining ----------------------------------------------------------------------------
    def merge(self, other: Tally) -> None:
        """Fold in a tally of later inputs (from a worker process)."""
        for mine, theirs in ((self.suites, other.suites), (self.classes, other.classes)):
            for key, bucket in theirs.items():
                target = _bucket(mine, key)
                for index, value in enumerate(bucket):
                    target[index] += value
        self.failures.extend(other.failures[: MAX_FAILURES - len(self.failures)])
        self.failures_total += other.failures_total
        room = MAX_FAILING_IDS - len(self.failing_ids)
        self.failing_ids.update(list(other.failing_ids)[: max(room, 0)])
        self.failing_ids_complete &= other.failing_ids_complete and len(other.failing_ids) <= room
        self.flaky.extend(other.flaky[: MAX_FLAKY - len(self.flaky)])
        self.flaky_total += other.flaky_total
        for entry in sorted(other.slowest, key=lambda e: e[1]):
            if entry[0] > self.slow_floor:
                self.push_slow(entry[2])
        self.inputs.extend(other.inputs)
        self.problems.extend(other.problems)
        self.spool_paths.extend(other.spool_paths)

    # -- results ------------------------------------------------------------------------------
    def totals(self) -> Counts:
        total = _new_bucket()
        for bucket in self.suites.values():
            for index, value in enumerate(bucket):
                total[index] += value
        return Counts.from_bucket("total", total)

    def suite_counts(self) -> list[Counts]:
        return [Counts.from_bucket(name, bucket) for name, bucket in self.suites.items() if bucket[0]]

    def class_counts(self) -> list[Counts]:
        return [Counts.from_bucket(name, bucket) for name, bucket in self.classes.items() if bucket[0]]

    def slowest_tests(self) -> list[Slow]:
        """Longest first; a rerun test counted more than once shows once, with its longest time."""
        seen: set[tuple[str, str, str]] = set()
        result: list[Slow] = []
        for _, _, slow in sorted(self.slowest, key=lambda entry: (-entry[0], entry[1])):
            key = (slow.suite, slow.classname, slow.name)
            if key not in seen:
                seen.add(key)
                result.append(slow)
        return result

