"""The results folder's two documents, written as text: what ElementTree and json read back from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from maestro_cli.adapters.base import StepResult, TestCase
from maestro_cli.errors import Location
from maestro_cli.plan.model import Plan, Step
from maestro_cli.plan.records import AttemptRecord, RunReport, StepRun
from maestro_cli.plan.results import junit_xml, results_json

STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AWKWARD = 'exit "code" 1 <&>\n\ttab\r'  # every character XML needs escaped in an attribute


def report(*runs: StepRun, name: str = "gate") -> RunReport:
    plan = Plan(name=name, file="plan.yaml", workdir=Path("."), env={}, vars={}, secrets={}, services={}, steps=[run.step for run in runs])
    return RunReport(plan, "run-1", Path("."), list(runs), STARTED, STARTED)


def step_run(step_id: str, result: StepResult | None, *, adapter: str = "shell", attempts: int = 1) -> StepRun:
    step = Step(id=step_id, adapter=adapter, location=Location("plan.yaml", 1, 1))
    records = [AttemptRecord(n, result.outcome, result.exit_code, STARTED, result.duration, result.message) for n in range(1, attempts + 1)] if result else []
    return StepRun(step, result=result, attempts=records, started=STARTED if result else None)


def test_junit_escapes_what_steps_print_and_keeps_their_cases() -> None:
    cases = [
        TestCase("test_ok", "tests.test_a", "passed", 0.1),
        TestCase("test_bad", "tests.test_a", "failed", 0.2, AWKWARD, "Traceback <x> & y\nline 2"),
        TestCase("test_skip", "tests.test_a", "skipped", 0.0, "no redis"),
        TestCase("test_error", "tests.test_a", "error", 0.0),
    ]
    runs = (
        step_run("ok", StepResult("passed", 0, duration=0.5)),
        step_run("bad", StepResult("failed", 1, AWKWARD, 1.25), attempts=2),
        step_run("never", None),
        step_run("unit", StepResult("failed", 1, "1 failed", 2.0, cases=cases), adapter="pytest"),
    )
    root = ElementTree.fromstring(junit_xml(report(*runs, name='a "gate" & <more>')))
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ('a "gate" & <more>', "7", "2", "1", "2")
    assert root.get("time") == "3.750"
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["ok", "bad", "never", "unit"]
    bad = suites["bad"]
    assert {p.get("name"): p.get("value") for p in bad.iter("property")} == {"adapter": "shell", "outcome": "failed", "required": "true", "attempts": "2"}
    assert bad.get("timestamp") == STARTED.isoformat()
    failure = bad.find("testcase/failure")
    assert failure is not None and failure.get("message") == AWKWARD
    assert suites["never"].get("timestamp") == "" and suites["never"].find("testcase/skipped") is not None
    unit = suites["unit"]
    assert [case.get("name") for case in unit.iter("testcase")] == ["test_ok", "test_bad", "test_skip", "test_error"]
    failed = unit.find("testcase[@name='test_bad']/failure")
    assert failed is not None and failed.text == "Traceback <x> & y\nline 2"
    assert unit.find("testcase[@name='test_error']/error") is not None


def test_junit_of_a_plan_without_steps_is_one_empty_element() -> None:
    root = ElementTree.fromstring(junit_xml(report()))
    assert (root.tag, root.get("tests"), len(root)) == ("testsuites", "0", 0)


def test_results_json_is_the_report_with_a_line_per_step() -> None:
    runs = (step_run("ok", StepResult("passed", 0, duration=0.5)), step_run("bad", StepResult("failed", 1, AWKWARD, 1.0)))
    document = report(*runs)
    text = results_json(document)
    assert json.loads(text) == document.to_dict()
    step_lines = [line for line in text.splitlines() if line.lstrip().startswith('{"id": ')]
    assert [json.loads(line.strip().rstrip(","))["id"] for line in step_lines] == ["ok", "bad"]
    assert json.loads(results_json(report()))["steps"] == []


def test_both_files_are_written_and_a_failure_to_write_one_is_raised(tmp_path: Path) -> None:
    from maestro_cli.plan.results import write_results

    document = report(step_run("ok", StepResult("passed", 0, duration=0.5)))
    document.results_dir = tmp_path
    written = write_results(document)
    assert [path.name for path in written] == ["results.json", "junit.xml"]
    assert json.loads(written[0].read_text()) == document.to_dict()
    assert ElementTree.parse(written[1]).getroot().get("tests") == "1"
    (tmp_path / "results.json").unlink()
    (tmp_path / "results.json").mkdir()  # results.json cannot be replaced: its writer fails
    (tmp_path / "junit.xml").unlink()
    with pytest.raises(IsADirectoryError):
        write_results(document)
    assert (tmp_path / "junit.xml").is_file()  # the other file was still written


def test_texts_made_as_steps_finish_are_what_the_end_would_make() -> None:
    from maestro_cli.plan.results import StepTexts

    runs = (
        step_run("ok", StepResult("passed", 0, duration=0.5)),
        step_run("bad", StepResult("failed", 1, AWKWARD, 1.25, cases=[TestCase("t", "c", "failed", 0.1, "boom")]), attempts=2),
        step_run("never", None),  # an interrupted run: this one never finished
    )
    texts = StepTexts()
    for run in runs:
        texts.on_event("started", run)
        if run.done:
            texts.on_event("finished", run)
    whole = report(*runs)
    assert results_json(whole, texts) == results_json(whole)
    assert junit_xml(whole, texts) == junit_xml(whole)
    assert json.loads(results_json(whole, texts))["steps"][2]["outcome"] == "skipped"
    assert 'failures="1"' in junit_xml(whole, texts).splitlines()[1]  # the totals add up the kept suites
