"""Files made by really running pytest: xunit1, xunit2, and reruns by pytest-rerunfailures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = '''\
import pytest

ATTEMPTS = {"flaky": 0}


def test_passes():
    print("some output")


def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken"


def test_flaky():
    ATTEMPTS["flaky"] += 1
    assert ATTEMPTS["flaky"] > 1, "first attempt fails"


@pytest.fixture
def leaky():
    yield
    raise RuntimeError("connection leaked")


def test_fails_and_teardown_errors(leaky):
    assert False, "body failed"


def test_passes_but_teardown_errors(leaky):
    pass


@pytest.mark.skip(reason="not on this platform")
def test_skipped():
    pass
'''


def run_pytest(folder: Path, name: str, *options: str) -> Path:
    output = folder / f"{name}.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={output}", *options, "test_sample.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,  # the sample fails on purpose
    )
    assert output.is_file()
    return output


@pytest.fixture(scope="session")
def pytest_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pytest-runs")
    (folder / "test_sample.py").write_text(SUITE)
    no_reruns = ("-p", "no:rerunfailures")
    return {
        "xunit1": run_pytest(folder, "xunit1", "-o", "junit_family=xunit1", *no_reruns),
        "xunit2": run_pytest(folder, "xunit2", "-o", "junit_family=xunit2", *no_reruns),
        "reruns": run_pytest(folder, "reruns", "-o", "junit_family=xunit2", "--reruns", "2"),
    }


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_pytest_run_counts_each_test_once(report_json, pytest_files: dict[str, Path], family: str) -> None:
    _, document = report_json(pytest_files[family])
    # pytest's own counters say 7 tests (the teardown error is a second testcase); there are 6
    assert document["totals"] | {"time": 0} == {"tests": 6, "passed": 1, "failed": 3, "errors": 1, "skipped": 1, "flaky": 0, "time": 0}
    failures = {f["name"]: f for f in document["failures"]}
    assert failures["test_fails"]["message"] == "AssertionError: arithmetic is broken\nassert (1 + 1) == 3"
    assert "connection leaked" in failures["test_fails_and_teardown_errors"]["details"]
    assert failures["test_fails_and_teardown_errors"]["kind"] == "failure"
    assert failures["test_passes_but_teardown_errors"]["kind"] == "error"
    if family == "xunit1":
        assert failures["test_fails"]["file"] == "test_sample.py"


def test_pytest_rerunfailures_reruns_make_one_flaky_test(report_json, pytest_files: dict[str, Path]) -> None:
    _, document = report_json(pytest_files["reruns"])
    assert document["totals"] | {"time": 0} == {"tests": 6, "passed": 1, "failed": 2, "errors": 1, "skipped": 1, "flaky": 1, "time": 0}
    assert [(f["name"], f["evidence"]) for f in document["flaky"]] == [("test_flaky", "failed once, then passed on rerun")]
    evidence = {f["name"]: f["evidence"] for f in document["failures"]}
    assert evidence["test_fails"] == "failed all 3 attempts"


def test_merged_junit_reads_back_to_the_same_totals(run_cli, report_json, pytest_files: dict[str, Path], tmp_path: Path) -> None:
    merged = tmp_path / "merged.xml"
    result = run_cli("report", *pytest_files.values(), "--format", "junit", "--output", merged)
    assert result.exit_code == 1
    _, original = report_json(*pytest_files.values())
    _, again = report_json(merged)
    assert again["totals"] | {"time": 0} == original["totals"] | {"time": 0}
    assert again["totals"]["time"] == pytest.approx(original["totals"]["time"], abs=0.01)
    assert {f["name"] for f in again["flaky"]} == {"test_flaky"}
