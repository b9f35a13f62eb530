"""The shell adapter: bash scripts with pipefail, argument lists run directly, missing commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def run_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli):
    monkeypatch.chdir(tmp_path)

    def run(*steps: dict) -> dict[str, dict]:
        Path("plan.yaml").write_text(json.dumps({"version": 1, "steps": list(steps)}))
        result = run_cli("run-plan", "plan.yaml", "--results", "out", "--force", "--json")
        return {step["id"]: step for step in json.loads(result.stdout)["steps"]}

    return run


def test_a_failing_command_inside_a_pipe_fails_the_step(run_steps) -> None:
    steps = run_steps({"id": "pipe", "run": "false | cat"}, {"id": "sh", "run": "false | cat", "with": {"shell": "sh"}})
    assert (steps["pipe"]["outcome"], steps["pipe"]["exit_code"]) == ("failed", 1)
    assert steps["sh"]["outcome"] == "passed"  # plain sh has no pipefail: the pipe's status is cat's


def test_an_argument_list_runs_without_a_shell(run_steps) -> None:
    steps = run_steps({"id": "argv", "run": ["python3", "-c", "import sys; open('args.txt', 'w').write(repr(sys.argv[1:]))", "$HOME", "a b"]})
    assert steps["argv"]["outcome"] == "passed"
    assert Path("args.txt").read_text() == "['$HOME', 'a b']"


def test_a_missing_command_is_exit_127_with_a_message(run_steps) -> None:
    steps = run_steps({"id": "missing", "run": ["maestro-no-such-tool", "--x"]})
    assert (steps["missing"]["outcome"], steps["missing"]["exit_code"], steps["missing"]["message"]) == (
        "failed",
        127,
        "cannot run 'maestro-no-such-tool': No such file or directory",
    )


def test_steps_get_their_env_cwd_and_maestro_variables(run_steps) -> None:
    Path("sub").mkdir()
    steps = run_steps({"id": "where", "run": 'echo "dir=$(basename $PWD) greeting=$GREETING step=$MAESTRO_STEP_ID" >> "$MAESTRO_OUTPUT"', "cwd": "sub", "env": {"GREETING": "hi"}})
    assert steps["where"]["outputs"] == {"dir": "sub greeting=hi step=where"}
