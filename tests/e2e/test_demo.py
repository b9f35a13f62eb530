"""`make demo`'s script, end to end, twice in a row, as a newcomer would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_end_to_end_twice() -> None:
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "examples/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "verify: passed" in out
    assert "4 uploaded" in out and "4 skipped" in out
    assert "package index stopped" in out
    document = json.loads((ROOT / ".maestro" / "demo" / "run" / "results.json").read_text())
    outcomes = {step["id"]: step["outcome"] for step in document["steps"]}
    assert outcomes == dict.fromkeys(
        ["venv", "install", "test-resilience", "test-registry", "billing-health", "billing-invoices"], "passed"
    )
    carried = {step["id"]: len(step["cases"]) for step in document["steps"] if step["id"].startswith("test-")}
    assert carried == {"test-resilience": 5, "test-registry": 3}
    html = (ROOT / "demo-report.html").read_text()
    assert "<html" in html.lower() and "test_healthy_lists_only_live_services" in html
