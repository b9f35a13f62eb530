"""Folding repeated test cases of one input into one test with its attempts.

Tools record a rerun test more than once in the same suite element:

- pytest-rerunfailures writes an empty ``<testcase>`` for each failed attempt, then the last one;
- gotestsum ``--rerun-fails`` appends the reruns after the whole first run;
- pytest writes a teardown error as a second ``<testcase>`` of the same test.

So an occurrence of the test just seen, or of a test that failed earlier in the same suite, is an
attempt of that test, not a new test: a test that failed and then passed is flaky, one that failed
every time is one failure. Only the last case and the failed ones are remembered per suite, which
keeps memory bounded by the failures, not by the size of the file.
"""

from __future__ import annotations

from itertools import compress, pairwise
from operator import ne

from .model import FAILING, Case, Slow, Tally

MAX_REMEMBERED_FAILURES = 10_000  # per suite; past this a late rerun counts as a separate test
TEARDOWN_PREFIX = "failed on teardown"


class AttemptFolder:
    """Feeds one input's cases to a :class:`Tally`, folding reruns into one test.

    Most cases are plain passes (no children that matter), so those are counted at once, as a
    run of passes of one suite and class that reaches the tally in one call; only the last of
    them is remembered, in case the next case shows it was an earlier attempt. Any other case
    stays pending until the next one shows it was not rerun. When every case is spooled (for
    HTML and merged JUnit), every case takes the pending road instead. A reader can hand over
    a whole batch of records at once (:meth:`add_batch`), which counts the same, only faster.
    """

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.pending: Case | None = None
        self.failed: dict[tuple[str, str, str], Case] = {}
        # the names in ``failed``, kept until the suite ends: most passes are told apart from
        # the failed tests by their name alone, without building and hashing a key each time
        self._failed_names: set[str] = set()
        self.count = 0  # tests after folding, committed to the tally
        self._spooling = tally.spool is not None
        self._run_suite: str | None = None
        self._run_class: str | None = None
        self._run_count = 0
        self._run_time = 0.0
        self._last: tuple[str, str, str, float] | None = None  # the last pass counted in the run

    @property
    def read(self) -> int:
        """Tests read so far, counted or not yet."""
        return self.count + self._run_count + (self.pending is not None)

    def add_pass(self, suite: str, classname: str, name: str, time: float) -> None:
        last = self._last
        pending = self.pending
        if (
            self._spooling
            or (last is not None and last[2] == name and last[1] == classname and last[0] == suite)
            or (pending is not None and pending.name == name and pending.classname == classname and pending.suite == suite)
            or (name in self._failed_names and (suite, classname, name) in self.failed)
        ):
            self.add(Case(suite, classname, name, "passed", time))
            return
        if pending is not None:
            self._commit()
        if classname != self._run_class or suite != self._run_suite:
            self._flush_run()
            self._run_suite, self._run_class = suite, classname
        self._run_count += 1
        self._run_time += time
        self._last = (suite, classname, name, time)
        if time > self.tally.slow_floor:
            self.tally.push_slow(Slow(suite, classname, name, time))

    def add_batch(self, suite: str, classnames: list[str], names: list[str], times: list[float], cases: list[tuple[int, Case]]) -> None:
        """Records of one suite element in file order, as :meth:`add_pass` and :meth:`add` would take
        them one by one: the plain passes as three columns, and each other case after the number of
        passes read before it.

        When no name repeats within the batch and no pass shares a name with a test still open
        from before it, no record can be an attempt of another, and the passes between two other
        cases are counted together, the checks having run once for the batch at C speed.
        """
        pending, last = self.pending, self._last
        every = names + [case.name for _, case in cases] if cases else names
        seen = set(every)
        if (
            self._spooling
            or len(seen) != len(every)
            or not self._failed_names.isdisjoint(names)
            or (pending is not None and pending.name in seen)
            or (last is not None and last[2] in seen)
        ):
            self._replay(suite, classnames, names, times, cases)
            return
        one_class = classnames.count(classnames[0]) == len(classnames) if classnames else True
        if max(times, default=0.0) <= self.tally.slow_floor:
            self._add_unordered(suite, classnames, names, times, cases, one_class)
            return
        start = 0
        for stop, case in cases:
            if stop > start:
                self._count_passes(suite, classnames, names, times, start, stop, one_class)
                start = stop
            self.add(case)
        if len(names) > start:
            self._count_passes(suite, classnames, names, times, start, len(names), one_class)

    def _add_unordered(
        self, suite: str, classnames: list[str], names: list[str], times: list[float], cases: list[tuple[int, Case]], one_class: bool
    ) -> None:
        """A batch none of whose passes enters the slowest list: then nothing depends on where its
        passes stand between its other cases, and they are counted together. The last record stays
        open as it would one by one: a last case pending, a last pass in the run."""
        for _, case in cases:
            self.add(case)
        ends_with_pass = bool(names) and (not cases or cases[-1][0] < len(names))
        stop = len(names) - 1 if ends_with_pass else len(names)
        for run_start, run_stop in pairwise(_class_runs(classnames, 0, stop, one_class)):
            self.tally.add_passes(suite, classnames[run_start], run_stop - run_start, sum(times[run_start:run_stop]))
        self.count += stop
        if ends_with_pass:
            self._count_passes(suite, classnames, names, times, stop, stop + 1, one_class)

    def _replay(self, suite: str, classnames: list[str], names: list[str], times: list[float], cases: list[tuple[int, Case]]) -> None:
        start = 0
        for stop, case in [*cases, (len(names), None)]:
            for index in range(start, stop):
                self.add_pass(suite, classnames[index], names[index], times[index])
            start = stop
            if case is not None:
                self.add(case)

    def _count_passes(
        self, suite: str, classnames: list[str], names: list[str], times: list[float], start: int, stop: int, one_class: bool
    ) -> None:
        """Passes ``start:stop`` of a batch, none of them an attempt of another test."""
        if self.pending is not None:
            self._commit()
        for run_start, run_stop in pairwise(_class_runs(classnames, start, stop, one_class)):
            classname = classnames[run_start]
            if classname != self._run_class or suite != self._run_suite:
                self._flush_run()
                self._run_suite, self._run_class = suite, classname
            self._run_count += run_stop - run_start
            self._run_time = sum(times[run_start:run_stop], self._run_time)  # the same sum as one by one
        last = stop - 1
        self._last = (suite, classnames[last], names[last], times[last])
        tally = self.tally
        if max(times[start:stop]) > tally.slow_floor:
            for index in range(start, stop):
                if times[index] > tally.slow_floor:  # the floor rises with every test that gets in
                    tally.push_slow(Slow(suite, classnames[index], names[index], times[index]))

    def add(self, case: Case) -> None:
        key = (case.suite, case.classname, case.name)
        last = self._last
        if last is not None and last[:3] == key:
            # the pass just counted was an earlier attempt of this case: take it back out
            self._run_count -= 1
            self._run_time -= last[3]
            self._flush_run()
            self.pending = Case(*key, "passed", last[3])
        else:
            self._flush_run()
        pending = self.pending
        if pending is not None and (pending.suite, pending.classname, pending.name) == key:
            self.pending = fold(pending, case)
            return
        self._commit()
        earlier = self.failed.pop(key, None)
        if earlier is not None:
            self.tally.retract(earlier)
            self.count -= 1
            case = fold(earlier, case)
        self.pending = case

    def end_group(self) -> None:
        """The end of a suite element: reruns are recorded inside the suite they belong to."""
        self._flush_run()
        self._commit()
        spool = self.tally.spool
        if spool is not None:
            for case in self.failed.values():  # held back while a later rerun could fold them
                spool.write(case)
            spool.end_group()
        self.failed.clear()
        self._failed_names.clear()

    def close(self) -> int:
        self.end_group()
        return self.count

    def _flush_run(self) -> None:
        if self._run_count:
            assert self._run_suite is not None and self._run_class is not None
            self.tally.add_passes(self._run_suite, self._run_class, self._run_count, self._run_time)
            self.count += self._run_count
        self._run_suite = self._run_class = None
        self._run_count, self._run_time, self._last = 0, 0.0, None

    def _commit(self) -> None:
        case = self.pending
        if case is None:
            return
        self.pending = None
        self.count += 1
        self.tally.add(case)
        if case.outcome in FAILING and len(self.failed) < MAX_REMEMBERED_FAILURES:
            self.failed[(case.suite, case.classname, case.name)] = case
            self._failed_names.add(case.name)
        elif self.tally.spool is not None:
            self.tally.spool.write(case)


def fold(earlier: Case, later: Case) -> Case:
    """One test from two records of it: a teardown error joins its test, anything else is a rerun."""
    if later.outcome == "error" and (later.message or "").startswith(TEARDOWN_PREFIX):
        if earlier.outcome in ("passed", "flaky"):
            earlier.outcome, earlier.kind = "error", "error"
            earlier.message, earlier.details = later.message, later.details
        else:
            earlier.details = "\n".join(filter(None, (earlier.details, f"--- {later.message}", later.details)))
        earlier.time += later.time
        return earlier
    later.reruns += earlier.reruns + 1
    later.rerun_message = earlier.rerun_message or earlier.message
    later.time += earlier.time
    if later.outcome == "passed":
        later.outcome = "flaky"
    if not later.attachments:
        later.attachments = earlier.attachments
    return later


def _class_runs(classnames: list[str], start: int, stop: int, one_class: bool) -> list[int]:
    """Where the runs of one class start within ``start:stop``, and ``stop``: a run starts where a
    class name differs from the one before it."""
    if one_class or stop - start < 2:
        return [start, stop] if stop > start else []
    return [start, *compress(range(start + 1, stop), map(ne, classnames[start + 1 : stop], classnames[start:stop])), stop]
