"""maestro extract driven through the installed command, on the fixture monorepo with a real git history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from extract.legacy_repo import make_legacy_repo, tree_hashes

MAESTRO = Path(sys.executable).parent / "maestro"


@pytest.fixture(scope="module")
def legacy_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    repo = make_legacy_repo(tmp_path_factory.mktemp("legacy") / "acme-platform")
    before = tree_hashes(repo)
    yield repo
    assert tree_hashes(repo) == before, "maestro extract modified the legacy repo"


def maestro(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MAESTRO), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_extract_then_verify_is_green(legacy_repo: Path, tmp_path: Path) -> None:
    done = maestro("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--verify", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    verification = document["verification"]
    assert verification["passed"] and verification["stage"] == "tests"
    assert verification["summary"].startswith("5 passed")
    assert verification["wheel"] == "acme_resilience-0.1.0-py3-none-any.whl"
    assert document["out"] == "extracted/acme-resilience"


def test_a_crossing_exits_1_listing_it(legacy_repo: Path, tmp_path: Path) -> None:
    done = maestro("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines()[1] == "  inventory/reporting/export.py:4: imports shared.config"
    assert not (tmp_path / "extracted").exists()


@pytest.mark.slow
def test_with_internal_then_verify_is_green(legacy_repo: Path, tmp_path: Path) -> None:
    done = maestro("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting", "--with-internal", "--verify", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "legacy modules copied in: shared.config" in done.stdout
    assert "verify: passed: 1 passed" in done.stdout


def test_a_run_killed_midway_leaves_no_trace(legacy_repo: Path, tmp_path: Path) -> None:
    """Killed while the package is staged: the repo is untouched and OUT/DIST does not exist."""
    out = tmp_path / "out"
    for _attempt in range(5):
        process = subprocess.Popen(
            [str(MAESTRO), "extract", str(legacy_repo / "shared" / "resilience"), "--name", "acme-resilience",
             "--out", str(out), "--keep-history", "--force"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        while process.poll() is None and not list(out.glob(".acme-resilience.*.partial")):
            time.sleep(0.005)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            break
        process.wait()
        subprocess.run(["rm", "-rf", str(out)], check=True)
    else:
        pytest.fail("never caught the extraction while it was staging")
    assert not (out / "acme-resilience").exists()
