"""The installed `maestro`: build a project, publish it to a real pypiserver, pip-install it, import it."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the publish test servers

from publish.projects import write_project  # noqa: E402
from publish.servers import PASSWORD, USER, running_pypiserver  # noqa: E402

MAESTRO = Path(sys.executable).parent / "maestro"

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_build_publish_install_import(tmp_path: Path):
    project = write_project(tmp_path, "acme-e2e", body="def hello() -> str:\n    return 'hello from acme'\n")
    with running_pypiserver(tmp_path / "server") as server:
        built = _run(MAESTRO, "build", ".", cwd=project)
        assert built.returncode == 0, built.stderr

        published = _run(MAESTRO, "publish", "--repository-url", server.url, "-u", USER, "-p", PASSWORD, "--json", cwd=project)
        assert published.returncode == 0, published.stderr
        document = json.loads(published.stdout)  # exactly one JSON document on stdout
        assert {f["outcome"] for f in document["files"]} == {"uploaded"}
        assert PASSWORD not in published.stdout + published.stderr
        assert server.stored() == ["acme_e2e-1.0.0-py3-none-any.whl", "acme_e2e-1.0.0.tar.gz"]

        again = _run(MAESTRO, "publish", "--repository-url", server.url, "-u", USER, "-p", PASSWORD, cwd=project)
        assert again.returncode == 1
        assert "already exists" in again.stderr

        venv = tmp_path / "venv"
        assert _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path).returncode == 0
        python = venv / "bin" / "python"
        install = _run(
            sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-cache-dir",
            "--index-url", server.authenticated(server.simple_url), "acme-e2e==1.0.0",
            cwd=tmp_path,
        )  # fmt: skip
        assert install.returncode == 0, install.stderr
    imported = _run(python, "-c", "import acme_e2e; print(acme_e2e.hello())", cwd=tmp_path)
    assert imported.stdout.strip() == "hello from acme", imported.stderr


def _run_on_a_terminal(command: list[str], answers: list[tuple[bytes, str]], cwd: Path) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its controlling terminal, as a shell would, typing
    each answer once its prompt (ending in ": ", as click's and getpass's do) is on the screen."""
    pid, leader = pty.fork()
    if pid == 0:  # the child: nothing but exec
        os.chdir(cwd)
        os.execv(command[0], command)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
        last_line = seen.rsplit(b"\n", 1)[-1]
        if answers and answers[0][0] in last_line and last_line.endswith(b": "):
            os.write(leader, (answers.pop(0)[1] + "\n").encode())
    os.close(leader)
    reaped, status = os.waitpid(pid, os.WNOHANG)
    if reaped == 0:  # still running at the deadline: stuck on a prompt
        os.kill(pid, signal.SIGKILL)
        _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_credentials_are_asked_on_a_terminal_and_never_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")  # this machine's keyring stays out
    project = write_project(tmp_path, "acme-prompted")
    with running_pypiserver(tmp_path / "server") as server:
        command = [str(MAESTRO), "publish", "--repository-url", server.url, str(project)]
        code, screen = _run_on_a_terminal(command, [(b"User name for", USER), (b"Password for alice", PASSWORD)], tmp_path)
        assert code == 0, screen
        assert "2 uploaded" in screen
        assert PASSWORD not in screen  # typed without echo
        assert len(server.stored()) == 2

        without_terminal = _run(MAESTRO, "publish", "--repository-url", server.url, "--skip-existing", project, cwd=tmp_path)
        assert without_terminal.returncode == 1  # no prompt without a terminal: the server refuses
        assert "HTTP 401" in without_terminal.stderr
