"""maestro's own results.json: steps as suites, attempts as reruns, attachments linked from HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import MAESTRO_RUN


def test_results_json_counts_cases_and_steps(report_json) -> None:
    result, document = report_json(MAESTRO_RUN)
    assert result.exit_code == 1
    assert document["inputs"] == [{"path": str(MAESTRO_RUN / "results.json"), "format": "maestro-results", "tests": 7, "ok": True}]
    assert document["totals"] | {"time": 0} == {"tests": 7, "passed": 2, "failed": 2, "errors": 0, "skipped": 1, "flaky": 2, "time": 0}
    suites = {s["name"]: (s["tests"], s["failed"], s["errors"], s["flaky"]) for s in document["suites"]}
    assert suites == {"unit": (3, 0, 0, 1), "checkout": (2, 1, 0, 0), "migrate": (1, 0, 0, 1), "smoke": (1, 1, 0, 0)}
    flaky = {f["name"]: f["evidence"] for f in document["flaky"]}
    assert flaky == {"test_discount": "failed once, then passed on rerun", "migrate": "failed once, then passed on rerun: database locked"}


def test_attachment_paths_are_resolved_from_the_results_folder(report_json) -> None:
    _, document = report_json(MAESTRO_RUN / "results.json")
    failures = {f["name"]: f for f in document["failures"]}
    coupon = failures["applies a coupon"]
    assert [(a["path"], a["kind"]) for a in coupon["attachments"]] == [
        (str(MAESTRO_RUN / "attachments/checkout/coupon-failure.png"), "screenshot"),
        (str(MAESTRO_RUN / "attachments/checkout/coupon-trace.zip"), "trace"),
    ]
    smoke = failures["smoke"]  # a timed-out step without cases is a failure, with the step's own attachments
    assert (smoke["classname"], smoke["kind"], smoke["message"]) == ("http", "failure", "timed out after 30s")
    assert smoke["attachments"][0]["path"] == str(MAESTRO_RUN / "attachments/smoke/response.txt")


def test_html_links_screenshots_and_traces_relative_to_the_report(run_cli, tmp_path: Path) -> None:
    output = tmp_path / "site" / "report.html"
    result = run_cli("report", MAESTRO_RUN, "--format", "html", "--output", output)
    assert result.exit_code == 1
    html = output.read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    links = re.findall(r'<a href="([^"]+)"', html)
    assert len(sources) == 1
    for href in [*sources, *links]:
        assert (output.parent / href).resolve().is_file(), href
    assert any(href.endswith("coupon-trace.zip") for href in links)
    assert (output.parent / sources[0]).resolve() == MAESTRO_RUN / "attachments/checkout/coupon-failure.png"


def test_unknown_and_future_json_are_warnings(tmp_path: Path, report_json) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"tests": []}))
    future = tmp_path / "run" / "results.json"
    future.parent.mkdir()
    future.write_text(json.dumps({"format": "maestro-results", "version": 99, "steps": []}))
    broken = tmp_path / "broken" / "results.json"
    broken.parent.mkdir()
    broken.write_text('{"format": "maestro-results",\n  "steps": [}\n')
    _, document = report_json(tmp_path / "other.json", future, broken, MAESTRO_RUN)
    assert document["warnings"] == [
        f'{tmp_path}/other.json: not a maestro results file: no "format": "maestro-results"',
        f"{future}: unsupported results version 99 (this maestro reads 1)",
        f"{broken}:2:13: malformed JSON: Expecting value",
    ]
    assert document["totals"]["tests"] == 7
