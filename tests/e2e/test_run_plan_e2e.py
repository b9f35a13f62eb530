"""`maestro run-plan` through the installed command: a plan with every key, Ctrl-C, timeouts, errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from maestro_cli.plan.process import is_running

MAESTRO = Path(sys.executable).parent / "maestro"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **extra}


def _maestro(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MAESTRO), *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=300)


def _pids(path: Path) -> list[int]:
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def _wait_for(path: Path) -> None:
    for _ in range(600):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    tests = tmp_path / "tests" / "unit"
    tests.mkdir(parents=True)
    (tests / "test_math.py").write_text("def test_one():\n    assert 1\n\ndef test_two():\n    assert 2\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "health.json").write_text('{"status": "ok"}')
    smoke = tmp_path / "smoke.sh"
    smoke.write_text('#!/bin/bash\necho "smoke on $1 with token $API_TOKEN"\n[ "$1" != "3.11" ]\n')
    smoke.chmod(0o755)
    return tmp_path


def test_a_plan_with_every_key(project: Path) -> None:
    port = _free_port()
    (project / "plan.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            name: nightly
            env: {{API_URL: "http://127.0.0.1:{port}"}}
            vars: {{suite: smoke}}
            secrets: [API_TOKEN]
            services:
              api:
                run: {sys.executable} -m http.server {port} --bind 127.0.0.1
                cwd: site
                health: {{http: "http://127.0.0.1:{port}/", timeout: 20}}
            defaults: {{timeout: 600, retries: 0}}
            steps:
              - id: unit
                adapter: pytest
                with: {{paths: [tests/unit], args: ["-q", "-p", "no:cacheprovider"], python: {sys.executable}}}
                retries: 2
                tags: [fast]
              - id: api-up
                adapter: http
                with: {{url: "${{{{ env.API_URL }}}}/health.json", expect: {{status: 200, json: {{status: ok}}}}}}
                services: [api]
                needs: [unit]
              - id: version
                run: echo "suite=${{{{ vars.suite }}}}-$LEVEL" >> "$MAESTRO_OUTPUT"
                env: {{LEVEL: deep}}
                cwd: tests
                outputs: [suite]
              - id: smoke-${{{{ matrix.py }}}}
                run: ./smoke.sh ${{{{ matrix.py }}}}
                matrix: {{py: ["3.11", "3.12"]}}
                timeout: 120
                continue-on-error: true
              - id: cleanup
                run: echo "cleaning after ${{{{ steps.version.outputs.suite }}}}" > cleaned.txt
                needs: [api-up, version]
                if: always()
            """
        )
    )
    finished = _maestro("run-plan", "plan.yaml", "--results", "out", "--json", "--jobs", "3", cwd=project, API_TOKEN="tkn-0f-nightly")
    assert finished.returncode == 0, finished.stderr
    document = json.loads(finished.stdout)
    assert (document["format"], document["version"], document["plan"], document["outcome"]) == ("maestro-results", 1, "nightly", "passed")
    steps = {step["id"]: step for step in document["steps"]}
    assert {k: s["outcome"] for k, s in steps.items()} == {
        "unit": "passed",
        "api-up": "passed",
        "version": "passed",
        "smoke-3.11": "failed",
        "smoke-3.12": "passed",
        "cleanup": "passed",
    }
    assert [c["name"] for c in steps["unit"]["cases"]] == ["test_one", "test_two"]
    assert steps["smoke-3.11"]["required"] is False and steps["smoke-3.11"]["matrix"] == {"py": "3.11"}
    assert steps["version"]["outputs"] == {"suite": "smoke-deep"}
    assert (project / "cleaned.txt").read_text() == "cleaning after smoke-deep\n"
    for step in document["steps"]:
        assert set(step) >= {"id", "adapter", "required", "outcome", "attempts", "log", "exit_code", "duration", "outputs", "cases"}
        assert (project / "out" / step["log"]).is_file()
    out = project / "out"
    assert json.loads((out / "results.json").read_text()) == {k: v for k, v in document.items() if k != "results_dir"}
    junit = ElementTree.parse(out / "junit.xml").getroot()
    assert [s.get("name") for s in junit] == list(steps)
    assert [c.get("name") for c in junit.find("testsuite[@name='unit']").iter("testcase")] == ["test_one", "test_two"]
    # the secret reached the step, and nowhere else
    assert "smoke on 3.12 with token ****" in (out / "logs" / "smoke-3.12.log").read_text()
    audit = (project / ".maestro" / "audit.jsonl").read_text()
    everything = [audit, finished.stdout, finished.stderr] + [p.read_text() for p in out.rglob("*") if p.is_file()]
    assert not any("tkn-0f-nightly" in text for text in everything)
    (record,) = [json.loads(line) for line in audit.splitlines() if '"plan.finished"' in line]
    assert (record["outcome"], record["details"]["plan"]) == ("passed", "nightly")
    assert record["artifacts"][0]["path"].endswith("out/results.json")
    # plain progress lines on stderr when it is not a terminal
    assert "start     unit" in finished.stderr and "FAILED    smoke-3.11" in finished.stderr


def test_a_timeout_leaves_no_process_behind(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        "version: 1\nsteps:\n"
        "  - id: hangs\n"
        "    run: sleep 300 & echo $! >> pids; (sleep 301 & echo $! >> pids); sleep 302 & echo $! >> pids; wait\n"
        "    timeout: 1\n"
    )
    finished = _maestro("run-plan", "plan.yaml", "--results", "out", cwd=tmp_path)
    assert finished.returncode == 1
    assert "TIMED OUT hangs" in finished.stderr and "timed out after 1s" in finished.stdout
    pids = _pids(tmp_path / "pids")
    assert len(pids) == 3 and [pid for pid in pids if is_running(pid)] == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_cancels_stops_services_writes_partial_results_and_exits_130(tmp_path: Path, signum: int) -> None:
    port = _free_port()
    (tmp_path / "plan.yaml").write_text(
        textwrap.dedent(
            f"""
            version: 1
            services:
              web:
                run: echo $$ >> pids; exec {sys.executable} -m http.server {port} --bind 127.0.0.1
                health: {{tcp: "127.0.0.1:{port}"}}
            steps:
              - {{id: quick, run: echo quick}}
              - id: long
                run: sleep 300 & echo $! >> pids; touch started; wait
                services: [web]
              - {{id: after, run: echo after, needs: [long]}}
            """
        )
    )
    maestro = subprocess.Popen([str(MAESTRO), "run-plan", "plan.yaml", "--results", "out"], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "started")
    maestro.send_signal(signum)
    stdout, stderr = maestro.communicate(timeout=60)
    assert maestro.returncode == 130, stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert document["outcome"] == "interrupted"
    assert {s["id"]: s["outcome"] for s in document["steps"]} == {"quick": "passed", "long": "cancelled", "after": "cancelled"}
    pids = _pids(tmp_path / "pids")
    assert len(pids) == 2 and [pid for pid in pids if is_running(pid)] == []


def test_an_invalid_plan_runs_nothing_and_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        "version: 1\nsteps:\n  - id: unit\n    run: touch ran\n  - id: api\n    run: echo\n    needs: [unti, api]\n"
    )
    finished = _maestro("run-plan", "plan.yaml", cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr.splitlines() == [
        "error: plan.yaml:7:12: steps[1].needs: dependency cycle: api -> api",
        "error: plan.yaml:7:13: steps[1].needs: unknown step 'unti' (did you mean 'unit'?)",
    ]
    assert not (tmp_path / "ran").exists() and not (tmp_path / ".maestro" / "runs").exists()


def test_schema_check_and_dry_run(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads(_maestro("run-plan", "--schema", cwd=tmp_path).stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    plan = {"version": 1, "steps": [{"id": "a", "run": "echo"}, {"id": "b", "run": "echo", "needs": "a"}]}
    jsonschema.validate(plan, schema)
    (tmp_path / "plan.yaml").write_text(json.dumps(plan))
    checked = _maestro("run-plan", "plan.yaml", "--check", cwd=tmp_path)
    assert (checked.returncode, checked.stdout) == (0, "plan.yaml: valid, 2 step(s), 0 service(s)\n")
    dry = _maestro("run-plan", "plan.yaml", "--dry-run", cwd=tmp_path)
    assert (dry.returncode, dry.stdout) == (0, "level 1: a\nlevel 2: b\n")
    assert not (tmp_path / ".maestro").exists()


def test_an_unchanged_plan_run_in_a_pipe_imports_only_what_it_needs(tmp_path: Path) -> None:
    """jsonschema (cached verdict), jinja2 (no template), rich (not a terminal) and importlib.metadata
    (cached entry points) each cost more than a no-op step; none of them is needed here."""
    (tmp_path / "plan.yaml").write_text("version: 1\nsteps:\n  - {id: one, run: 'true'}\n  - {id: two, run: 'true', needs: [one]}\n")
    _maestro("run-plan", "plan.yaml", "--check", cwd=tmp_path)  # fills the caches
    finished = _maestro("run-plan", "plan.yaml", "--results", "out", cwd=tmp_path, PYTHONPROFILEIMPORTTIME="1")
    assert finished.returncode == 0
    imported = {line.rsplit("|", 1)[1].strip() for line in finished.stderr.splitlines() if line.startswith("import time:")}
    assert "maestro_cli.plan.scheduler" in imported  # the timing lines were read
    assert sorted(imported & {"jsonschema", "jinja2", "rich", "httpx", "importlib.metadata"}) == []
    lines = finished.stdout.splitlines()
    assert lines[:2] == ["plan: passed", "step  outcome  attempts  time  message"]
    assert lines[2].startswith("one   passed   1         ") and lines[3].startswith("two   passed   1         ")


def test_secrets_are_masked_in_the_terminal_summary(tmp_path: Path) -> None:
    import pty

    (tmp_path / "plan.yaml").write_text(
        "version: 1\nsecrets: [MAESTRO_E2E_TOKEN]\nsteps:\n  - {id: a, run: 'echo v=1 >> $MAESTRO_OUTPUT'}\n"
        "  - {id: b, run: 'echo ${{ steps.a.outputs[secrets.MAESTRO_E2E_TOKEN] }}', needs: [a]}\n"
    )
    leader, follower = pty.openpty()  # a terminal: the summary is rich's table
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        finished = subprocess.run(
            [str(MAESTRO), "run-plan", "plan.yaml", "--results", "out"],
            cwd=tmp_path, env=_env(MAESTRO_E2E_TOKEN="hush-4f9c2a"), stdout=follower, stderr=subprocess.PIPE, timeout=120,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = terminal.read(65536)
            except OSError:  # the follower closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    assert finished.returncode == 1
    assert b"undefined in template: no '****'" in shown and b"\xe2\x94\x82" in shown  # a table row, masked
    assert b"hush-4f9c2a" not in shown + finished.stderr
