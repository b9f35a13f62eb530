"""Adapters come from the maestro.adapters entry points: built-ins, a third-party plugin, a broken one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MAESTRO = Path(sys.executable).parent / "maestro"

PLUGIN = '''
class EchoAdapter:
    name = "echo"
    description = "Writes its text to the log and to an output."
    options_schema = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}, "additionalProperties": False}

    def check(self, step):
        return []

    def run(self, step, context):
        from maestro_cli.adapters.base import StepResult

        context.log.write(step.options["text"] + "\\n")
        return StepResult("passed", outputs={"said": step.options["text"]})


NOT_AN_ADAPTER = object()
'''


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """An installed-looking distribution with one good, one broken and one bogus entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "echo_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (site / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    dist = site / "maestro_test_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: maestro-test-plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[maestro.adapters]\necho = echo_plugin:EchoAdapter\nbroken = broken_plugin:Adapter\nbogus = echo_plugin:NOT_AN_ADAPTER\n"
    )
    return site


def _maestro(*args: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(MAESTRO), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_builtins_are_listed_from_maestros_own_entry_points(tmp_path: Path) -> None:
    finished = _maestro("adapters", "--json", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    document = json.loads(finished.stdout)
    rows = {row["name"]: row for row in document["adapters"]}
    assert {"shell", "pytest", "http"} <= set(rows)
    assert rows["pytest"]["source"] == "maestro_cli.adapters.pytest:PytestAdapter"
    assert rows["pytest"]["distribution"] == "maestro-cli" and rows["pytest"]["builtin"] is True
    assert "workers" in rows["pytest"]["options"]


def test_a_plugin_is_usable_and_a_broken_one_is_a_warning(tmp_path: Path, plugin_path: Path) -> None:
    finished = _maestro("adapters", "--json", cwd=tmp_path, pythonpath=plugin_path)
    assert finished.returncode == 0
    rows = {row["name"]: row for row in json.loads(finished.stdout)["adapters"]}
    assert "broken" not in rows
    assert (rows["echo"]["distribution"], rows["echo"]["version"], rows["echo"]["builtin"]) == ("maestro-test-plugins", "0.1", False)
    table = _maestro("adapters", cwd=tmp_path, pythonpath=plugin_path).stdout
    assert "│ echo " in table and "maestro-test-plugins 0.1" in table and "built-in (maestro-cli" in table
    assert finished.stderr.splitlines() == [
        "warning: adapter plugin 'bogus' (echo_plugin:NOT_AN_ADAPTER, from maestro-test-plugins) is not an adapter: "
        "missing name, description, options_schema, check, run",
        "warning: adapter plugin 'broken' (broken_plugin:Adapter, from maestro-test-plugins) failed to load: ImportError: needs libfoo",
    ]
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nsteps:\n  - {id: hello, adapter: echo, with: {text: hi there}}\n  - {id: wrong, adapter: echo, with: {txt: x}}\n")
    invalid = _maestro("run-plan", "plan.yaml", "--check", cwd=tmp_path, pythonpath=plugin_path)
    assert invalid.returncode == 2
    assert invalid.stderr.splitlines()[-2:] == [
        "error: plan.yaml:4:38: steps[1].with: missing required key 'text'",
        "error: plan.yaml:4:39: steps[1].with: unknown key 'txt' (did you mean 'text'?)",
    ]
    plan.write_text("version: 1\nsteps:\n  - {id: hello, adapter: echo, with: {text: hi there}}\n")
    ran = _maestro("run-plan", "plan.yaml", "--results", "out", "--json", cwd=tmp_path, pythonpath=plugin_path)
    assert ran.returncode == 0, ran.stderr
    (step,) = json.loads(ran.stdout)["steps"]
    assert step["outputs"] == {"said": "hi there"}
    assert (tmp_path / "out" / "logs" / "hello.log").read_text().endswith("hi there\n")


def _entry_points_in(site: Path, cache: Path) -> dict[str, tuple[str, ...]]:
    """The entry points a fresh process finds."""
    code = (
        "import json, sys; from pathlib import Path; from maestro_cli.adapters.registry import entry_points; "
        "print(json.dumps({ep.name: (ep.value, ep.distribution, ep.version) for ep in entry_points(Path(sys.argv[1]))}))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    quiet = site.parent / "cwd"  # `python -c` fingerprints its working folder too: one nothing writes to
    quiet.mkdir(exist_ok=True)
    finished = subprocess.run([sys.executable, "-c", code, str(cache)], env=env, capture_output=True, text=True, check=True, cwd=quiet)
    return {name: tuple(row) for name, row in json.loads(finished.stdout).items()}


def test_entry_points_are_cached_until_something_is_installed(tmp_path: Path, plugin_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _entry_points_in(plugin_path, cache)
    assert first["echo"] == ("echo_plugin:EchoAdapter", "maestro-test-plugins", "0.1")
    # changed in place, as no installer does: a start that read entry_points.txt again would see it
    declared = plugin_path / "maestro_test_plugins-0.1.dist-info" / "entry_points.txt"
    declared.write_text(declared.read_text().replace("echo = echo_plugin:EchoAdapter", "echo = echo_plugin:Renamed"))
    assert _entry_points_in(plugin_path, cache) == first
    other = plugin_path / "maestro_more-2.0.dist-info"  # a plugin installed since
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: maestro-more\nVersion: 2.0\n")
    (other / "entry_points.txt").write_text("[maestro.adapters]\nmore = echo_plugin:EchoAdapter\n")
    after_install = _entry_points_in(plugin_path, cache)
    assert after_install["more"] == ("echo_plugin:EchoAdapter", "maestro-more", "2.0")
    assert after_install["echo"] == ("echo_plugin:Renamed", "maestro-test-plugins", "0.1")


def test_other_files_written_on_the_import_path_keep_the_cached_entry_points(tmp_path: Path, plugin_path: Path) -> None:
    """A checkout's root is on the path of an editable install: what a run writes there is no install."""
    cache = tmp_path / "cache"
    first = _entry_points_in(plugin_path, cache)
    declared = plugin_path / "maestro_test_plugins-0.1.dist-info" / "entry_points.txt"
    declared.write_text(declared.read_text().replace("echo = echo_plugin:EchoAdapter", "echo = echo_plugin:Renamed"))
    (plugin_path / "demo-report.html").write_text("<html></html>")  # the folder's own time changes
    assert _entry_points_in(plugin_path, cache) == first
