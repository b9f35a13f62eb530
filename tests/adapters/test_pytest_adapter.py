"""The pytest adapter runs a real suite and records every case, as pytest itself counts them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

SUITE = '''
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_adds():
    assert 1 + 1 == 2

@pytest.mark.parametrize("n", [1, 2, 3])
def test_even(n):
    assert n % 2 == 0, f"{n} is odd"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

def test_uses_broken(broken):
    pass
'''


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_numbers.py").write_text(textwrap.dedent(SUITE))
    return tmp_path


def _pytest_own_counts(folder: Path) -> Counter[str]:
    """What pytest's own summary line says, e.g. "2 failed, 2 passed, 1 skipped, 1 error"."""
    finished = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=folder, capture_output=True, text=True)
    summary = finished.stdout.strip().splitlines()[-1]
    return Counter({word.rstrip("s").replace("error", "error"): int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)})


@pytest.mark.parametrize("workers", [None, 2], ids=["serial", "xdist"])
def test_cases_match_pytest_own_counts(suite: Path, run_cli, workers: int | None) -> None:
    options = {"paths": ["tests"], "args": ["-p", "no:cacheprovider"], "python": sys.executable}
    if workers:
        options["workers"] = workers
    (suite / "plan.yaml").write_text(json.dumps({"version": 1, "steps": [{"id": "unit", "adapter": "pytest", "with": options}]}))
    result = run_cli("run-plan", "plan.yaml", "--results", "out", "--json")
    assert result.exit_code == 1
    (step,) = json.loads(result.stdout)["steps"]
    ours = Counter(case["outcome"] for case in step["cases"])
    assert ours == Counter({"passed": 2, "failed": 2, "skipped": 1, "error": 1})
    theirs = _pytest_own_counts(suite)
    assert {"passed": ours["passed"], "failed": ours["failed"], "skipped": ours["skipped"], "error": ours["error"]} == dict(theirs)
    assert step["message"] == "3 of 6 tests failed: test_even[1], test_even[3], test_uses_broken"
    odd = next(case for case in step["cases"] if case["name"] == "test_even[1]")
    assert odd["classname"] == "tests.test_numbers" and "1 is odd" in odd["message"]
    if workers:
        assert "2 workers" in (suite / "out" / "logs" / "unit.log").read_text()


def test_a_passing_selection_passes_and_its_junit_is_attached(suite: Path, run_cli) -> None:
    plan = {"version": 1, "steps": [{"id": "adds", "adapter": "pytest", "with": {"paths": ["tests"], "keyword": "adds"}}]}
    (suite / "plan.yaml").write_text(json.dumps(plan))
    result = run_cli("run-plan", "plan.yaml", "--results", "out", "--json")
    assert result.exit_code == 0
    (step,) = json.loads(result.stdout)["steps"]
    assert [(c["name"], c["outcome"]) for c in step["cases"]] == [("test_adds", "passed")]
    assert (suite / "out" / "attachments" / "adds" / "junit-1.xml").is_file()


def test_no_tests_collected_is_a_failure_that_says_so(suite: Path, run_cli) -> None:
    plan = {"version": 1, "steps": [{"id": "none", "adapter": "pytest", "with": {"paths": ["tests"], "keyword": "nothing_matches"}}]}
    (suite / "plan.yaml").write_text(json.dumps(plan))
    result = run_cli("run-plan", "plan.yaml", "--results", "out", "--json")
    (step,) = json.loads(result.stdout)["steps"]
    assert (result.exit_code, step["outcome"], step["exit_code"], step["message"]) == (1, "failed", 5, "no tests were collected")
