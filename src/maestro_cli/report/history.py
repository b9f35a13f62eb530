"""What earlier runs say: a compact summary per run in ``--history DIR``, and ``--baseline``.

A run's summary holds its totals and the identities of its failing tests, nothing per passing
test, so a hundred runs of 100k tests take kilobytes. A test that is failing in some runs and not
in others of the recent window is flaky across runs; its flip rate is how often its state changed
from one run to the next. A test absent from a run's failing list counts as passing in that run:
the summary does not list passing tests, which is the price of keeping it compact.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, Location
from ..fsutil import atomic_write_text
from .model import Counts, Flaky, Problem

HISTORY_FORMAT = "maestro-report-history"
HISTORY_VERSION = 1
TREND_RUNS = 30  # points in the trend chart
FLIP_WINDOW = 20  # runs looked at for flakiness across runs
MIN_FLIP_RUNS = 3
MAX_RECORDED_FAILING = 5_000
MAX_LISTED = 1_000


@dataclass(frozen=True)
class RunPoint:
    run_id: str
    generated: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    time: float

    @property
    def pass_rate(self) -> float:
        ran = self.tests - self.skipped
        return (self.passed + self.flaky) / ran if ran else 1.0


@dataclass
class BaselineDiff:
    path: str
    new: list[str] = field(default_factory=list)
    still_failing: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def record_run(
    folder: Path, title: str, generated: datetime, totals: Counts, failing: list[tuple[str, str]]
) -> tuple[Path, dict[str, Any]]:
    """Write this run's summary as a new file; earlier summaries are never touched."""
    run_id = uuid.uuid4().hex[:12]
    summary = {
        "format": HISTORY_FORMAT,
        "version": HISTORY_VERSION,
        "run_id": run_id,
        "generated": generated.isoformat(timespec="seconds"),
        "title": title,
        "totals": totals.to_dict(),
        "failing": [list(pair) for pair in failing[:MAX_RECORDED_FAILING]],
    }
    path = folder / f"{generated:%Y%m%dT%H%M%S%f}-{run_id}.json"
    atomic_write_text(path, json.dumps(summary, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path, summary


def load_history(folder: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The most recent summaries, oldest first (file names sort by time)."""
    if not folder.is_dir():
        return [], []
    summaries: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.json"))[-max(TREND_RUNS, FLIP_WINDOW) :]:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(path), f"unreadable history entry, skipped: {exc}"))
            continue
        if isinstance(summary, dict) and summary.get("format") == HISTORY_FORMAT and isinstance(summary.get("totals"), dict):
            summaries.append(summary)
        else:
            problems.append(Problem(str(path), "not a maestro report history entry, skipped"))
    return summaries, problems


def trend(summaries: list[dict[str, Any]]) -> list[RunPoint]:
    points = []
    for summary in summaries[-TREND_RUNS:]:
        totals = summary["totals"]
        points.append(
            RunPoint(
                run_id=str(summary.get("run_id", "")),
                generated=str(summary.get("generated", "")),
                **{key: int(totals.get(key, 0)) for key in ("tests", "passed", "failed", "errors", "skipped", "flaky")},
                time=float(totals.get("time", 0.0)),
            )
        )
    return points


def flaky_across_runs(summaries: list[dict[str, Any]], limit: int = MAX_LISTED) -> list[Flaky]:
    """Tests whose state flipped at least twice in the recent runs, most often flipping first."""
    window = [s for s in summaries if s["totals"].get("tests")][-FLIP_WINDOW:]
    if len(window) < MIN_FLIP_RUNS:
        return []
    failing_sets = [{tuple(pair) for pair in s.get("failing", []) if isinstance(pair, list) and len(pair) == 2} for s in window]
    found: list[Flaky] = []
    for group, name in set().union(*failing_sets):
        states = [(group, name) in failing for failing in failing_sets]
        flips = sum(1 for before, after in zip(states, states[1:], strict=False) if before != after)
        if flips >= 2:
            rate = flips / (len(states) - 1)
            evidence = f"failed in {sum(states)} of {len(states)} runs, flip rate {rate:.0%}"
            found.append(Flaky(suite=group, classname=group, name=name, evidence=evidence, source="history", flip_rate=round(rate, 3)))
    found.sort(key=lambda f: (-(f.flip_rate or 0), f.classname, f.name))
    return found[:limit]


def compare_baseline(path: Path, failing: set[str]) -> BaselineDiff:
    """Failures that are new since an earlier ``--format json`` report, still failing, or fixed."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the baseline: {exc.strerror or exc}", location=Location(str(path))) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"the baseline is not JSON: {exc.msg}", location=Location(str(path), exc.lineno, exc.colno)) from None
    earlier = _failing_of(document)
    if earlier is None:
        raise InputError(
            "the baseline is not a maestro report",
            location=Location(str(path)),
            hint="write one with: maestro report RESULTS --format json --output baseline.json",
        )
    groups = {"new": failing - earlier, "still_failing": failing & earlier, "fixed": earlier - failing}
    return BaselineDiff(
        path=str(path),
        **{key: sorted(ids)[:MAX_LISTED] for key, ids in groups.items()},
        counts={key: len(ids) for key, ids in groups.items()},
    )


def _failing_of(document: Any) -> set[str] | None:
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("failing"), list):
        return {str(entry) for entry in document["failing"]}
    if isinstance(document.get("failures"), list):
        return {
            f"{f.get('classname') or f.get('suite', '')}::{f.get('name', '')}"
            for f in document["failures"]
            if isinstance(f, dict)
        }
    return None
