"""Every JUnit dialect, counted from its test cases: the fixtures follow each tool's documented form."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from maestro_cli.report.junit import PASS_BATCH, parse_time, read_junit
from maestro_cli.report.model import Tally

from .conftest import BAD, DIALECTS

# file: (tests, passed, failed, errors, skipped, flaky)
EXPECTED = {
    "surefire-TEST-com.acme.RetryTest.xml": (4, 1, 1, 0, 0, 2),
    "failsafe-TEST-com.acme.it.CheckoutIT.xml": (3, 1, 0, 1, 1, 0),
    "gradle-TEST-com.acme.GradleTest.xml": (4, 2, 1, 0, 1, 0),
    "jest-junit.xml": (4, 2, 1, 0, 1, 0),
    "go-junit-report.xml": (4, 2, 1, 0, 1, 0),
    "gotestsum-rerun-fails.xml": (4, 2, 1, 0, 0, 1),
    "phpunit-nested.xml": (5, 3, 1, 0, 1, 0),
    "ant-bare-testsuite.xml": (2, 1, 0, 1, 0, 0),
    "nunit-junit-logger.xml": (4, 2, 1, 0, 1, 0),
    "catch2.xml": (4, 2, 1, 0, 1, 0),
    "mocha-junit-reporter.xml": (3, 1, 1, 0, 1, 0),
    "missing-attributes.xml": (3, 2, 1, 0, 0, 0),
    "pytest-legacy-teardown.xml": (2, 1, 1, 0, 0, 0),
}
COUNTERS = ("tests", "passed", "failed", "errors", "skipped", "flaky")


def test_every_dialect_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in DIALECTS.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dialect_is_recounted_from_its_cases(report_json, name: str) -> None:
    result, document = report_json(DIALECTS / name, "--fail-on", "never")
    assert result.exit_code == 0
    assert tuple(document["totals"][key] for key in COUNTERS) == EXPECTED[name]
    assert document["warnings"] == []
    assert document["inputs"] == [{"path": str(DIALECTS / name), "format": "junit", "tests": EXPECTED[name][0], "ok": True}]


def test_all_dialects_together_add_up(report_json) -> None:
    _, document = report_json(DIALECTS)
    expected = [sum(row[i] for row in EXPECTED.values()) for i in range(len(COUNTERS))]
    assert [document["totals"][key] for key in COUNTERS] == expected
    assert len(document["inputs"]) == len(EXPECTED)


def test_surefire_flaky_and_rerun_failures(report_json) -> None:
    _, document = report_json(DIALECTS / "surefire-TEST-com.acme.RetryTest.xml")
    flaky = {f["name"]: f["evidence"] for f in document["flaky"]}
    assert flaky == {
        "passesOnSecondRun": "failed once, then passed on rerun: expected: <200> but was: <503>",
        "errorsThenPasses": "failed 2 times, then passed on rerun: Connection refused",
    }
    (failure,) = document["failures"]
    assert failure["name"] == "failsEveryTime"
    assert failure["evidence"] == "failed all 3 attempts: expected: <1> but was: <2>"
    # locale grouping: 2,120.532 s is the slowest test, not 2.12 s
    assert document["slowest"][0] == {"name": "passesFirstTime", "classname": "com.acme.RetryTest", "suite": "com.acme.RetryTest", "time": 2120.532}


def test_gotestsum_reruns_appended_after_the_run_fold_into_one_test(report_json) -> None:
    _, document = report_json(DIALECTS / "gotestsum-rerun-fails.xml")
    assert [(f["name"], f["evidence"]) for f in document["flaky"]] == [("TestRace", "failed once, then passed on rerun: Failed")]
    assert [(f["name"], f["evidence"]) for f in document["failures"]] == [("TestBroken", "failed all 2 attempts: Failed")]


def test_nested_suites_keep_every_case_under_its_innermost_suite(report_json) -> None:
    _, document = report_json(DIALECTS / "phpunit-nested.xml")
    assert {s["name"]: s["tests"] for s in document["suites"]} == {"Tests\\CalculatorTest": 3, "Tests\\CalculatorTest::testDivide": 2}
    (failure,) = document["failures"]
    assert (failure["file"], failure["line"]) == ("/app/tests/CalculatorTest.php", 20)
    assert failure["message"] == "Tests\\CalculatorTest::testDivide with data set #1 (6, 4, 2)"


def test_jest_failure_without_message_takes_the_first_line_of_its_body(report_json) -> None:
    _, document = report_json(DIALECTS / "jest-junit.xml")
    (failure,) = document["failures"]
    assert failure["message"] == "Error: expect(received).toThrow()"
    assert "math.test.js:14:31" in failure["details"]


def test_missing_names_and_times_and_a_file_named_suite(report_json) -> None:
    _, document = report_json(DIALECTS / "missing-attributes.xml")
    assert document["suites"][0]["name"] == "missing-attributes"  # no suite name: the file's stem
    assert document["failures"][0]["name"] == "(unnamed)"
    assert document["totals"]["time"] == 0.75


def test_pytest_teardown_error_in_the_same_case_joins_its_failure(report_json) -> None:
    _, document = report_json(DIALECTS / "pytest-legacy-teardown.xml")
    (failure,) = document["failures"]
    assert failure["kind"] == "failure"
    assert 'failed on teardown with "RuntimeError: connection leaked"' in failure["details"]
    assert failure["attachments"] == [{"path": "/tmp/screenshots/test_query.png", "kind": "screenshot", "content_type": None, "description": None}]


def test_utf16_file_is_read_through_the_guarded_parser(tmp_path: Path, report_json) -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<testsuite name="wide"><testcase classname="ü.Test" name="naïve"/></testsuite>\n'
    path = tmp_path / "wide.xml"
    path.write_bytes(text.encode("utf-16"))
    _, document = report_json(path)
    assert document["totals"]["tests"] == 1
    assert document["suites"][0]["name"] == "wide"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1.5", 1.5), ("2,120.532", 2120.532), ("2.120,532", 2120.532), ("0,5", 0.5), ("1,234,567", 1234567.0), ("12s", 12.0), ("-3", 0.0), ("soon", 0.0)],
)
def test_times_in_any_locale(text: str, seconds: float) -> None:
    assert parse_time(text) == pytest.approx(seconds)


def test_a_rerun_across_the_reading_batches_still_folds(tmp_path: Path, report_json) -> None:
    """pytest-rerunfailures' empty case for a failed attempt, right where the reader counts its first batch."""
    passes = "".join(f'<testcase classname="t.Big" name="test_{i}" time="0.001"/>' for i in range(PASS_BATCH - 1))
    attempts = '<testcase classname="t.Big" name="test_rerun" time="0.5"/>' * 2
    path = tmp_path / "big.xml"
    path.write_text(f'<testsuite name="big">{passes}{attempts}<testcase classname="t.Big" name="test_{PASS_BATCH}"/></testsuite>')
    _, document = report_json(path)
    assert tuple(document["totals"][key] for key in COUNTERS) == (PASS_BATCH + 1, PASS_BATCH, 0, 0, 0, 1)
    assert [f["name"] for f in document["flaky"]] == ["test_rerun"]


def test_reading_leaves_nothing_for_the_cyclic_collector() -> None:
    """The cyclic collector is off while files are read: a file's parser must be freed by reference
    counting alone, or a million cases in a thousand files keep a thousand parsers alive."""
    files = sorted(DIALECTS.glob("*.xml")) + sorted(BAD.glob("*.xml"))
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        tally = Tally()
        for path in files:
            read_junit(path, tally)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
    assert len(tally.inputs) == len(files)
