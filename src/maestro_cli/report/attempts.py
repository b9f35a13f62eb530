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

from .model import FAILING, Case, Tally

MAX_REMEMBERED_FAILURES = 10_000  # per suite; past this a late rerun counts as a separate test
TEARDOWN_PREFIX = "failed on teardown"


class AttemptFolder:
    """Feeds one input's cases to a :class:`Tally`, folding reruns into one test.

    The last case stays pending until the next one shows it was not rerun. A plain pass (no
    children that matter) is pending as its key and time only: most cases are plain passes,
    and not building an object for each is most of the reader's speed.
    """

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.pending: Case | None = None
        self.pending_key: tuple[str, str, str] | None = None
        self.pending_time = 0.0
        self.failed: dict[tuple[str, str, str], Case] = {}
        self.count = 0  # tests after folding
        # looked up once: add_pass runs for most cases, and attribute lookups are half its cost
        self._tally_add_pass = tally.add_pass
        self._spooling = tally.spool is not None

    def add_pass(self, suite: str, classname: str, name: str, time: float) -> None:
        key = (suite, classname, name)
        if key == self.pending_key or (self.failed and key in self.failed):
            self.add(Case(suite, classname, name, "passed", time))
            return
        pending = self.pending_key
        if pending is not None and self.pending is None and not self._spooling:
            self.count += 1  # _commit of a plain pass, inlined: this line runs for most cases
            self._tally_add_pass(pending[0], pending[1], pending[2], self.pending_time)
        else:
            self._commit()
        self.pending_key, self.pending_time = key, time

    def add(self, case: Case) -> None:
        key = (case.suite, case.classname, case.name)
        if key == self.pending_key:
            self.pending = fold(self._pending_case(), case)
            return
        self._commit()
        earlier = self.failed.pop(key, None)
        if earlier is not None:
            self.tally.retract(earlier)
            self.count -= 1
            case = fold(earlier, case)
        self.pending, self.pending_key = case, key

    def end_group(self) -> None:
        """The end of a suite element: reruns are recorded inside the suite they belong to."""
        self._commit()
        spool = self.tally.spool
        if spool is not None:
            for case in self.failed.values():  # held back while a later rerun could fold them
                spool.write(case)
            spool.end_group()
        self.failed.clear()

    def close(self) -> int:
        self.end_group()
        return self.count

    @property
    def has_pending(self) -> bool:
        return self.pending_key is not None

    def _pending_case(self) -> Case:
        if self.pending is not None:
            return self.pending
        assert self.pending_key is not None
        return Case(*self.pending_key, "passed", self.pending_time)

    def _commit(self) -> None:
        key = self.pending_key
        if key is None:
            return
        self.count += 1
        case = self.pending
        spool = self.tally.spool
        if case is None:
            self.tally.add_pass(key[0], key[1], key[2], self.pending_time)
            if spool is not None:
                spool.write(self._pending_case())
        else:
            self.tally.add(case)
            if case.outcome in FAILING and len(self.failed) < MAX_REMEMBERED_FAILURES:
                self.failed[key] = case
            elif spool is not None:
                spool.write(case)
        self.pending = self.pending_key = None


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
