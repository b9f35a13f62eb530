"""Reading many inputs: on two processes or one with the same result, in bounded memory, found by folder or glob."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maestro_cli.report import aggregate, model
from maestro_cli.report.aggregate import ReportRequest, build_report
from maestro_cli.report.render_json import to_document

from .conftest import DIALECTS, MAESTRO_RUN


def comparable(request: ReportRequest) -> dict:
    with build_report(request) as report:
        document = to_document(report)
    del document["generated"]
    return document


def test_two_processes_give_the_same_report_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = [str(DIALECTS), str(MAESTRO_RUN)]
    one = comparable(ReportRequest(inputs, jobs=1))
    monkeypatch.setattr(aggregate, "PARALLEL_MIN_BYTES", 0)
    two = comparable(ReportRequest(inputs, jobs=2))
    assert two == one
    assert one["totals"]["tests"] == 53


def test_two_processes_spool_every_case_in_input_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregate, "PARALLEL_MIN_BYTES", 0)
    with build_report(ReportRequest([str(DIALECTS), str(MAESTRO_RUN)], jobs=2, keep_cases=True)) as parallel:
        names = [case.name for case in parallel.cases()]
        spool_dir = parallel.spool_dir
    with build_report(ReportRequest([str(DIALECTS), str(MAESTRO_RUN)], jobs=1, keep_cases=True)) as serial:
        assert names == [case.name for case in serial.cases()]
    assert len(names) == 53
    assert spool_dir is not None and not spool_dir.exists()  # closing the report removes its spool


def test_memory_is_bounded_by_the_caps_not_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "MAX_FAILURES", 5)
    monkeypatch.setattr(model, "MAX_FAILING_IDS", 7)
    monkeypatch.setattr(model, "MAX_BUCKETS", 3)
    cases = "".join(
        f'<testsuite name="suite{i % 6}"><testcase classname="c{i}" name="t{i}" time="{i}"><failure message="m"/></testcase></testsuite>'
        for i in range(40)
    )
    (tmp_path / "many.xml").write_text(f"<testsuites>{cases}</testsuites>")
    with build_report(ReportRequest([str(tmp_path)], top=4)) as report:
        assert report.totals.failed == 40 and report.failures_total == 40
        assert len(report.failures) == 5
        assert len(report.failing) == 7 and report.failing_complete is False
        assert [s.time for s in report.slowest] == [39, 38, 37, 36]
        assert sorted(s.name for s in report.suites) == ["(other)", "suite0", "suite1", "suite2"]
        assert sum(s.tests for s in report.suites) == 40


def test_folders_are_searched_recursively_and_each_file_is_read_once(tmp_path: Path) -> None:
    shutil.copy(DIALECTS / "catch2.xml", tmp_path / "catch2.xml")
    (tmp_path / "nested" / "deeper").mkdir(parents=True)
    shutil.copy(DIALECTS / "jest-junit.xml", tmp_path / "nested" / "deeper" / "jest.xml")
    shutil.copytree(MAESTRO_RUN, tmp_path / "nested" / "run")
    (tmp_path / "node_modules" / "dep").mkdir(parents=True)
    (tmp_path / "node_modules" / "dep" / "junit.xml").write_text("<testsuite/>")
    (tmp_path / "notes.json").write_text("{}")  # only results.json is looked for in folders
    request = ReportRequest([str(tmp_path), str(tmp_path / "*.xml"), str(tmp_path / "nested/**/*.xml")])
    with build_report(request) as report:
        assert [Path(i.path).relative_to(tmp_path).as_posix() for i in report.inputs] == [
            "catch2.xml",
            "nested/deeper/jest.xml",
            "nested/run/results.json",
        ]
        assert report.totals.tests == 4 + 4 + 7


def test_a_file_reached_through_links_is_read_once(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(DIALECTS / "catch2.xml", results / "catch2.xml")
    (results / "latest.xml").symlink_to(results / "catch2.xml")
    (tmp_path / "alias").symlink_to(results, target_is_directory=True)
    request = ReportRequest([str(results), str(tmp_path / "alias"), str(tmp_path / "alias" / "catch2.xml")])
    with build_report(request) as report:
        assert [i.path for i in report.inputs] == [str(results / "catch2.xml")]
        assert report.totals.tests == 4
