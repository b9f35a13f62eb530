"""Fixtures every test shares: an isolated home, plain output, and the CLI run in-process."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from maestro_cli import redaction

MAESTRO = Path(sys.executable).parent / "maestro"
# Read before any test replaces $HOME: pip in a test venv may reuse the real wheel cache.
REAL_PIP_CACHE = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")


# maestro's own XDG dirs; .rustup is touched by this machine's toolchain shims when pip runs
ALLOWED_IN_HOME = (".cache", ".config", ".local", ".rustup")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Config, cache and data dirs in a temp folder; NO_COLOR and a fixed width; no MAESTRO_* leaks.

    Like pre-commit's ``dont_write_to_home_directory``: the real home is replaced by an empty folder,
    and a test that leaves anything there (other than maestro's own cache) fails.
    """
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(("MAESTRO_", "TWINE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("PIP_CACHE_DIR", str(REAL_PIP_CACHE))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    yield home
    left = sorted(
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and p.relative_to(home).parts[0] not in ALLOWED_IN_HOME
    )
    assert not left, f"the test wrote into $HOME: {left}"


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    """Secrets registered by one in-process run must not mask output in the next test."""
    yield
    redaction._secrets.clear()


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., RunResult]:
    """Run ``maestro ARGS`` in-process and return exit code, stdout and stderr (pdm's RunResult)."""
    from maestro_cli import events
    from maestro_cli.cli import main

    def run(*args: str | os.PathLike[str]) -> RunResult:
        capsys.readouterr()
        listeners = list(events._listeners)
        try:
            code = main([str(a) for a in args])
        finally:
            events._listeners[:] = listeners  # main attaches an audit listener per invocation
        captured = capsys.readouterr()
        return RunResult(int(code), captured.out, captured.err)

    return run
