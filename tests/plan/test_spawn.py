"""posix_spawn and Popen start the same child: own session, stdin /dev/null, default SIGPIPE, no stray descriptors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maestro_cli.plan import spawn

# What a child says about itself, through sh (Python would ignore SIGPIPE again at its own start):
# pid, group, session; stdin; ignored signals; open descriptors; folder. Then it fails, loudly.
REPORT = (
    'echo "$(cut -d" " -f1,5,6 /proc/$$/stat)|$(readlink /proc/$$/fd/0)|$(grep SigIgn /proc/$$/status)'
    '|$(ls /proc/$$/fd | sort -n | tr "\\n" " ")|$(pwd)"; echo to stderr >&2; exit 3'
)
# a driver in a fresh interpreter: its only descriptors are 0-2, as for the installed `maestro`
DRIVER = textwrap.dedent(
    """
    import json, sys
    from maestro_cli.plan import spawn
    children = {}
    for folder in (None, sys.argv[2]):
        child = spawn.start(["/bin/sh", "-c", sys.argv[1]], folder, None)
        output = child.stdout.read().decode()
        children[type(child).__name__] = {"code": child.wait(), "output": output}
    print(json.dumps(children))
    """
)


def test_posix_spawn_starts_the_child_popen_would(tmp_path: Path) -> None:
    elsewhere = tmp_path / "step"
    elsewhere.mkdir()
    finished = subprocess.run([sys.executable, "-c", DRIVER, REPORT, str(elsewhere)], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
    children = json.loads(finished.stdout)
    assert set(children) == {"_Spawned", "Popen"}  # maestro's own folder: posix_spawn; another: Popen
    reports = {}
    for kind, child in children.items():
        assert child["code"] == 3
        report, stderr = child["output"].splitlines()
        assert stderr == "to stderr"  # stderr goes to the same pipe
        ids, stdin, ignored, descriptors, cwd = report.split("|")
        pid, group, session = ids.split()
        assert pid == group == session  # its own session, so its own process group
        assert stdin == "/dev/null"
        assert int(ignored.split()[1], 16) & (1 << 12) == 0  # SIGPIPE (13) is not ignored
        assert cwd == str(tmp_path if kind == "_Spawned" else elsewhere)
        # signals 1-31 only: glibc's posix_spawn leaves its own two (32, 33) ignored in the child
        reports[kind] = (int(ignored.split()[1], 16) & 0x7FFFFFFF, descriptors)
    assert reports["_Spawned"] == reports["Popen"]
    assert reports["Popen"][1].split()[:3] == ["0", "1", "2"]


def test_an_inheritable_descriptor_leaves_it_to_popen() -> None:
    read_end, write_end = os.pipe()
    try:
        assert spawn._no_inheritable_descriptors.__wrapped__() in (True, False)  # whatever pytest inherited
        os.set_inheritable(write_end, True)
        assert spawn._no_inheritable_descriptors.__wrapped__() is False
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_missing_program_is_an_os_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spawn, "_no_inheritable_descriptors", lambda: True)
    with pytest.raises(FileNotFoundError):
        spawn.start([str(tmp_path / "no-such-program")], None, None)


def test_a_spawned_child_is_reaped_once_whoever_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spawn, "_no_inheritable_descriptors", lambda: True)
    child = spawn.start(["/bin/sh", "-c", "exit 7"], str(tmp_path), None)
    assert isinstance(child, spawn._Spawned)
    assert child.wait() == 7
    assert (child.poll(), child.wait(), child.returncode) == (7, 7, 7)
    assert child.stdout is not None
    child.stdout.close()


def test_a_command_starts_where_maestros_own_folder_was_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    monkeypatch.setattr(spawn, "_no_inheritable_descriptors", lambda: True)
    child = spawn.start(["/bin/sh", "-c", "pwd"], str(tmp_path), None)
    assert child.stdout is not None
    assert child.stdout.read().decode().strip() == str(tmp_path)
    assert child.wait() == 0
    child.stdout.close()
