"""Commands run in their own process group; timeouts, cancels and leftovers stop the whole group."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from maestro_cli import redaction
from maestro_cli.plan import process


def _children_script(pid_file: Path) -> list[str]:
    # one child in the background, one grandchild detached from the shell with a subshell
    return ["bash", "-c", f"sleep 300 & echo $! >> {pid_file}; (sleep 301 & echo $! >> {pid_file}); echo started; sleep 300"]


def _pids(pid_file: Path) -> list[int]:
    for _ in range(200):
        if pid_file.exists() and len(pid_file.read_text().split()) == 2:
            break
        time.sleep(0.01)
    return [int(p) for p in pid_file.read_text().split()]


def test_timeout_stops_the_command_and_every_background_child(tmp_path: Path) -> None:
    log = io.StringIO()
    completed = process.run(_children_script(tmp_path / "pids"), log=log, deadline=time.monotonic() + 1.0, grace=1.0)
    assert completed.timed_out and not completed.ok
    assert completed.exit_code == -15  # bash died of the SIGTERM sent to its group
    pids = _pids(tmp_path / "pids")
    assert [pid for pid in pids if process.is_running(pid)] == []
    assert log.getvalue().startswith("started\n")
    assert "maestro: timed out" in log.getvalue()


def test_cancel_stops_the_group(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    completed = process.run(_children_script(tmp_path / "pids"), cancel=cancel, grace=1.0)
    assert completed.cancelled
    assert [pid for pid in _pids(tmp_path / "pids") if process.is_running(pid)] == []


def test_children_left_behind_by_a_finished_command_are_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    script = f"sleep 300 & echo $! >> {pid_file}; sleep 300 & echo $! >> {pid_file}; exit 3"
    completed = process.run(["bash", "-c", script], grace=1.0)
    assert completed.exit_code == 3 and not completed.timed_out
    assert [pid for pid in _pids(pid_file) if process.is_running(pid)] == []


def test_a_group_that_ignores_sigterm_gets_sigkill(tmp_path: Path) -> None:
    log = io.StringIO()
    script = "trap '' TERM; echo ready; while true; do sleep 0.1; done"
    completed = process.run(["bash", "-c", script], log=log, deadline=time.monotonic() + 0.5, grace=0.5)
    assert completed.timed_out
    assert completed.exit_code == -9


def test_output_is_logged_with_secrets_masked() -> None:
    redaction.register("hunter2-secret")
    log = io.StringIO()
    completed = process.run(["bash", "-c", "echo token=hunter2-secret; printf 'no newline at end'"], log=log)
    assert completed.ok
    assert log.getvalue() == "token=****\nno newline at end\n"


def test_a_command_that_does_not_exist_is_reported_not_raised() -> None:
    log = io.StringIO()
    completed = process.run(["maestro-no-such-command"], log=log)
    assert completed.exit_code is None and not completed.ok
    assert completed.error == "cannot run 'maestro-no-such-command': No such file or directory"
    assert log.getvalue() == completed.error + "\n"


def test_background_process_runs_until_stopped(tmp_path: Path) -> None:
    log_path = tmp_path / "service.log"
    with open(log_path, "w") as log:
        service = process.start_background(["bash", "-c", "echo up; exec sleep 300"], log=log, grace=1.0)
        for _ in range(200):
            if "up" in log_path.read_text():
                break
            time.sleep(0.01)
        assert service.alive
        completed = service.stop()
    assert completed.cancelled and completed.exit_code == -15
    assert not process.is_running(service.pid)
    assert log_path.read_text().startswith("up\n")


def test_a_missing_working_folder_is_named(tmp_path: Path) -> None:
    completed = process.run(["true"], cwd=tmp_path / "nowhere")
    assert completed.error == f"cannot run 'true': no folder {tmp_path / 'nowhere'}"


def test_programs_are_found_on_the_path_each_command_gives(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        tool = tmp_path / name / "maestro-test-tool"
        tool.write_text(f'#!/bin/sh\necho "{name}"\n')
        tool.chmod(0o755)
    outputs = []
    for path in (tmp_path / "a", tmp_path / "b", tmp_path / "a"):
        log = io.StringIO()
        assert process.run(["maestro-test-tool"], env={"PATH": str(path)}, log=log).ok
        outputs.append(log.getvalue())
    assert outputs == ["a\n", "b\n", "a\n"]
    log = io.StringIO()
    assert process.run(["bash", "-c", 'echo "$0"'], log=log).ok and log.getvalue() == "bash\n"  # argv[0] as given
    later = tmp_path / "later"
    later.mkdir()
    assert process.run(["maestro-test-later"], env={"PATH": str(later)}).error is not None
    (later / "maestro-test-later").write_text("#!/bin/sh\nexit 0\n")
    (later / "maestro-test-later").chmod(0o755)
    assert process.run(["maestro-test-later"], env={"PATH": str(later)}).ok  # installed since: found
