"""The command line itself: help, version, usage errors and the one error boundary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_cli import __version__
from maestro_cli.errors import ExitCode


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"maestro {__version__}\n"


def test_help_lists_commands_and_an_example(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("config", "audit"):
        assert command in result.stdout
    assert "Example:" in result.stdout


@pytest.mark.parametrize("command", [["config", "show"], ["audit", "show"], ["audit", "export"]])
def test_every_command_help_has_an_example(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example: maestro" in result.stdout


def test_unknown_command_is_bad_usage_without_traceback(run_cli) -> None:
    result = run_cli("confg")
    assert result.exit_code == ExitCode.BAD_INPUT == 2
    assert "error: maestro: No such command 'confg'" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_option_names_the_command(run_cli) -> None:
    result = run_cli("config", "show", "--frobnicate")
    assert result.exit_code == 2
    assert "maestro config show: No such option: --frobnicate" in result.stderr


def test_unexpected_error_points_to_a_crash_log(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("boom in a core")

    monkeypatch.setattr("maestro_cli.config.load_settings", broken)
    result = run_cli("config", "show")
    assert result.exit_code == ExitCode.INTERNAL == 70
    assert "unexpected error, rerun with --debug" in result.stderr
    assert "Traceback" not in result.stderr
    log = Path(result.stderr.split("details in ")[1].split()[0])
    assert "RuntimeError: boom in a core" in log.read_text()
    log.unlink()


def test_debug_shows_the_traceback(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("boom in a core")

    monkeypatch.setattr("maestro_cli.config.load_settings", broken)
    result = run_cli("--debug", "config", "show")
    assert result.exit_code == 70
    assert "Traceback" in result.stderr


def test_ctrl_c_exits_130(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("maestro_cli.config.load_settings", interrupted)
    assert run_cli("config", "show").exit_code == ExitCode.INTERRUPTED == 130


def test_job_failure_exits_1(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.errors import JobFailedError

    def failed(**_: object) -> None:
        raise JobFailedError("the index refused the upload", hint="check the password")

    monkeypatch.setattr("maestro_cli.config.load_settings", failed)
    result = run_cli("config", "show")
    assert result.exit_code == ExitCode.FAILURES == 1
    assert result.stderr.splitlines() == ["error: the index refused the upload", "hint: check the password"]


def test_exit_codes_are_the_documented_ones() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "FAILURES": 1,
        "BAD_INPUT": 2,
        "INTERNAL": 70,
        "OUTPUT_LOST": 74,
        "INTERRUPTED": 130,
    }


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["-q", "run-plan", "plan.yaml", "--jobs", "2"], "run-plan"),
        (["--json", "-vv", "config", "show"], "config"),
        (["--help"], None),  # the root's help lists every command
        (["-h", "run-plan"], None),  # so does the root's help given before a command
        (["confg"], None),  # click's "No such command" is said beside every command name
        ([], None),
    ],
)
def test_only_the_invoked_command_is_built(args: list[str], command: str | None) -> None:
    from maestro_cli.cli import invoked_command

    assert invoked_command(args) == command


def test_shell_completion_builds_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.cli import invoked_command

    monkeypatch.setenv("_MAESTRO_COMPLETE", "complete_bash")
    assert invoked_command(["run-plan"]) is None


def test_a_command_runs_with_only_itself_registered(run_cli) -> None:
    result = run_cli("run-plan", "--help")
    assert result.exit_code == 0
    assert "Example: maestro run-plan" in result.stdout


def test_a_command_runs_with_a_slower_gc_pace_and_leaves_it_as_it_was(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from maestro_cli import config

    seen: list[tuple[int, ...]] = []
    load_settings = config.load_settings

    def recording(**kwargs: object) -> config.Settings:
        seen.append(gc.get_threshold())
        return load_settings(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("maestro_cli.config.load_settings", recording)
    before = gc.get_threshold()
    assert run_cli("config", "show").exit_code == 0
    assert seen and seen[0][0] >= 100_000  # start-up's objects are traced every 100k allocations, not 700
    assert gc.get_threshold() == before


def test_the_console_script_leaves_without_the_interpreters_teardown() -> None:
    """Output is flushed and the exit code kept, but no object is freed one by one at exit."""
    script = (
        "import sys\n"
        "from maestro_cli.cli import main\n"
        "class Finalised:\n"
        "    def __del__(self): print('torn down')\n"
        "kept = Finalised()\n"
        "sys.argv = ['maestro', *sys.argv[1:]]\n"
        "main()\n"
    )
    version = subprocess.run([sys.executable, "-c", script, "--version"], capture_output=True, text=True, check=False)
    assert (version.returncode, version.stdout) == (0, f"maestro {__version__}\n")
    usage = subprocess.run([sys.executable, "-c", script, "no-such-command"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "no-such-command" in usage.stderr and "torn down" not in usage.stdout
    from maestro_cli.cli import _exit

    assert _exit([], 3) == 3  # in-process: the code comes back


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device every write to fails with ENOSPC")
def test_output_lost_at_exit_is_an_error_not_a_silent_success() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}  # stdout buffered, as usual
    maestro = Path(sys.executable).parent / "maestro"
    with open("/dev/full", "w") as full:
        lost = subprocess.run([str(maestro), "--version"], stdout=full, stderr=subprocess.PIPE, text=True, env=environment, check=False)
    assert (lost.returncode, lost.stderr) == (74, "error: cannot write stdout: No space left on device\n")
