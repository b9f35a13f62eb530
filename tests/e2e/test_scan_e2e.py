"""The installed `maestro scan` on two legacy repos, and the extract commands it suggests, run as given."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MAESTRO = Path(sys.executable).parent / "maestro"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "scan"


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "NO_COLOR": "1", **env})


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """Copies of the fixture repos, so that nothing the commands do can reach the checkout."""
    repos = tmp_path / "legacy"
    for name in ("billing-service", "shipping-service"):
        shutil.copytree(FIXTURES / name, repos / name)
    return repos


def suggested(document: dict, module: str) -> list[str]:
    command = next(c["extract_command"] for c in document["candidates"] if c["module"] == module)
    words = shlex.split(command)
    assert words[:2] == ["maestro", "extract"]
    return [str(MAESTRO), *words[1:]]


def test_suggested_extract_commands_run_and_the_extracted_tests_pass(legacy: Path, tmp_path: Path) -> None:
    scanned = run([str(MAESTRO), "scan", "legacy", "--json"], cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    document = json.loads(scanned.stdout)
    assert {c["module"]: c["verdict_label"] for c in document["candidates"]}["storage"] == "needs 1 module"

    ready = run(suggested(document, "registry"), cwd=tmp_path)
    assert ready.returncode == 0, ready.stderr
    package = tmp_path / "extracted" / "billing-service-registry"
    assert (package / "src" / "billing_service_registry" / "__init__.py").read_text().count("class ServiceRegistry") == 1
    # the legacy test came along, rewritten to the new import name, and passes against the new package
    carried = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=package, PYTHONPATH="src")
    assert "1 passed" in carried.stdout, carried.stdout + carried.stderr

    with_internal = run(suggested(document, "storage"), cwd=tmp_path)
    assert with_internal.returncode == 0, with_internal.stderr
    storage = tmp_path / "extracted" / "billing-service-storage" / "src" / "billing_service_storage"
    assert (storage / "_legacy" / "settings.py").is_file()


def test_the_installed_command_rejects_a_missing_path_in_one_line(tmp_path: Path) -> None:
    result = run([str(MAESTRO), "scan", "nowhere"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: nowhere: no such directory"
    assert result.stdout == ""
