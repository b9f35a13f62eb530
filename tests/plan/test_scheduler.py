"""Running plans in-process: graph order, conditions, retries, outputs, fail-fast, secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest



def test_a_failed_need_skips_its_dependents_unless_their_condition_says_otherwise(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        name: conditions
        steps:
          - {id: broken, run: "echo about to fail; exit 3"}
          - {id: after, run: touch after-ran, needs: [broken]}
          - {id: report, run: echo report, needs: [after], if: always()}
          - {id: on-failure, run: echo cleaning, needs: [after], if: "${{ failure() }}"}
          - {id: on-success, run: echo fine, needs: [after], if: success()}
          - {id: other, run: echo other}
        """
    )
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 1
    assert {k: v["outcome"] for k, v in read_steps(Path("out")).items()} == {
        "broken": "failed",
        "after": "skipped",
        "report": "passed",
        "on-failure": "passed",
        "on-success": "skipped",
        "other": "passed",
    }
    steps = read_steps(Path("out"))
    assert steps["broken"]["exit_code"] == 3 and steps["broken"]["message"] == "exit code 3"
    assert steps["after"]["message"] == "skipped: broken failed"
    assert steps["after"]["attempts"] == [] and steps["after"]["log"] is None
    assert not Path("after-ran").exists()
    # the summary shows the tail of the failed step's log
    assert "about to fail" in result.stdout
    assert f"3 passed, 1 failed, 2 skipped; results in {Path('out').resolve()}" in result.stdout


def test_a_false_condition_says_so(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan("version: 1\nvars: {suite: smoke}\nsteps:\n  - {id: never, run: echo, if: false}\n  - {id: full, run: echo, if: vars.suite == 'full'}\n")
    assert run_cli("run-plan", plan, "--results", "out").exit_code == 0
    steps = read_steps(Path("out"))
    assert (steps["never"]["message"], steps["full"]["message"]) == ("skipped: if: false", "skipped: if: vars.suite == 'full' was false")
    plan.write_text(plan.read_text().replace("never", "off"))
    result = run_cli("run-plan", plan, "--check")
    assert result.stderr == (
        "error: plan.yaml:4:10: steps[0].id: must be a string, not false (YAML reads a bare yes, no, on or off as true or false: quote it)\n"
    )


def test_continue_on_error_lets_the_run_pass_and_dependents_run(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - {id: optional, run: exit 1, continue-on-error: true}
          - {id: next, run: echo next, needs: [optional]}
        """
    )
    result = run_cli("run-plan", plan, "--results", "out", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["outcome"] == "passed"
    steps = {step["id"]: step for step in document["steps"]}
    assert steps["optional"]["outcome"] == "failed" and steps["optional"]["required"] is False
    assert steps["next"]["outcome"] == "passed"


def test_continue_on_error_may_come_from_the_matrix(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - id: py-${{ matrix.py }}
            run: test ${{ matrix.py }} != 3.14
            continue-on-error: ${{ matrix.experimental }}
            matrix:
              py: ["3.12"]
              experimental: [false]
              include: [{py: "3.14", experimental: true}]
        """
    )
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 0
    steps = read_steps(Path("out"))
    assert [(steps[i]["outcome"], steps[i]["required"]) for i in ("py-3.12", "py-3.14")] == [("passed", True), ("failed", False)]
    plan.write_text(plan.read_text().replace("experimental: true", "experimental: maybe").replace("${{ matrix.experimental }}", "'${{ matrix.experimental }}'"))
    result = run_cli("run-plan", plan, "--check")
    assert (result.exit_code, result.stderr) == (2, "error: plan.yaml:5:24: steps[0].continue-on-error: must be true or false, not 'maybe'\n")
    plan.write_text("version: 1\nsteps:\n  - {id: a, run: echo, continue-on-error: yes please}\n")
    result = run_cli("run-plan", plan, "--check")
    assert result.stderr == "error: plan.yaml:3:43: steps[0].continue-on-error: 'yes please' must be true, false or a ${{ }} expression\n"


def test_retries_record_every_attempt(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - id: flaky
            run: |
              echo attempt $MAESTRO_ATTEMPT
              test -f tried || { touch tried; exit 7; }
            retries: 2
        """
    )
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 0
    step = read_steps(Path("out"))["flaky"]
    assert step["outcome"] == "passed"
    assert [(a["attempt"], a["outcome"], a["exit_code"], a["message"]) for a in step["attempts"]] == [
        (1, "failed", 7, "exit code 7"),
        (2, "passed", 0, None),
    ]
    log = Path("out/logs/flaky.log").read_text()
    assert "attempt 1\n" in log and "attempt 2\n" in log


def test_outputs_pass_from_step_to_step_and_declared_outputs_are_required(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        vars: {suite: smoke}
        steps:
          - id: build
            run: echo "version=1.2.3" >> "$MAESTRO_OUTPUT"
            outputs: [version]
          - id: use
            needs: [build]
            run: echo "deploying ${{ steps.build.outputs.version }} for ${{ vars.suite }}" > used.txt
          - id: forgetful
            run: echo "nothing written"
            outputs: [digest]
        """
    )
    result = run_cli("run-plan", plan, "--results", "out", "--var", "suite=nightly")
    assert result.exit_code == 1
    assert Path("used.txt").read_text() == "deploying 1.2.3 for nightly\n"
    steps = read_steps(Path("out"))
    assert steps["build"]["outputs"] == {"version": "1.2.3"}
    assert steps["forgetful"]["message"] == "did not write output digest to $MAESTRO_OUTPUT"


def test_ready_steps_run_in_parallel(write_plan: Callable[..., Path], run_cli) -> None:
    # each step waits for the other's marker: they can only both pass if they run at the same time
    wait_for = "touch {mine}; for i in $(seq 200); do test -f {other} && exit 0; sleep 0.05; done; exit 1"
    plan = write_plan(
        f"""
        version: 1
        steps:
          - {{id: left, run: "{wait_for.format(mine='left', other='right')}"}}
          - {{id: right, run: "{wait_for.format(mine='right', other='left')}"}}
        """
    )
    assert run_cli("run-plan", plan, "--jobs", "2", "--results", "out").exit_code == 0


def test_fail_fast_cancels_running_steps_but_always_steps_still_run(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - {id: long, run: "touch long-started; sleep 300"}
          - {id: breaks, run: "while ! test -f long-started; do sleep 0.05; done; exit 1"}
          - {id: later, run: echo later, needs: [breaks, long]}
          - {id: cleanup, run: echo cleanup, needs: [later], if: always()}
        """
    )
    result = run_cli("run-plan", plan, "--jobs", "2", "--fail-fast", "--results", "out")
    assert result.exit_code == 1
    assert {k: v["outcome"] for k, v in read_steps(Path("out")).items()} == {"long": "cancelled", "breaks": "failed", "later": "cancelled", "cleanup": "passed"}


def test_timeout_is_its_own_outcome(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan("version: 1\nsteps:\n  - {id: slow, run: sleep 60, timeout: 0.5}\n")
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 1
    step = read_steps(Path("out"))["slow"]
    assert (step["outcome"], step["message"], step["exit_code"]) == ("timed-out", "timed out after 0.5s", -15)


def test_secrets_are_masked_in_logs_results_and_output(write_plan: Callable[..., Path], run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-5up3r-s3cret")
    plan = write_plan(
        """
        version: 1
        secrets: [DEPLOY_TOKEN]
        steps:
          - id: leak
            run: echo "token is ${{ secrets.DEPLOY_TOKEN }}" && echo "out=$DEPLOY_TOKEN" >> "$MAESTRO_OUTPUT" && exit 1
        """
    )
    result = run_cli("run-plan", plan, "--results", "out")
    assert result.exit_code == 1
    written = [p.read_text() for p in Path("out").rglob("*") if p.is_file()]
    assert "token is ****" in Path("out/logs/leak.log").read_text()
    assert all("tok-5up3r-s3cret" not in text for text in written + [result.stdout, result.stderr])


def test_selection_pulls_in_needs_and_skips_the_rest(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - {id: build, run: echo build}
          - {id: unit, run: echo unit, needs: [build], tags: [fast]}
          - {id: smoke-a, run: echo a, needs: [build]}
          - {id: smoke-b, run: echo b, needs: [build]}
        """
    )
    result = run_cli("run-plan", plan, "--only", "smoke-*", "--skip", "smoke-b", "--results", "out")
    assert result.exit_code == 0
    steps = read_steps(Path("out"))
    assert {k: (v["outcome"], v["message"]) for k, v in steps.items()} == {
        "build": ("passed", None),
        "unit": ("skipped", "not selected"),
        "smoke-a": ("passed", None),
        "smoke-b": ("skipped", "not selected"),
    }
    result = run_cli("run-plan", plan, "--only", "unti")
    assert (result.exit_code, result.stderr) == (2, "error: --only: no step matches 'unti' (did you mean 'unit'?)\n")
    result = run_cli("run-plan", plan, "--skip", "smoke", "--dry-run")
    assert (result.exit_code, result.stderr) == (2, "error: --skip: no step matches 'smoke' (did you mean 'smoke*'?)\n")
    result = run_cli("run-plan", plan, "--only-tags", "fast", "--dry-run", "--json")
    assert json.loads(result.stdout) == {"plan": "plan", "levels": [["build"], ["unit"]]}


def test_junit_has_a_suite_per_step(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan(
        """
        version: 1
        name: gate
        steps:
          - {id: ok, run: "true"}
          - {id: bad, run: "false"}
          - {id: never, run: "true", needs: [bad]}
        """
    )
    run_cli("run-plan", plan, "--results", "out")
    root = ElementTree.parse("out/junit.xml").getroot()
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("skipped")) == ("gate", "3", "1", "1")
    suites = {suite.get("name"): suite for suite in root}
    failure = suites["bad"].find("testcase/failure")
    assert failure is not None and failure.get("message") == "exit code 1"


def test_existing_results_are_not_overwritten_without_force(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan("version: 1\nsteps:\n  - {id: a, run: echo}\n")
    assert run_cli("run-plan", plan, "--results", "out").exit_code == 0
    result = run_cli("run-plan", plan, "--results", "out")
    assert (result.exit_code, result.stderr) == (2, "error: out already exists\nhint: pass --force to replace it\n")
    assert run_cli("run-plan", plan, "--results", "out", "--force").exit_code == 0


def test_a_results_folder_that_cannot_be_made_is_one_line(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan("version: 1\nsteps:\n  - {id: a, run: touch ran}\n")
    Path("taken").write_text("a file")
    result = run_cli("run-plan", plan, "--results", "taken")
    assert (result.exit_code, result.stderr) == (2, "error: --results taken: not a folder\n")
    result = run_cli("run-plan", plan, "--results", "taken/out")
    assert (result.exit_code, result.stderr) == (2, "error: --results taken/out: cannot make the folder: Not a directory\n")
    assert not Path("ran").exists()


def test_force_replaces_the_previous_runs_logs_and_keeps_other_files(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan("version: 1\nsteps:\n  - {id: a, run: echo first}\n  - {id: gone, run: echo}\n")
    assert run_cli("run-plan", plan, "--results", "out").exit_code == 0
    Path("out/notes.txt").write_text("mine")
    plan.write_text("version: 1\nsteps:\n  - {id: a, run: echo second}\n")
    assert run_cli("run-plan", plan, "--results", "out", "--force").exit_code == 0
    assert Path("out/logs/a.log").read_text() == "--- maestro: a, attempt 1, adapter shell\nsecond\n"
    assert sorted(p.name for p in Path("out/logs").iterdir()) == ["a.log"]
    assert Path("out/notes.txt").read_text() == "mine"


def test_default_results_folder_is_timestamped_under_maestro_runs(write_plan: Callable[..., Path], run_cli) -> None:
    plan = write_plan("version: 1\nsteps:\n  - {id: a, run: echo}\n")
    assert run_cli("run-plan", plan).exit_code == 0
    (folder,) = Path(".maestro/runs").iterdir()
    assert json.loads((folder / "results.json").read_text())["run_id"] == folder.name
    assert len(folder.name) == len("20261125T093012Z") and folder.name.endswith("Z")


def test_a_skipped_need_counts_as_satisfied(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    plan = write_plan(
        """
        version: 1
        steps:
          - {id: build, run: touch built}
          - {id: test, run: echo tested, needs: [build]}
        """
    )
    assert run_cli("run-plan", plan, "--skip", "build", "--results", "out").exit_code == 0
    assert {k: v["outcome"] for k, v in read_steps(Path("out")).items()} == {"build": "skipped", "test": "passed"}
    assert not Path("built").exists()
