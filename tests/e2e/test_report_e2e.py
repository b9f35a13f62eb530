"""`maestro report` as a user runs it: the installed command, real files, a real browser on 100k tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MAESTRO = Path(sys.executable).parent / "maestro"
FIXTURES = Path(__file__).parent.parent / "report" / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")


def maestro(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([str(MAESTRO), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def test_step_summary_is_appended_by_the_shell(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    with summary.open("a") as stream:
        result = subprocess.run(
            [str(MAESTRO), "report", str(FIXTURES / "dialects"), "--format", "markdown", "--fail-on", "never"],
            stdout=stream, stderr=subprocess.PIPE, text=True, timeout=120,
        )
    assert result.returncode == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n# Test report\n")
    assert "❌ **46 tests**: 22 passed, 11 failed, 2 errors, 8 skipped, 3 flaky in 3356.61s" in text


def test_json_and_exit_codes_from_the_installed_command(tmp_path: Path) -> None:
    result = maestro("--json", "report", FIXTURES / "dialects", FIXTURES / "maestro-run", FIXTURES / "bad" / "pom.xml")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["totals"]["tests"] == 53
    assert document["warnings"] == [f"{FIXTURES}/bad/pom.xml: not a JUnit report: the root element is <{{http://maven.apache.org/POM/4.0.0}}project>"]
    strict = maestro("report", FIXTURES / "dialects", FIXTURES / "bad" / "pom.xml", "--strict")
    assert strict.returncode == 2 and strict.stdout == ""
    assert maestro("report", tmp_path / "nothing-here").returncode == 2


def write_junit_files(folder: Path, files: int, cases: int) -> None:
    folder.mkdir()
    for f in range(files):
        rows = []
        for c in range(cases):
            body = f'<failure message="expected {c}">trace {c}</failure>' if c % 97 == 0 else ""
            rows.append(f'<testcase classname="pkg{f}.Class{f}" name="test_{f}_{c}" time="0.01">{body}</testcase>')
        (folder / f"TEST-{f}.xml").write_text(f'<testsuite name="suite{f}">{"".join(rows)}</testsuite>')


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is installed by .ci/system-packages.sh")
def test_html_report_of_100k_tests_filters_in_a_real_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    write_junit_files(tmp_path / "results", files=500, cases=200)
    output = tmp_path / "report.html"
    result = maestro("report", tmp_path / "results", "--format", "html", "--output", output)
    assert result.returncode == 1, result.stderr
    assert output.stat().st_size < 20 * 1024 * 1024
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(output.as_uri())
            page.wait_for_selector("#cases tbody tr")
            assert page.locator("#page").inner_text() == "100000 of 100000 tests, page 1 of 500"
            assert page.locator("#cases tbody tr").count() == 200  # one page of rows, not 100k
            assert page.locator("#cases tbody tr").first.locator("td").first.inner_text() == "failed"  # failures first
            page.fill("#filter", "test_321_199")
            page.wait_for_function("document.getElementById('page').textContent.startsWith('1 of')")
            assert page.locator("#cases tbody td").nth(2).inner_text() == "pkg321.Class321 › test_321_199"
            page.fill("#filter", "")
            page.select_option("#outcome", "failing")
            page.wait_for_function("document.getElementById('page').textContent.startsWith('1500 of')")
        finally:
            browser.close()


PLAN = """\
version: 1
name: mini
steps:
  - id: unit
    adapter: pytest
    with: {paths: [test_mini.py]}
  - id: lint
    adapter: shell
    run: "exit 3"
"""


def test_a_run_plan_results_folder_counts_once_and_agrees_with_its_junit(tmp_path: Path) -> None:
    (tmp_path / "test_mini.py").write_text('def test_ok():\n    pass\n\n\ndef test_bad():\n    assert 0, "nope"\n')
    (tmp_path / "plan.yaml").write_text(PLAN)
    run = maestro("run-plan", "plan.yaml", "--results", "out", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    folder = maestro("--json", "report", tmp_path / "out")
    document = json.loads(folder.stdout)
    # results.json only: junit.xml and the pytest step's own XML in attachments/ repeat it
    assert [i["path"] for i in document["inputs"]] == [str(tmp_path / "out" / "results.json")]
    assert document["totals"] | {"time": 0} == {"tests": 3, "passed": 1, "failed": 2, "errors": 0, "skipped": 0, "flaky": 0, "time": 0}
    junit = json.loads(maestro("--json", "report", tmp_path / "out" / "junit.xml").stdout)
    assert junit["failing"] == document["failing"] == ["shell::lint", "test_mini::test_bad"]
