"""A plan's parse is kept by its text: read back without PyYAML, the same data and positions."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_cli.errors import PlanError
from maestro_cli.plan import yamlsource

PLAN = textwrap.dedent(
    """\
    version: 1
    defaults: &defaults {timeout: 30, retries: 1}
    steps:
      - id: unit
        run: pytest -q
        <<: *defaults
        tags: [fast]
      - id: smoke
        run: ["./smoke.sh", 3.5, true, null]
        needs: unit
    """
)
# a fresh interpreter loads the plan: was PyYAML imported, and what came back
LOAD = (
    "import json, sys; from pathlib import Path; from maestro_cli.plan import yamlsource; "
    "source = yamlsource.load(Path(sys.argv[1]), cache_dir=Path(sys.argv[2])); "
    "print(json.dumps({'yaml': 'yaml' in sys.modules, 'data': source.data, "
    "'values': sorted([list(k), list(v)] for k, v in source.values.items()), 'keys': sorted([list(k), list(v)] for k, v in source.keys.items())}))"
)


def test_an_unchanged_plan_is_read_back_without_parsing(tmp_path: Path, in_fresh_process: Callable[..., dict[str, object]]) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    first = in_fresh_process(LOAD, plan, tmp_path / "cache")
    again = in_fresh_process(LOAD, plan, tmp_path / "cache")
    assert (first["yaml"], again["yaml"]) == (True, False)
    assert {k: v for k, v in first.items() if k != "yaml"} == {k: v for k, v in again.items() if k != "yaml"}
    assert again["data"]["steps"][1]["run"] == ["./smoke.sh", 3.5, True, None]  # types survive
    assert again["data"]["steps"][0]["timeout"] == 30  # merge keys resolved
    plan.write_text(PLAN.replace("pytest -q", "pytest -x"))
    changed = in_fresh_process(LOAD, plan, tmp_path / "cache")
    assert changed["yaml"] is True and changed["data"]["steps"][0]["run"] == "pytest -x"


def test_the_file_is_named_as_shown_this_time(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    yamlsource.load(plan, "first.yaml", cache_dir=tmp_path / "cache")
    source = yamlsource.load(plan, "second.yaml", cache_dir=tmp_path / "cache")
    assert str(source.location(("steps", 1, "needs"))) == "second.yaml:10:12"


def test_what_has_problems_or_does_not_parse_is_not_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plan = tmp_path / "plan.yaml"
    plan.write_text("steps: [a]\nsteps: [b]\n")  # a duplicate key: its message names the file
    assert yamlsource.load(plan, cache_dir=cache).problems
    plan.write_text("steps: [a\n")
    with pytest.raises(PlanError):
        yamlsource.load(plan, cache_dir=cache)
    assert not (cache / "plan-sources").exists() or not any((cache / "plan-sources").iterdir())
