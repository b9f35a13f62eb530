"""`maestro --help` and `--version` stay fast: they import no heavy library and no command's core."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("httpx", "jinja2", "yaml", "lxml", "libcst", "jsonschema", "tenacity", "redis", "playwright", "selenium", "defusedxml")
CORES = ("maestro_cli.extract", "maestro_cli.publish", "maestro_cli.plan", "maestro_cli.report", "maestro_cli.scan", "maestro_cli.queue")


def imported_modules(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from maestro_cli.cli import main; main(sys.argv[1:])", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    assert modules, "no import timing was printed"
    return modules


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_start_up_imports_nothing_heavy(args: list[str]) -> None:
    modules = imported_modules(*args)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(CORES))
    assert heavy == []


def test_a_command_imports_no_other_command() -> None:
    """`maestro run-plan` builds only its own command: publish's retry machinery is not its cost."""
    modules = imported_modules("-q", "run-plan", "--schema")
    assert "maestro_cli.commands.run_plan" in modules
    others = sorted(m for m in modules if m.startswith("maestro_cli.commands.") and m != "maestro_cli.commands.run_plan")
    assert others == []
    assert "maestro_cli.resilience" not in modules
