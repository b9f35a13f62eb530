"""Services start for the steps that need them, are health-checked, and are stopped afterwards."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_cli.plan import process

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_service_runs_for_the_steps_that_need_it(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    port = _free_port()
    (Path.cwd() / "site").mkdir()
    (Path.cwd() / "site" / "status.json").write_text('{"status": "ok", "version": 3}')
    plan = write_plan(
        f"""
        version: 1
        env: {{API_URL: "http://127.0.0.1:{port}"}}
        services:
          api:
            run: [{sys.executable}, -m, http.server, "{port}", --bind, 127.0.0.1]
            cwd: site
            health: {{http: "http://127.0.0.1:{port}/", timeout: 20}}
        steps:
          - id: api-up
            adapter: http
            with: {{url: "${{{{ env.API_URL }}}}/status.json", expect: {{status: 200, json: {{status: ok}}}}}}
            services: [api]
          - id: api-version
            adapter: http
            with: {{url: "${{{{ env.API_URL }}}}/status.json", expect: {{json: {{version: 4}}}}}}
            services: [api]
        """
    )
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 1
    steps = read_steps(Path("out"))
    assert steps["api-up"]["outcome"] == "passed"
    assert steps["api-up"]["outputs"]["status"] == "200"
    assert steps["api-version"]["message"] == "JSON $.version: expected 4, got 3"
    assert "GET /status.json" in Path("out/logs/service-api.log").read_text()
    assert not _accepts(port)  # stopped after the last step that needed it


def test_a_service_that_never_turns_healthy_fails_its_steps_with_its_last_output(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    port = _free_port()
    plan = write_plan(
        f"""
        version: 1
        services:
          db:
            run: 'echo $$ > db.pid; echo "db: still booting"; exec sleep 300'
            health: {{tcp: "127.0.0.1:{port}", timeout: 1}}
          broken:
            run: echo "missing config"; exit 3
            health: {{cmd: "false"}}
        steps:
          - {{id: uses-db, run: touch ran, services: [db]}}
          - {{id: uses-broken, run: touch ran, services: [broken]}}
          - {{id: unrelated, run: echo fine}}
          - {{id: uses-db-later, run: touch ran, services: [db], needs: [unrelated], if: always()}}
        """
    )
    result = run_cli("run-plan", plan, "--results", "out", "--jobs", "3")
    assert result.exit_code == 1
    steps = read_steps(Path("out"))
    assert steps["uses-db"]["message"] == f"service 'db' was not healthy within 1s (tcp 127.0.0.1:{port})"
    assert steps["uses-broken"]["message"] == "service 'broken' exited with code 3 before it was healthy"
    assert steps["unrelated"]["outcome"] == "passed"
    message = f"maestro: service 'db' was not healthy within 1s (tcp 127.0.0.1:{port})\n"
    for step_id in ("uses-db", "uses-db-later"):  # each step's log says why once, with the service's output
        log = Path(f"out/logs/{step_id}.log").read_text()
        assert log.count(message) == 1 and log.startswith(message + "last output of service db:\n  db: still booting\n")
        assert steps[step_id]["attempts"][0]["message"] == message[len("maestro: ") : -1]
    assert steps["uses-db"]["duration"] >= 1.0  # it waited the health check's timeout
    assert "db: still booting" in result.stdout  # the summary shows the failed step's log tail
    assert not Path("ran").exists()
    assert not process.is_running(int(Path("db.pid").read_text()))


def test_a_service_no_selected_step_needs_is_not_started(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan(
        """
        version: 1
        services:
          heavy: {run: touch heavy-started}
        steps:
          - {id: a, run: echo a}
          - {id: b, run: echo b, services: [heavy]}
        """
    )
    assert run_cli("run-plan", plan, "--skip", "b", "--results", "out").exit_code == 0
    assert not Path("heavy-started").exists()
