"""``build_report``: read every input (on both cores when it pays), add history and baseline.

Reading is split into contiguous chunks of the input list, each read into its own
:class:`~.model.Tally` and merged back in input order, so the report is the same with one
process or several. Forking a worker costs a few milliseconds and pickling a tally back costs
less, so processes are used once there are enough bytes to read for that to pay.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .. import events
from ..errors import InputError, Location
from . import history
from .inputs import discover, input_format
from .junit import read_junit
from .model import Case, Counts, Failure, Flaky, InputInfo, Problem, Slow, Tally, test_id
from .results_json import read_results_json
from .spool import CaseSpool, read_cases

# starting two workers and merging their tallies costs 0.05-0.1 s here; below ~4 MB (~30k cases)
# one process is done in about that time, so a second one cannot pay for itself
PARALLEL_MIN_BYTES = 4 << 20
CHUNKS_PER_JOB = 2  # more chunks even out uneven files, but each sends back a tally to merge

Progress = Callable[[int, int], None]  # (inputs read, inputs in all)


@dataclass
class ReportRequest:
    inputs: list[str]
    title: str = "Test report"
    top: int = 10
    strict: bool = False
    history_dir: Path | None = None
    baseline: Path | None = None
    keep_cases: bool = False  # spool every case, for outputs that list them all
    jobs: int = 0  # 0: one per CPU


@dataclass
class Report:
    title: str
    generated: datetime
    totals: Counts
    suites: list[Counts]
    classes: list[Counts]
    failures: list[Failure]
    failures_total: int
    failing: list[str]
    failing_complete: bool
    slowest: list[Slow]
    flaky: list[Flaky]
    flaky_total: int
    inputs: list[InputInfo]
    warnings: list[Problem]
    trend: list[history.RunPoint] = field(default_factory=list)
    baseline: history.BaselineDiff | None = None
    history_entry: Path | None = None
    spool_paths: list[str] = field(default_factory=list)
    spool_dir: Path | None = None

    def cases(self) -> Iterator[Case]:
        """Every case read, in input order (only with ``keep_cases``)."""
        return read_cases(self.spool_paths)

    def close(self) -> None:
        if self.spool_dir is not None:
            shutil.rmtree(self.spool_dir, ignore_errors=True)
            self.spool_dir = None

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_report(request: ReportRequest, progress: Progress | None = None) -> Report:
    files, problems = discover(request.inputs)
    spool_dir = Path(tempfile.mkdtemp(prefix="maestro-report-")) if request.keep_cases else None
    try:
        tally = read_inputs(files, request.top, spool_dir, request.jobs, progress)
        tally.problems[:0] = problems
        if request.strict and tally.problems:
            first = tally.problems[0]
            more = len(tally.problems) - 1
            raise InputError(
                first.message,
                location=Location(first.path, first.line, first.column),
                hint=f"{more} more problem(s); drop --strict to report what could be read" if more else None,
            )
        if not any(info.ok for info in tally.inputs):
            raise InputError(
                "no test results could be read" + (f": {tally.problems[0]}" if tally.problems else ""),
                hint="give JUnit XML files, maestro results.json files, folders or globs",
            )
        report = _summarise(request, tally, spool_dir)
    except BaseException:
        if spool_dir is not None:
            shutil.rmtree(spool_dir, ignore_errors=True)
        raise
    return report


def read_inputs(
    files: list[Path], top: int, spool_dir: Path | None = None, jobs: int = 0, progress: Progress | None = None
) -> Tally:
    """One tally of all ``files``, read on up to ``jobs`` processes (0: one per CPU)."""
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(files) > 1 and sum(_size(path) for path in files) >= PARALLEL_MIN_BYTES:
        chunks = _split(files, jobs * CHUNKS_PER_JOB)
        tally = Tally(top)
        done = 0
        with ProcessPoolExecutor(max_workers=jobs, initializer=_leave_interrupts_to_the_parent) as pool:
            futures = [pool.submit(_read_chunk, chunk, top, _spool_path(spool_dir, i)) for i, chunk in enumerate(chunks)]
            try:
                for chunk, future in zip(chunks, futures, strict=True):
                    tally.merge(future.result())
                    done += len(chunk)
                    if progress:
                        progress(done, len(files))
            except BaseException:  # Ctrl-C or a bug: chunks not started yet are dropped
                for future in futures:
                    future.cancel()
                raise
        return tally
    return _read_chunk(files, top, _spool_path(spool_dir, 0), progress)


def _leave_interrupts_to_the_parent() -> None:
    """Workers ignore Ctrl-C: the parent stops, and no worker prints a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _read_chunk(files: list[Path], top: int, spool_path: Path | None, progress: Progress | None = None) -> Tally:
    tally = Tally(top)
    if spool_path is not None:
        tally.spool = CaseSpool(spool_path)
    with _without_cycle_collection():
        for index, path in enumerate(files, 1):
            if input_format(path) == "maestro-results":
                read_results_json(path, tally)
            else:
                read_junit(path, tally)
            if progress:
                progress(index, len(files))
    if tally.spool is not None:
        tally.spool_paths.append(tally.spool.close())
        tally.spool = None  # a file handle cannot travel back from a worker process
    return tally


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Reading makes and drops hundreds of thousands of objects that never form cycles (lists of
    attributes and text), and the cyclic collector would walk them again and again for nothing;
    reference counting still frees every one of them at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _split(files: list[Path], parts: int) -> list[list[Path]]:
    size = -(-len(files) // parts)
    return [files[i : i + size] for i in range(0, len(files), size)]


def _spool_path(spool_dir: Path | None, index: int) -> Path | None:
    return spool_dir / f"cases-{index:04d}.pickle" if spool_dir is not None else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _summarise(request: ReportRequest, tally: Tally, spool_dir: Path | None) -> Report:
    generated = datetime.now(UTC)
    totals = tally.totals()
    failing_pairs = sorted(tally.failing_ids)
    report = Report(
        title=request.title,
        generated=generated,
        totals=totals,
        suites=sorted(tally.suite_counts(), key=lambda c: (-c.failing, c.name)),
        classes=sorted(tally.class_counts(), key=lambda c: (-c.failing, c.name)),
        failures=tally.failures,
        failures_total=tally.failures_total,
        failing=[test_id(pair) for pair in failing_pairs],
        failing_complete=tally.failing_ids_complete,
        slowest=tally.slowest_tests(),
        flaky=tally.flaky,
        flaky_total=tally.flaky_total,
        inputs=tally.inputs,
        warnings=tally.problems,
        spool_paths=tally.spool_paths,
        spool_dir=spool_dir,
    )
    if request.baseline is not None:
        report.baseline = history.compare_baseline(request.baseline, set(report.failing))
        new = set(report.baseline.new)
        for failure in report.failures:
            failure.status = "new" if failure.test_id in new else "still-failing"
    if request.history_dir is not None:
        earlier, problems = history.load_history(request.history_dir)
        report.warnings.extend(problems)
        report.history_entry, summary = history.record_run(request.history_dir, request.title, generated, totals, failing_pairs)
        runs = [*earlier, summary]
        report.trend = history.trend(runs)
        report.flaky.extend(history.flaky_across_runs(runs))
        events.emit("report.history_recorded", artifacts=[events.Artifact.from_file(report.history_entry)], runs=len(runs))
    return report
