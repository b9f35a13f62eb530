"""Validation: every problem at once, one located line each, and nothing run when invalid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_cli.adapters.registry import load_registry
from maestro_cli.errors import InputError, PlanError
from maestro_cli.plan.expressions import Deferred
from maestro_cli.plan.loader import load_plan


def _problems(path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(PlanError) as raised:
        load_plan(path, load_registry(), **kwargs)  # type: ignore[arg-type]
    return raised.value.problems


def test_every_problem_is_reported_at_once_with_its_position(write_plan: Callable[..., Path], run_cli) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: unit
            adapter: pytst
            run: touch ran
          - id: api
            needs: [unti]
            run: echo
            neds: [unit]
          - id: ping
            adapter: http
            with: {url: "ftp://x", expect: {status: "200"}, bogus: 1}
          - id: unit
            run: echo again
            timeout: -1
        """
    )
    result = run_cli("run-plan", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: plan.yaml:4:14: steps[0].adapter: unknown adapter 'pytst' (did you mean 'pytest'?)",
        "error: plan.yaml:7:13: steps[1].needs: unknown step 'unti' (did you mean 'unit'?)",
        "error: plan.yaml:9:5: steps[1]: unknown key 'neds' (did you mean 'needs'?)",
        "error: plan.yaml:12:17: steps[2].with.url: 'ftp://x' must start with http:// or https://",
        "error: plan.yaml:12:45: steps[2].with.expect.status: must be an integer or a list, not '200'",
        "error: plan.yaml:12:53: steps[2].with: unknown key 'bogus'",
        "error: plan.yaml:13:9: steps[3].id: duplicate step id 'unit', first at plan.yaml:3:9",
        "error: plan.yaml:15:14: steps[3].timeout: must be more than 0, not -1",
    ]
    assert not (path.parent / "ran").exists()


def test_a_cycle_is_named(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - {id: a, run: echo, needs: [c]}
          - {id: b, run: echo, needs: [a]}
          - {id: c, run: echo, needs: [b]}
          - {id: d, run: echo, needs: [d]}
        """
    )
    assert _problems(path) == [
        "plan.yaml:3:31: steps[0].needs: dependency cycle: a -> c -> b -> a",
        "plan.yaml:6:31: steps[3].needs: dependency cycle: d -> d",
    ]


def test_yaml_syntax_error_has_its_position(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: [unclosed\n")
    (problem,) = _problems(path)
    assert problem.startswith("plan.yaml:5:1: invalid YAML: ")


def test_schema_problems_name_the_key(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 2
        secrets: [lower-case]
        services:
          db: {run: "postgres", health: {tcp: "localhost"}}
          web: {run: "serve", health: {timeout: 3}}
        steps: []
        """
    )
    assert _problems(path, require_secrets=False) == [
        "plan.yaml:1:10: version: must be 1, not 2",
        "plan.yaml:2:11: secrets[0]: 'lower-case' is not a valid name: use letters, digits and '_', not starting with a digit",
        "plan.yaml:4:39: services.db.health.tcp: 'localhost' must be host:port",
        "plan.yaml:5:31: services.web.health: needs exactly one of http, tcp or cmd",
        "plan.yaml:6:8: steps: must not be empty",
    ]


def test_matrix_expands_ids_and_duplicates_are_caught(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: smoke-${{ matrix.py }}-${{ matrix.os }}
            run: ./smoke.sh ${{ matrix.py }}
            matrix: {py: ["3.11", "3.12"], os: [linux]}
        """
    )
    plan = load_plan(path, load_registry())
    assert [(s.id, s.run) for s in plan.steps] == [
        ("smoke-3.11-linux", "./smoke.sh 3.11"),
        ("smoke-3.12-linux", "./smoke.sh 3.12"),
    ]
    path.write_text(path.read_text().replace("smoke-${{ matrix.py }}-${{ matrix.os }}", "smoke"))
    assert _problems(path) == [
        "plan.yaml:3:9: steps[0].id: duplicate step id 'smoke', first at plan.yaml:3:9 (add ${{ matrix.py }} to the id)"
    ]


def test_a_duplicate_id_says_which_matrix_value_or_step_repeats_it(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: t-${{ matrix.py }}
            run: echo
            matrix: {py: ["3.11", "3.11"], os: [linux, mac]}
          - {id: t-3.12, run: echo}
          - id: t-${{ matrix.v }}
            run: echo
            matrix: {v: ["3.12"]}
        """
    )
    assert _problems(path) == [
        "plan.yaml:3:9: steps[0].id: duplicate step id 't-3.11', first at plan.yaml:3:9 (add ${{ matrix.os }} to the id)",
        "plan.yaml:7:9: steps[2].id: duplicate step id 't-3.12', first at plan.yaml:6:10",
    ]
    path.write_text(path.read_text().replace(", os: [linux, mac]", ""))
    assert _problems(path)[0] == "plan.yaml:3:9: steps[0].id: duplicate step id 't-3.11', first at plan.yaml:3:9 (the matrix lists that combination twice)"


def test_templates_render_at_load_or_wait_for_the_steps_they_read(write_plan: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "s3cret")
    path = write_plan(
        """
        version: 1
        env: {URL: "http://127.0.0.1:${{ vars.port }}"}
        vars: {port: 8000}
        secrets: [API_TOKEN]
        steps:
          - id: build
            run: echo
          - id: use
            needs: [build]
            run: deploy ${{ steps.build.outputs.version }} to ${{ env.URL }}
            env: {TOKEN: "${{ secrets.API_TOKEN }}"}
        """
    )
    plan = load_plan(path, load_registry(), variables={"port": "9000"})
    use = plan.step("use")
    assert plan.env == {"URL": "http://127.0.0.1:9000"}
    assert isinstance(use.run, Deferred)
    assert use.env["TOKEN"] == "s3cret"
    assert plan.secrets == {"API_TOKEN": "s3cret"}


def test_reading_a_step_that_is_not_needed_or_unknown(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: build
            run: echo
          - id: use
            run: echo ${{ steps.build.outcome }}
            if: steps['biuld'].outcome == 'passed'
          - id: bad
            run: echo ${{ vars.nope }}
            if: vars.suit == 'smoke'
        """
    )
    assert _problems(path) == [
        "plan.yaml:6:10: steps[1].run: reads steps.build but does not need it: add 'build' to needs",
        "plan.yaml:7:9: steps[1].if: reads steps.biuld, an unknown step (did you mean 'build'?)",
        "plan.yaml:9:10: steps[2].run: undefined in template: no 'nope'",
        "plan.yaml:10:9: steps[2].if: undefined in condition: no 'suit'",
    ]


def test_missing_secret_is_a_problem_only_when_running(write_plan: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAESTRO_TEST_SECRET", raising=False)
    path = write_plan("version: 1\nsecrets: [MAESTRO_TEST_SECRET]\nsteps:\n  - {id: a, run: echo}\n")
    assert _problems(path) == ["plan.yaml:2:11: secrets[0]: environment variable MAESTRO_TEST_SECRET is not set"]
    assert load_plan(path, load_registry(), require_secrets=False).steps[0].id == "a"


def test_adapter_checks_beyond_the_schema(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: nothing-to-run
          - id: both
            adapter: http
            with: {url: "http://x", json: {}, body: "", expect: {body: "(unclosed"}}
        """
    )
    assert _problems(path) == [
        "plan.yaml:3:9: steps[0]: the shell adapter needs `run:` (a script, or a list of arguments)",
        "plan.yaml:4:9: steps[1]: `with:` takes `json` or `body`, not both",
        "plan.yaml:4:9: steps[1]: expect.body is not a regular expression: missing ), unterminated subpattern at position 0",
    ]


def test_levels_group_the_graph(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - {id: lint, run: echo}
          - {id: unit, run: echo}
          - {id: api, run: echo, needs: [unit]}
          - {id: report, run: echo, needs: [api, lint]}
        """
    )
    plan = load_plan(path, load_registry())
    assert plan.levels() == [["lint", "unit"], ["api"], ["report"]]
    assert plan.levels({"lint", "report"}) == [["lint"], ["report"]]


def test_x_keys_hold_yaml_anchors_for_steps_to_merge(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        x-slow: &slow {timeout: 5, retries: 1}
        steps:
          - {<<: *slow, id: a, run: echo a}
          - {<<: *slow, id: b, run: echo b, retries: 3}
        """
    )
    plan = load_plan(path, load_registry())
    assert [(s.id, s.timeout, s.retries) for s in plan.steps] == [("a", 5.0, 1), ("b", 5.0, 3)]


def test_a_key_written_twice_is_a_problem(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: echo a\n    run: echo b\n")
    assert _problems(path) == ["plan.yaml:5:5: steps[0].run: duplicate key 'run'"]


def test_matrix_include_exclude_and_needs_patterns(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - id: smoke-${{ matrix.py }}-${{ matrix.os }}
            run: echo
            matrix:
              py: ["3.11", "3.12"]
              os: [linux, mac]
              exclude: [{py: "3.11", os: mac}]
              include: [{py: "3.13", os: linux}]
          - {id: report, run: echo, needs: ["smoke-*"]}
          - {id: lonely, run: echo, needs: ["smok-*"]}
        """
    )
    with pytest.raises(PlanError) as raised:
        load_plan(path, load_registry())
    assert raised.value.problems == ["plan.yaml:11:37: steps[2].needs: no step matches 'smok-*'"]
    path.write_text(path.read_text().replace('needs: ["smok-*"]', "needs: [report]"))
    plan = load_plan(path, load_registry())
    smoke = ["smoke-3.11-linux", "smoke-3.12-linux", "smoke-3.12-mac", "smoke-3.13-linux"]
    assert [s.id for s in plan.steps] == [*smoke, "report", "lonely"]
    assert plan.step("report").needs == tuple(smoke)


def test_a_broken_condition_is_one_located_line_with_a_suggestion(write_plan: Callable[..., Path], run_cli) -> None:
    path = write_plan(
        """
        version: 1
        vars: {suite: smoke}
        steps:
          - {id: a, run: echo}
          - {id: b, run: echo, needs: [a], if: "always( "}
          - {id: c, run: "echo ${{ var.suite }}", needs: [a], if: "sucess()"}
        """
    )
    result = run_cli("run-plan", path, "--check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: plan.yaml:5:40: steps[1].if: bad expression: unexpected 'end of template'",
        "error: plan.yaml:6:18: steps[2].run: undefined in template: 'var' is undefined (did you mean 'vars'?)",
        "error: plan.yaml:6:59: steps[2].if: undefined in condition: 'sucess' is undefined (did you mean 'success'?)",
    ]


def test_a_mistyped_key_is_one_line_not_also_what_the_adapter_misses(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - {id: a, rn: echo hi}\n  - {id: b, run: [], timeout: 5}\n")
    assert _problems(path) == [
        "plan.yaml:3:13: steps[0]: unknown key 'rn' (did you mean 'run'?)",
        "plan.yaml:4:18: steps[1].run: must not be empty",
    ]
    path.write_text("version: 1\nsteps:\n  - {id: a, adapter: http, with: {url: 'http://x', expect: {status: [200, x]}}}\n")
    assert _problems(path) == ["plan.yaml:3:75: steps[0].with.expect.status[1]: must be an integer, not 'x'"]


def test_one_mistake_one_line_for_matrices_patterns_and_tabs(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: t-${{ matrix.py }}\n    run: echo\n    matrix: {py: []}\n  - {id: a-1, run: echo, needs: ['a-*']}\n")
    assert _problems(path) == [
        "plan.yaml:3:9: steps[0].id: undefined in template: no 'py'",
        "plan.yaml:5:18: steps[0].matrix.py: must not be empty",
        "plan.yaml:6:34: steps[1].needs: 'a-*' matches only this step itself",
    ]
    path.write_text("version: 1\nsteps:\n\t- {id: a, run: echo}\n")
    assert _problems(path) == ["plan.yaml:3:1: invalid YAML: found character that cannot start any token (YAML indents with spaces, not tabs)"]


def test_a_plan_that_is_not_utf8_is_one_line(project: Path) -> None:
    (project / "plan.yaml").write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(InputError) as raised:
        load_plan(Path("plan.yaml"), load_registry())
    assert str(raised.value) == "plan.yaml: cannot read the plan: not UTF-8 text (byte 0xe9 at offset 20)"


def test_values_of_the_wrong_type_are_reported_once_not_crashed_on(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        secrets: [lower-case]
        steps:
          - {id: a, run: echo, if: 5}
          - {id: b, adapter: http, with: 5}
        """
    )
    assert _problems(path) == [
        "plan.yaml:2:11: secrets[0]: 'lower-case' is not a valid name: use letters, digits and '_', not starting with a digit",
        "plan.yaml:4:28: steps[0].if: must be a string or true or false, not int 5",
        "plan.yaml:5:34: steps[1].with: must be a mapping, not int 5",
    ]


def test_a_template_that_fails_to_evaluate_is_a_located_line(write_plan: Callable[..., Path], run_cli, read_steps) -> None:
    path = write_plan(
        """
        version: 1
        steps:
          - {id: a, run: "echo ${{ 1 / 0 }}"}
          - {id: b, run: "echo ${{ range(10000000) | list | length }}", if: "[1] + 'x'"}
        """
    )
    assert _problems(path) == [
        "plan.yaml:3:18: steps[0].run: cannot evaluate the template: ZeroDivisionError: division by zero",
        "plan.yaml:4:18: steps[1].run: cannot evaluate the template: OverflowError: Range too big."
        " The sandbox blocks ranges larger than MAX_RANGE (100000).",
        "plan.yaml:4:69: steps[1].if: cannot evaluate the condition: TypeError: can only concatenate list (not \"str\") to list",
    ]
    path.write_text("version: 1\nsteps:\n  - {id: a, run: 'echo 0 > n; echo n=0 >> $MAESTRO_OUTPUT'}\n  - {id: b, run: 'echo ${{ 1 / (steps.a.outputs.n | int) }}', needs: [a]}\n")
    assert run_cli("run-plan", path, "--results", "out").exit_code == 1  # at run time: the step fails
    assert read_steps(Path("out"))["b"]["message"] == "cannot evaluate the template: ZeroDivisionError: division by zero"


def test_keys_of_github_actions_and_taskfile_get_maestros_name(write_plan: Callable[..., Path]) -> None:
    path = write_plan(
        """
        version: 1
        jobs: {}
        steps:
          - id: a
            run: echo
            timeout-minutes: 5
            working-directory: sub
            strategy: {matrix: {py: [1]}}
            depends_on: [b]
            neds: [b]
        """
    )
    assert _problems(path) == [
        "plan.yaml:2:1: unknown key 'jobs' (maestro's is 'steps')",
        "plan.yaml:6:5: steps[0]: unknown key 'timeout-minutes' (maestro's is 'timeout', in seconds)",
        "plan.yaml:7:5: steps[0]: unknown key 'working-directory' (maestro's is 'cwd')",
        "plan.yaml:8:5: steps[0]: unknown key 'strategy' (maestro's is 'matrix', directly on the step)",
        "plan.yaml:9:5: steps[0]: unknown key 'depends_on' (maestro's is 'needs')",
        "plan.yaml:10:5: steps[0]: unknown key 'neds' (did you mean 'needs'?)",
    ]


def test_a_matrix_number_that_yaml_would_change_must_be_quoted(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: t-${{ matrix.py }}\n    run: echo\n    matrix: {py: [3.9, 3.10, '3.11'], n: [1.5]}\n")
    assert _problems(path) == ["plan.yaml:5:24: steps[0].matrix.py[1]: 3.10 reads as the number 3.1: quote it ('3.10')"]


def test_an_id_too_long_for_a_log_file_name_is_refused(write_plan: Callable[..., Path]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: t-${{ matrix.n }}\n    run: echo\n    matrix: {n: ['" + "x" * 199 + "']}\n")
    assert _problems(path) == ["plan.yaml:3:9: steps[0].id: a step id is at most 200 characters long (it names the step's log file), not 201"]
