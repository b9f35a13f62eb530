"""Writing plans into a temporary project and running them in-process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, made the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write_plan(project: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "plan.yaml") -> Path:
        """Write the plan; returns its path relative to the project, as a user would type it."""
        (project / name).write_text(textwrap.dedent(text).lstrip("\n"))
        return Path(name)

    return write


@pytest.fixture
def read_steps() -> Callable[[Path], dict[str, dict[str, Any]]]:
    """The steps of a results folder's results.json, by id."""

    def read(folder: Path) -> dict[str, dict[str, Any]]:
        document = json.loads((folder / "results.json").read_text())
        assert document["format"] == "maestro-results" and document["version"] == 1
        return {step["id"]: step for step in document["steps"]}

    return read


@pytest.fixture
def in_fresh_process() -> Callable[..., Any]:
    """Runs Python code in a fresh interpreter, as a new start would, and returns the JSON it printed."""

    def run(code: str, *args: str | Path, cwd: Path | None = None) -> Any:
        command = [sys.executable, "-c", code, *(str(arg) for arg in args)]
        finished = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, cwd=cwd)
        return json.loads(finished.stdout)

    return run
