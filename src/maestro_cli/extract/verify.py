"""``--verify``: does the extracted package build, install into a fresh venv, import, and pass its tests?

Everything happens on a temporary copy: the wheel is built in-process with poetry-core (the backend
the package declares), installed with its dependencies and its ``test`` dependency group into a new
venv, and the carried tests run there with the copy's ``src/`` deleted, so they can only import the
installed wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

NO_TESTS_COLLECTED = 5  # pytest's exit code when there was nothing to run
OUTPUT_TAIL_LINES = 30


@dataclass(frozen=True)
class Verification:
    passed: bool
    stage: str  # the last stage reached: build, install, import, tests
    summary: str
    wheel: str = ""
    output: str = ""  # the tail of what the failing (or final) step printed


def verify_package(package_dir: Path, import_name: str, *, run_tests: bool) -> Verification:
    with tempfile.TemporaryDirectory(prefix="maestro-verify-") as scratch:
        work = Path(scratch)
        project = work / "project"
        shutil.copytree(package_dir, project, ignore=shutil.ignore_patterns(".git"))
        try:
            wheel = work / "dist" / _build_wheel(project, work / "dist")
        except Exception as exc:  # a backend failure of any kind is the verification's finding
            return Verification(False, "build", f"the wheel did not build: {exc}")
        shutil.rmtree(project / "src")
        python = _fresh_venv(work / "venv")
        install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)]
        if run_tests:
            install += ["--group", f"{project / 'pyproject.toml'}:test"]
        done = _run(install, cwd=work)
        if done.returncode != 0:
            return Verification(False, "install", "pip could not install the wheel", wheel.name, _tail(done.stdout))
        done = _run([str(python), "-c", f"import {import_name}"], cwd=work)
        if done.returncode != 0:
            return Verification(False, "import", f"'import {import_name}' failed", wheel.name, _tail(done.stdout))
        if not run_tests:
            return Verification(True, "import", f"built {wheel.name}, installed and imported", wheel.name)
        done = _run(
            # one test module that cannot be collected must not hide how the others fare
            # pytest's default import mode, as the legacy repo ran them: helpers beside the tests import as top-level modules
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", "tests"],
            cwd=project,
        )
        last = _tail(done.stdout).splitlines()[-1:] or ["no output"]
        if done.returncode == NO_TESTS_COLLECTED:
            return Verification(True, "tests", f"built {wheel.name}, installed and imported; no tests to run", wheel.name)
        return Verification(done.returncode == 0, "tests", last[0].strip("= "), wheel.name, _tail(done.stdout))


def _build_wheel(project: Path, dist: Path) -> str:
    """poetry-core's PEP 517 hook, run in this process: it builds from the current directory."""
    from poetry.core.masonry.api import build_wheel

    dist.mkdir(parents=True, exist_ok=True)
    previous = Path.cwd()
    os.chdir(project)
    try:
        return build_wheel(str(dist))
    finally:
        os.chdir(previous)


def _fresh_venv(folder: Path) -> Path:
    # no pip inside: this interpreter's pip installs into it with --python, which saves a bootstrap
    venv.EnvBuilder(with_pip=False, clear=True).create(folder)
    return folder / ("Scripts" if sys.platform == "win32" else "bin") / "python"


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-OUTPUT_TAIL_LINES:])
