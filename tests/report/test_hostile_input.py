"""Malformed, truncated, empty, unknown and hostile inputs: warnings naming the file, or refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import BAD, DIALECTS

SECRET = "maestro-xxe-canary-7f3a9c"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


def xxe_files(folder: Path, secret: Path) -> list[Path]:
    """An external general entity, an external parameter entity, and an external DTD, all at ``secret``."""
    general = folder / "xxe-general.xml"
    general.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
        '<testsuite name="xxe"><testcase classname="x" name="n"><failure message="&leak;">&leak;</failure></testcase></testsuite>\n'
    )
    parameter = folder / "xxe-parameter.xml"
    parameter.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % leak SYSTEM "file://{secret}"> %leak;]>\n'
        '<testsuite name="xxe"><testcase classname="x" name="n"/></testsuite>\n'
    )
    external_dtd = folder / "xxe-dtd.xml"
    external_dtd.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE testsuite SYSTEM "file://{secret}">\n<testsuite name="xxe"><testcase classname="x" name="n"/></testsuite>\n'
    )
    return [general, parameter, external_dtd]


def test_billion_laughs_is_refused_without_expanding(run_cli) -> None:
    result = run_cli("--json", "report", BAD / "billion-laughs.xml", DIALECTS / "ant-bare-testsuite.xml")
    document = json.loads(result.stdout)
    assert result.exit_code == 1  # the Ant file's error: the rest is still aggregated
    assert document["totals"]["tests"] == 2
    warning = f"{BAD / 'billion-laughs.xml'}:2: refused: the file declares a DTD; maestro never expands entities or loads DTDs"
    assert document["warnings"] == [warning]
    assert f"warning: {warning}" in " ".join(result.stderr.split())
    assert "lollol" not in result.stdout + result.stderr


def test_external_entities_never_reach_any_output(tmp_path: Path, secret_file: Path, run_cli) -> None:
    files = xxe_files(tmp_path, secret_file)
    html = tmp_path / "report.html"
    junit = tmp_path / "merged.xml"
    runs = [
        run_cli("--json", "report", *files, DIALECTS / "go-junit-report.xml"),
        run_cli("report", *files, DIALECTS / "go-junit-report.xml", "--format", "html", "--output", html),
        run_cli("report", *files, DIALECTS / "go-junit-report.xml", "--format", "junit", "--output", junit),
        run_cli("report", *files, DIALECTS / "go-junit-report.xml", "--format", "markdown"),
    ]
    for result in runs:
        assert result.exit_code == 1, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert result.stderr.count("refused: the file declares a DTD") == 3
    for output in (html, junit):
        assert SECRET not in output.read_text()
    assert json.loads(runs[0].stdout)["totals"]["tests"] == 4  # only the go file counted


def test_xxe_under_strict_is_a_located_error(tmp_path: Path, secret_file: Path, run_cli) -> None:
    general = xxe_files(tmp_path, secret_file)[0]
    result = run_cli("report", general, DIALECTS / "go-junit-report.xml", "--strict")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {general}:2: refused: the file declares a DTD; maestro never expands entities or loads DTDs"
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("truncated.xml", "truncated.xml:5:32: malformed XML: no element found (the 1 test case(s) before it are counted)"),
        ("empty.xml", "empty.xml:1:1: empty or truncated file: no test case could be read"),
        ("pom.xml", "pom.xml: not a JUnit report: the root element is <{http://maven.apache.org/POM/4.0.0}project>"),
        ("garbage.xml", "garbage.xml:1:1: malformed XML: syntax error"),
    ],
)
def test_bad_file_is_a_warning_and_the_rest_is_aggregated(report_json, name: str, warning: str) -> None:
    result, document = report_json(BAD / name, DIALECTS / "catch2.xml")
    assert document["warnings"] == [f"{BAD}/{warning}"]
    assert f"warning: {BAD}/{warning}" in " ".join(result.stderr.split())
    counted = 1 if name == "truncated.xml" else 0  # the cut case never ended
    assert document["totals"]["tests"] == 4 + counted


def test_truncated_file_counts_the_cases_before_the_cut(report_json) -> None:
    _, document = report_json(BAD / "truncated.xml", DIALECTS / "catch2.xml")
    assert document["inputs"][0] == {"path": str(BAD / "truncated.xml"), "format": "junit", "tests": 1, "ok": False}


def test_strict_makes_the_first_problem_fatal_with_its_location(run_cli) -> None:
    result = run_cli("report", BAD / "truncated.xml", BAD / "pom.xml", DIALECTS / "catch2.xml", "--strict")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {BAD}/truncated.xml:5:32: malformed XML: no element found (the 1 test case(s) before it are counted)",
        "hint: 1 more problem(s); drop --strict to report what could be read",
    ]


def test_no_readable_input_at_all_is_exit_2(run_cli, tmp_path: Path) -> None:
    result = run_cli("report", BAD / "empty.xml", tmp_path / "missing.xml")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2:] == [
        f"error: no test results could be read: {tmp_path}/missing.xml: no such file or folder",
        "hint: give JUnit XML files, maestro results.json files, folders or globs",
    ]


def test_missing_input_beside_good_ones_is_a_warning(run_cli, tmp_path: Path) -> None:
    result = run_cli("report", DIALECTS / "catch2.xml", tmp_path / "nope" / "*.xml", "--fail-on", "never")
    assert result.exit_code == 0
    assert f"warning: {tmp_path}/nope/*.xml: no files match" in result.stderr
