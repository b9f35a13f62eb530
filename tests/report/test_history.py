"""--history: a compact summary per run, the trend, flakiness across runs; --baseline: what changed."""

from __future__ import annotations

import json
from pathlib import Path

FLIPPING = [False, True, False, True]  # does test_flip fail in run 1, 2, 3, 4?


def write_junit(path: Path, failing: set[str], names: tuple[str, ...] = ("test_flip", "test_stable", "test_broken_late")) -> Path:
    cases = []
    for name in names:
        body = '<failure message="boom">trace</failure>' if name in failing else ""
        cases.append(f'<testcase classname="pkg.Mod" name="{name}" time="0.5">{body}</testcase>')
    path.write_text(f'<testsuite name="pkg">{"".join(cases)}</testsuite>\n')
    return path


def test_history_records_runs_and_finds_tests_flipping_between_them(tmp_path: Path, report_json) -> None:
    history = tmp_path / "history"
    for run, flip_fails in enumerate(FLIPPING, 1):
        failing = {"test_flip"} if flip_fails else set()
        if run == 4:
            failing.add("test_broken_late")  # one change of state is a regression, not flakiness
        _, document = report_json(write_junit(tmp_path / f"run{run}.xml", failing), "--history", history)
    entries = sorted(history.glob("*.json"))
    assert len(entries) == 4
    assert document["history_entry"] == str(entries[-1])
    last = json.loads(entries[-1].read_text())
    assert last["format"] == "maestro-report-history"
    assert sorted(last["failing"]) == [["pkg.Mod", "test_broken_late"], ["pkg.Mod", "test_flip"]]
    assert "test_stable" not in entries[-1].read_text()  # compact: passing tests are not listed
    assert [round(p["pass_rate"], 3) for p in document["trend"]] == [1.0, 0.667, 1.0, 0.333]
    across = [f for f in document["flaky"] if f["source"] == "history"]
    assert across == [
        {"classname": "pkg.Mod", "name": "test_flip", "suite": "pkg.Mod", "evidence": "failed in 2 of 4 runs, flip rate 100%", "source": "history", "flip_rate": 1.0}
    ]


def test_html_draws_the_trend_only_with_history(tmp_path: Path, run_cli) -> None:
    history = tmp_path / "history"
    for run, flip_fails in enumerate(FLIPPING, 1):
        junit = write_junit(tmp_path / f"run{run}.xml", {"test_flip"} if flip_fails else set())
        output = tmp_path / f"run{run}.html"
        run_cli("report", junit, "--history", history, "--format", "html", "--output", output)
    html = (tmp_path / "run4.html").read_text()
    assert "Trend over the last 4 runs" in html
    assert html.count("<circle ") == 4
    alone = tmp_path / "alone.html"
    run_cli("report", tmp_path / "run1.xml", "--format", "html", "--output", alone)
    assert "<svg" not in alone.read_text()


def test_baseline_sorts_failures_into_new_still_failing_and_fixed(tmp_path: Path, run_cli, report_json) -> None:
    baseline = tmp_path / "baseline.json"
    result = run_cli("report", write_junit(tmp_path / "before.xml", {"test_flip", "test_stable"}), "--format", "json", "--output", baseline)
    assert result.exit_code == 1
    _, document = report_json(write_junit(tmp_path / "after.xml", {"test_flip", "test_broken_late"}), "--baseline", baseline)
    assert document["baseline"] == {
        "path": str(baseline),
        "new": ["pkg.Mod::test_broken_late"],
        "still_failing": ["pkg.Mod::test_flip"],
        "fixed": ["pkg.Mod::test_stable"],
        "counts": {"new": 1, "still_failing": 1, "fixed": 1},
    }
    assert {f["name"]: f["status"] for f in document["failures"]} == {"test_flip": "still-failing", "test_broken_late": "new"}
    markdown = run_cli("report", tmp_path / "after.xml", "--baseline", baseline, "--format", "markdown").stdout
    assert "Compared with the baseline: **1 new** failure(s), 1 still failing, 1 fixed." in markdown


def test_a_baseline_that_is_not_a_report_is_bad_input(tmp_path: Path, run_cli) -> None:
    junit = write_junit(tmp_path / "run.xml", set())
    broken = tmp_path / "broken.json"
    broken.write_text('{"failing": [\n  "a",\n  oops]}')
    result = run_cli("report", junit, "--baseline", broken)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {broken}:3:3: the baseline is not JSON: Expecting value"]
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    result = run_cli("report", junit, "--baseline", other)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {other}: the baseline is not a maestro report",
        "hint: write one with: maestro report RESULTS --format json --output baseline.json",
    ]


def test_written_files_are_audited_and_a_plain_report_is_not(tmp_path: Path, run_cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    junit = write_junit(tmp_path / "run.xml", set())
    assert run_cli("report", junit).exit_code == 0
    assert not (tmp_path / ".maestro" / "audit.jsonl").exists()  # reading changes nothing
    run_cli("report", junit, "--history", "history", "--format", "html", "--output", "report.html")
    records = [json.loads(line) for line in (tmp_path / ".maestro" / "audit.jsonl").read_text().splitlines()]
    assert [(r["command"], r["action"]) for r in records] == [("report", "report.history_recorded"), ("report", "report.written")]
    assert records[1]["artifacts"][0]["path"] == "report.html"
    assert len(records[1]["artifacts"][0]["sha256"]) == 64
