"""Folding repeated records of one test into one test: every order a tool can write them in."""

from __future__ import annotations

import pytest

from maestro_cli.report.attempts import AttemptFolder
from maestro_cli.report.model import Case, Tally

P, F, E = "passed", "failed", "error"


def fold_all(records: list[tuple[str, str]], top: int = 10) -> Tally:
    """``records``: (test name, outcome) in file order, all in one suite and class."""
    tally = Tally(top)
    folder = AttemptFolder(tally)
    for name, outcome in records:
        if outcome == P:
            folder.add_pass("suite", "Class", name, 1.0)
        else:
            message = "failed on teardown with boom" if outcome == "teardown" else f"{name} broke"
            folder.add(Case("suite", "Class", name, E if outcome == "teardown" else outcome, 1.0, message=message, kind="failure"))
    assert folder.close() == tally.totals().tests
    return tally


def outcomes(tally: Tally) -> tuple[int, int, int, int, int]:
    totals = tally.totals()
    return totals.tests, totals.passed, totals.failed, totals.errors, totals.flaky


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([("a", P), ("b", P), ("c", P)], (3, 3, 0, 0, 0)),
        ([("a", P), ("a", P)], (1, 0, 0, 0, 1)),  # pytest-rerunfailures: an empty case per failed attempt
        ([("a", P), ("a", P), ("a", F)], (1, 0, 1, 0, 0)),  # failed every attempt
        ([("b", P), ("a", P), ("a", F), ("c", P)], (3, 2, 1, 0, 0)),
        ([("a", F), ("a", P)], (1, 0, 0, 0, 1)),
        ([("a", F), ("b", P), ("c", P), ("a", P)], (3, 2, 0, 0, 1)),  # gotestsum: reruns after the run
        ([("a", F), ("b", F), ("a", P), ("b", F)], (2, 0, 1, 0, 1)),
        ([("a", F), ("a", "teardown")], (1, 0, 1, 0, 0)),  # pytest: a teardown error joins its test
        ([("a", P), ("a", "teardown")], (1, 0, 0, 1, 0)),
    ],
)
def test_records_fold_into_tests(records: list[tuple[str, str]], expected: tuple[int, ...]) -> None:
    assert outcomes(fold_all(records)) == expected


def test_a_rerun_failure_keeps_one_failure_with_its_evidence() -> None:
    tally = fold_all([("b", P), ("a", P), ("a", F), ("a", F)])
    assert tally.failures_total == 1
    (failure,) = tally.failures
    assert (failure.name, failure.evidence) == ("a", "failed all 3 attempts: a broke")
    assert tally.failing_ids == {("Class", "a")}


def test_a_flaky_test_leaves_no_failure_behind() -> None:
    tally = fold_all([("a", F), ("b", P), ("a", P)])
    assert (tally.failures, tally.failures_total, tally.failing_ids) == ([], 0, set())
    assert [(f.name, f.evidence) for f in tally.flaky] == [("a", "failed once, then passed on rerun: a broke")]


def fold_in_batches(records: list[tuple[str, str]], cut: int, top: int) -> Tally:
    """The same records through :meth:`AttemptFolder.add_batch`, in two batches split at ``cut``."""
    tally = Tally(top)
    folder = AttemptFolder(tally)
    for part in (records[:cut], records[cut:]):
        names: list[str] = []
        cases: list[tuple[int, Case]] = []
        for name, outcome in part:
            if outcome == P:
                names.append(name)
            else:
                message = "failed on teardown with boom" if outcome == "teardown" else f"{name} broke"
                case = Case("suite", "Class", name, E if outcome == "teardown" else outcome, 1.0, message=message, kind="failure")
                cases.append((len(names), case))
        folder.add_batch("suite", ["Class"] * len(names), names, [1.0] * len(names), cases)
    assert folder.close() == tally.totals().tests
    return tally


RECORD_ORDERS = [
    [("a", P), ("b", P), ("c", P)],
    [("a", P), ("a", P)],
    [("a", P), ("a", P), ("a", F)],
    [("b", P), ("a", P), ("a", F), ("c", P)],
    [("a", F), ("a", P)],
    [("a", F), ("b", P), ("c", P), ("a", P)],
    [("a", F), ("b", F), ("a", P), ("b", F)],
    [("a", F), ("a", "teardown")],
    [("a", P), ("a", "teardown")],
    [("a", "skipped"), ("b", P), ("a", P)],
    [("a", P), ("b", F), ("c", P), ("d", "skipped"), ("e", P)],
]


@pytest.mark.parametrize("top", [10, 0])  # 0: no pass can enter the slowest list, and a batch's passes count together
@pytest.mark.parametrize("records", RECORD_ORDERS)
def test_batches_fold_exactly_as_records_one_by_one(records: list[tuple[str, str]], top: int) -> None:
    expected = fold_all(records, top)
    for cut in range(len(records) + 1):
        batched = fold_in_batches(records, cut, top)
        assert outcomes(batched) == outcomes(expected), cut
        assert [(f.name, f.evidence) for f in batched.failures] == [(f.name, f.evidence) for f in expected.failures], cut
        assert [(f.name, f.evidence) for f in batched.flaky] == [(f.name, f.evidence) for f in expected.flaky], cut
