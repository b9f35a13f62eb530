"""A third-party adapter package, pip-installed into a fresh venv, runs in a plan and is listed.

The venv gets maestro from this checkout (editable, no dependencies) and the plugin; a ``.pth`` file
lends it the shared venv's site-packages for the dependencies, so the shared venv is never touched
and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from textwrap import dedent

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]

PLUGIN_PYPROJECT = """\
[project]
name = "maestro-contains"
version = "1.2.3"
description = "maestro adapter: a step passes when a file contains a text"
requires-python = ">=3.11"
dependencies = ["maestro-cli"]

[project.entry-points."maestro.adapters"]
contains = "maestro_contains:ContainsAdapter"

[tool.poetry]
packages = [{ include = "maestro_contains.py" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

PLUGIN_MODULE = '''\
"""A step passes when a file contains a text: one test case per step."""

from maestro_cli.adapters.base import StepContext, StepResult, StepSpec, TestCase


class ContainsAdapter:
    name = "contains"
    description = "Pass when a file contains a text."
    options_schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "file, relative to the plan"},
            "text": {"type": "string", "minLength": 1, "description": "what it must contain"},
        },
        "required": ["path", "text"],
        "additionalProperties": False,
    }

    def check(self, step: StepSpec) -> list[str]:
        return ["the contains adapter takes `with:`, not `run:`"] if step.run is not None else []

    def run(self, step: StepSpec, context: StepContext) -> StepResult:
        path, text = step.options["path"], step.options["text"]
        file = context.workdir / path
        found = file.is_file() and text in file.read_text(encoding="utf-8")
        message = None if found else f"{text!r} is not in {path}"
        case = TestCase(name=path, classname="contains", outcome="passed" if found else "failed", message=message)
        return StepResult("passed" if found else "failed", message=message, cases=[case])
'''


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding maestro (from this checkout) and the maestro-contains plugin."""
    root = tmp_path_factory.mktemp("plugin")
    plugin = root / "maestro-contains"
    plugin.mkdir()
    (plugin / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (plugin / "maestro_contains.py").write_text(PLUGIN_MODULE)

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(purelib) / "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
           "--no-build-isolation", "--no-index"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([*pip, "--editable", CHECKOUT], check=True, env=env)
    subprocess.run([*pip, plugin], check=True, env=env)
    return venv


@pytest.mark.slow
def test_maestro_adapters_lists_the_plugin_with_its_package_and_version(plugin_venv: Path) -> None:
    maestro = plugin_venv / "bin" / "maestro"

    listed = subprocess.run([maestro, "adapters", "--json"], capture_output=True, text=True)
    table = subprocess.run([maestro, "adapters"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})

    assert listed.returncode == 0, listed.stderr
    adapters = {row["name"]: row for row in json.loads(listed.stdout)["adapters"]}
    assert adapters["contains"]["distribution"] == "maestro-contains"
    assert adapters["contains"]["version"] == "1.2.3"
    assert adapters["contains"]["options"] == ["path", "text"]
    assert {"shell", "pytest", "playwright", "selenium"} <= set(adapters)  # the built-ins, from the checkout
    row = next(line for line in table.stdout.splitlines() if " contains " in line)
    assert "maestro-contains 1.2.3" in row


@pytest.mark.slow
def test_a_plan_runs_the_plugin_and_validates_its_options(plugin_venv: Path, tmp_path: Path) -> None:
    maestro = plugin_venv / "bin" / "maestro"
    (tmp_path / "notes.txt").write_text("release 2.0 is out\n")
    (tmp_path / "plan.yaml").write_text(dedent("""\
        version: 1
        name: notes
        steps:
          - id: released
            adapter: contains
            with: {path: notes.txt, text: "release 2.0"}
          - id: dated
            adapter: contains
            with: {path: notes.txt, text: "2026-11-25"}
        """))
    (tmp_path / "bad.yaml").write_text(dedent("""\
        version: 1
        steps:
          - id: released
            adapter: contains
            with: {path: notes.txt, txt: "release"}
        """))

    ran = subprocess.run([maestro, "run-plan", "plan.yaml", "--results", "results"], cwd=tmp_path, capture_output=True, text=True)
    refused = subprocess.run([maestro, "run-plan", "--check", "bad.yaml"], cwd=tmp_path, capture_output=True, text=True)

    assert ran.returncode == 1, ran.stderr
    steps = {step["id"]: step for step in json.loads((tmp_path / "results" / "results.json").read_text())["steps"]}
    assert steps["released"]["outcome"] == "passed"
    assert steps["dated"]["outcome"] == "failed"
    assert steps["dated"]["message"] == "'2026-11-25' is not in notes.txt"
    assert [(c["name"], c["outcome"]) for c in steps["dated"]["cases"]] == [("notes.txt", "failed")]
    assert refused.returncode == 2
    assert sorted(refused.stderr.splitlines()) == [  # checked against the plugin's own option schema
        "error: bad.yaml:5:11: steps[0].with: missing required key 'text'",
        "error: bad.yaml:5:29: steps[0].with: unknown key 'txt' (did you mean 'text'?)",
    ]
