"""`maestro scan` as a user sees it in-process: tables, one JSON document, an HTML file, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import FIXTURES

BILLING = FIXTURES / "billing-service"

Run = Callable[..., object]


def test_the_table_lists_candidates_commands_duplicates_and_the_summary(run_cli: Run) -> None:
    result = run_cli("scan", FIXTURES)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Candidates (top 9, best first)" in out
    assert f"  1  maestro extract {BILLING}/registry.py --name billing-service-registry --repo {BILLING}\n" in out
    assert "  9  blocked: shipping/legacy_report.py:8: Missing parentheses" in out
    assert "billing-service/registry.py:1-60" in out
    assert "278 lines in 18 files of 2 repos, 1 unparsable; 45.0% duplicated across repos;" in out


def test_json_is_one_document_with_candidates_duplicates_and_summary(run_cli: Run) -> None:
    result = run_cli("scan", FIXTURES, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    first = document["candidates"][0]
    assert {"repo", "module", "path", "loc", "verdict", "crossings", "dependents", "dependencies", "extract_command"} <= set(first)
    assert (first["repo"], first["module"], first["path"], first["verdict"]) == ("billing-service", "registry", "registry.py", "ready")
    [group] = document["duplicates"]
    assert group["similarity"] >= 0.8
    assert [(m["repo"], m["path"], m["start"], m["end"]) for m in group["members"]] == [
        ("shipping-service", "shipping/common/service_registry.py", 1, 65),
        ("billing-service", "registry.py", 1, 60),
    ]
    assert document["summary"]["lines"] == 278


def test_format_json_without_output_prints_the_same_document(run_cli: Run) -> None:
    by_flag = run_cli("scan", FIXTURES, "--json")
    by_format = run_cli("scan", FIXTURES, "--format", "json")
    assert json.loads(by_format.stdout) == json.loads(by_flag.stdout)


def test_top_limits_the_candidates(run_cli: Run) -> None:
    document = json.loads(run_cli("scan", FIXTURES, "--json", "--top", "2").stdout)
    assert [c["module"] for c in document["candidates"]] == ["registry", "shipping.common"]


def test_the_html_report_is_one_self_contained_file(run_cli: Run, tmp_path: Path) -> None:
    report = tmp_path / "scan.html"
    result = run_cli("scan", FIXTURES, "--output", report)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {report}" in result.stderr
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "shipping-service/shipping/common/service_registry.py:1-65" in html
    assert '<span class="verdict needs">needs 4 modules</span>' in html
    assert "--name billing-service-registry" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_an_existing_output_needs_force(run_cli: Run, tmp_path: Path) -> None:
    report = tmp_path / "scan.json"
    report.write_text("mine")
    refused = run_cli("scan", FIXTURES, "--output", report)
    assert refused.exit_code == 2
    assert f"error: {report} already exists" in refused.stderr
    assert "hint: pass --force to replace it" in refused.stderr
    assert report.read_text() == "mine"
    replaced = run_cli("scan", FIXTURES, "--output", report, "--force")
    assert replaced.exit_code == 0
    assert json.loads(report.read_text())["summary"]["repos"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing-repo",), "error: missing-repo: no such directory"),
        ((str(FIXTURES), "--similarity", "1.5"), "error: --similarity 1.5: must be above 0 and at most 1"),
        ((str(FIXTURES), "--min-lines", "1"), "error: --min-lines 1: must be 2 or more"),
        ((str(FIXTURES), "--format", "table", "--output", "x.txt"), "error: --format table is for the terminal"),
        ((str(FIXTURES), "--json", "--output", "x.json"), "error: --json prints the report to stdout"),
        ((str(FIXTURES), "--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli: Run, args: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("scan", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not list(tmp_path.iterdir())


def test_a_repo_without_copies_says_so(run_cli: Run) -> None:
    result = run_cli("scan", BILLING)
    assert result.exit_code == 0, result.stderr
    assert "No duplicated modules, classes or functions of 20+ lines." in result.stdout
    assert "193 lines in 13 files of 1 repo, 0 unparsable;" in result.stdout
