"""What each output format shows: terminal table, step-summary Markdown, HTML, JSON, usage errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from maestro_cli.report import model
from maestro_cli.report.render_markdown import STEP_SUMMARY_LIMIT

from .conftest import DIALECTS, MAESTRO_RUN


def many_failures(path: Path, count: int, detail_lines: int = 60) -> Path:
    trace = "\n".join(f"  at frame{i} (src/app.js:{i}:1) &lt;with&gt; &amp; |pipes|" for i in range(detail_lines))
    cases = "".join(
        f'<testcase classname="big.Suite" name="test_{i} [param|{i}]" time="0.01"><failure message="expected {i} &lt;b&gt;">{trace}</failure></testcase>'
        for i in range(count)
    )
    path.write_text(f'<testsuite name="big">{cases}</testsuite>')
    return path


def test_json_document_has_the_documented_keys(report_json) -> None:
    _, document = report_json(DIALECTS, MAESTRO_RUN)
    assert set(document["totals"]) == {"tests", "passed", "failed", "errors", "skipped", "flaky", "time"}
    assert set(document["suites"][0]) >= {"name", "tests", "failed", "errors", "skipped", "time"}
    assert set(document["failures"][0]) >= {"suite", "classname", "name", "file", "kind", "message", "details"}
    assert set(document["slowest"][0]) >= {"name", "classname", "time"}
    assert set(document["flaky"][0]) >= {"classname", "name", "evidence"}
    assert set(document["inputs"][0]) >= {"path", "format", "tests"}
    assert document["warnings"] == []
    times = [s["time"] for s in document["slowest"]]
    assert times == sorted(times, reverse=True) and len(times) == 10


def test_terminal_table_shows_totals_failures_flaky_and_slowest(run_cli) -> None:
    result = run_cli("report", DIALECTS / "surefire-TEST-com.acme.RetryTest.xml", "--top", "2")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Test report"
    assert "│     4 │      1 │      1 │      0 │       0 │     2 │ 2121.05s │" in lines
    assert any("com.acme.RetryTest › failsEveryTime" in line and "expected: <1> but" in line for line in lines)
    assert "flaky tests (2)" in lines and "slowest 2 tests" in lines
    assert result.stderr.splitlines()[-1] == "4 tests: 1 passed, 1 failed, 0 errors, 0 skipped, 2 flaky"


def test_test_names_with_brackets_are_not_rich_markup(tmp_path: Path, run_cli) -> None:
    result = run_cli("report", many_failures(tmp_path / "one.xml", 1))
    assert "test_0 [param|0]" in result.stdout


def test_markdown_fits_the_step_summary_and_counts_what_it_left_out(tmp_path: Path, run_cli) -> None:
    junit = many_failures(tmp_path / "big.xml", 3000)
    result = run_cli("report", junit, "--format", "markdown")
    assert result.exit_code == 1
    markdown = result.stdout
    assert len(markdown.encode()) < STEP_SUMMARY_LIMIT
    shown = markdown.count("<details><summary>❌")
    assert 0 < shown <= model.MAX_FAILURES
    assert f"_{3000 - shown} more failure(s) not shown here; see the HTML or JSON report._" in markdown
    assert "## Failures (3000)" in markdown
    # a test name cannot open HTML in the summary line
    assert "<b>big.Suite › test_0 [param|0]</b> — expected 0 &lt;b&gt;</summary>" in markdown


def test_html_is_self_contained_and_lists_failures_first(run_cli, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    result = run_cli("report", DIALECTS, MAESTRO_RUN, "--format", "html", "--output", output, "--title", "Nightly <build>")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"wrote {output}"
    html = output.read_text()
    assert "<title>Nightly &lt;build&gt;</title>" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no external assets
    assert not re.search(r"<link |@import|url\(", html)
    assert html.index('id="failures"') < html.index('id="flaky"') < html.index('id="tests"')
    data = json.loads(re.search(r'<script type="application/json" id="case-data">(.*?)</script>', html, re.S).group(1))
    assert len(data) == 53 and {row[0] for row in data} == {"passed", "failed", "error", "skipped", "flaky"}


def test_html_case_data_cannot_close_its_script_element(tmp_path: Path, run_cli) -> None:
    junit = tmp_path / "evil.xml"
    junit.write_text('<testsuite name="s"><testcase classname="c" name="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"/></testsuite>')
    output = tmp_path / "evil.html"
    run_cli("report", junit, "--format", "html", "--output", output)
    html = output.read_text()
    assert "alert(1)" in html
    assert "<script>alert(1)" not in html


def test_existing_output_needs_force(tmp_path: Path, run_cli) -> None:
    output = tmp_path / "report.md"
    output.write_text("mine")
    result = run_cli("report", DIALECTS / "catch2.xml", "--format", "markdown", "--output", output)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {output} already exists", "hint: pass --force to replace it"]
    assert output.read_text() == "mine"
    assert run_cli("report", DIALECTS / "catch2.xml", "--format", "markdown", "--output", output, "--force").exit_code == 1
    assert output.read_text().startswith("# Test report")


def test_usage_errors(run_cli) -> None:
    result = run_cli("report", DIALECTS, "--format", "htm")
    assert (result.exit_code, result.stderr.splitlines()) == (
        2,
        ["error: --format must be one of table, markdown, html, json, junit, not 'htm' (did you mean 'html'?)"],
    )
    result = run_cli("report", DIALECTS, "--fail-on", "sometimes")
    assert result.exit_code == 2 and "--fail-on must be one of failures, errors, never" in result.stderr


def test_fail_on_decides_the_exit_code(run_cli) -> None:
    failing_only = DIALECTS / "catch2.xml"  # a failure, no error
    erroring = DIALECTS / "ant-bare-testsuite.xml"  # an error, no failure
    assert run_cli("report", failing_only).exit_code == 1
    assert run_cli("report", failing_only, "--fail-on", "errors").exit_code == 0
    assert run_cli("report", erroring, "--fail-on", "errors").exit_code == 1
    assert run_cli("report", erroring, "--fail-on", "never").exit_code == 0
    assert run_cli("report", DIALECTS / "missing-attributes.xml", DIALECTS / "surefire-TEST-com.acme.RetryTest.xml", "--fail-on", "never").exit_code == 0


def test_relative_attachments_are_found_beside_their_report(tmp_path: Path, run_cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "run.xml").write_text(
        '<testsuite name="s"><testcase classname="c" name="t"><failure message="m"/>'
        "<system-out>[[ATTACHMENT|shots/t.png]]</system-out></testcase></testsuite>"
    )
    result = run_cli("report", "reports/run.xml", "--format", "html")  # on stdout: absolute file URLs
    assert result.exit_code == 1
    assert f'<img src="{(tmp_path / "reports" / "shots" / "t.png").as_uri()}"' in result.stdout
