"""A checked plan is kept between runs and used again only for exactly the same inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_cli.adapters.registry import load_registry
from maestro_cli.plan import plan_cache
from maestro_cli.plan.run import prepare

# a fresh interpreter prepares the plan: was the loader imported, and what came back
PREPARE = (
    "import json, sys; from pathlib import Path; from maestro_cli.plan.run import prepare; "
    "prepared = prepare(Path(sys.argv[1]), cache_dir=Path(sys.argv[2])); "
    "print(json.dumps({'loaded': 'maestro_cli.plan.loader' in sys.modules, "
    "'steps': [[s.id, s.run, list(s.needs), s.location.line] for s in prepared.plan.steps]}))"
)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plans the loader was asked for: an entry read back asks for none."""
    from maestro_cli.plan import loader

    asked: list[str] = []
    load_plan = loader.load_plan

    def counting(path: Path, *args: object, **kwargs: object) -> object:
        asked.append(str(path))
        return load_plan(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "load_plan", counting)
    return asked


def test_an_unchanged_plan_starts_without_the_loader(tmp_path: Path, in_fresh_process: Callable[..., dict[str, object]]) -> None:
    plan = tmp_path / "project" / "plan.yaml"  # not beside the cache: `python -c` imports from its folder
    plan.parent.mkdir()
    plan.write_text("version: 1\nsteps:\n  - id: build\n    run: make\n  - id: 'test-1'\n    run: make test\n    needs: 'build*'\n")
    first = in_fresh_process(PREPARE, plan, tmp_path / "cache", cwd=plan.parent)
    again = in_fresh_process(PREPARE, plan, tmp_path / "cache", cwd=plan.parent)
    assert (first["loaded"], again["loaded"]) == (True, False)
    assert first["steps"] == again["steps"] == [["build", "make", [], 3], ["test-1", "make test", ["build"], 5]]
    plan.write_text(plan.read_text().replace("make test", "make check"))
    changed = in_fresh_process(PREPARE, plan, tmp_path / "cache", cwd=plan.parent)
    assert changed["loaded"] is True and changed["steps"][1][1] == "make check"  # type: ignore[index]


def test_other_variables_load_the_plan_again(write_plan: Callable[[str], Path], tmp_path: Path, loads: list[str]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: echo ${{ vars.greeting }}\n")
    cache = tmp_path / "cache"
    greetings = ("hi", "hi", "bye", "bye", "hi")
    runs = [prepare(path, variables={"greeting": greeting}, cache_dir=cache).plan.steps[0].run for greeting in greetings]
    assert runs == [f"echo {greeting}" for greeting in greetings]
    assert len(loads) == 3  # hi, bye, and hi again: one entry per plan file, "bye" replaced "hi"


def test_a_plan_reading_the_environment_is_kept_for_that_environment(
    write_plan: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[str]
) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: deploy ${{ env.TARGET }}\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("TARGET", "staging")
    assert prepare(path, cache_dir=cache).plan.steps[0].run == "deploy staging"
    monkeypatch.setenv("TARGET", "production")
    assert prepare(path, cache_dir=cache).plan.steps[0].run == "deploy production"
    assert prepare(path, cache_dir=cache).plan.steps[0].run == "deploy production"
    assert len(loads) == 2


def test_an_if_expression_is_checked_again_in_another_environment(
    write_plan: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no template: the condition alone reads env, evaluated once at loading to catch typos
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: 'true'\n    if: env.MODE.startswith('f')\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("MODE", "full")
    prepare(path, cache_dir=cache)
    monkeypatch.delenv("MODE")
    from maestro_cli.errors import PlanError

    with pytest.raises(PlanError, match="MODE"):
        prepare(path, cache_dir=cache)


def test_a_plan_with_secrets_is_never_written_to_the_cache(
    write_plan: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loads: list[str]
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "s3cr3t-value-42")
    path = write_plan("version: 1\nsecrets: [DEPLOY_TOKEN]\nsteps:\n  - id: a\n    run: deploy --token ${{ secrets.DEPLOY_TOKEN }}\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        assert prepare(path, cache_dir=cache).plan.steps[0].run == "deploy --token s3cr3t-value-42"
    assert len(loads) == 2
    assert not (cache / "checked-plans").exists()
    assert not any(b"s3cr3t-value-42" in file.read_bytes() for file in cache.rglob("*") if file.is_file())


def test_other_installed_adapters_load_the_plan_again(write_plan: Callable[[str], Path], tmp_path: Path, loads: list[str]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: 'true'\n")
    cache = tmp_path / "cache"
    registry = load_registry()
    key = plan_cache.plan_key(path, registry, {}, True)
    assert key is not None
    prepare(path, cache_dir=cache)
    assert plan_cache.read(cache, key) is not None and len(loads) == 1
    since = dataclasses.replace(registry, installed=registry.installed + " and a plugin installed since")
    other = plan_cache.plan_key(path, since, {}, True)
    assert other is not None and other != key and plan_cache.read(cache, other) is None


def test_a_damaged_entry_is_loaded_again(write_plan: Callable[[str], Path], tmp_path: Path, loads: list[str]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: 'true'\n")
    cache = tmp_path / "cache"
    prepare(path, cache_dir=cache)
    (entry,) = (cache / "checked-plans").iterdir()
    entry.write_bytes(entry.read_bytes()[:40])
    assert prepare(path, cache_dir=cache).plan.steps[0].id == "a" and len(loads) == 2


def test_check_and_run_share_the_entry_of_a_plan_without_secrets(write_plan: Callable[[str], Path], tmp_path: Path, loads: list[str]) -> None:
    path = write_plan("version: 1\nsteps:\n  - id: a\n    run: 'true'\n")
    cache = tmp_path / "cache"
    prepare(path, require_secrets=False, cache_dir=cache)  # --check
    prepare(path, require_secrets=True, cache_dir=cache)  # then the run
    assert len(loads) == 1


def test_a_plan_naming_secrets_is_checked_again_when_they_are_required(
    write_plan: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maestro_cli.errors import PlanError

    monkeypatch.delenv("API_TOKEN", raising=False)
    path = write_plan("version: 1\nsecrets: [API_TOKEN]\nsteps:\n  - id: a\n    run: 'true'\n")
    cache = tmp_path / "cache"
    prepare(path, require_secrets=False, cache_dir=cache)  # --check works without the secret
    with pytest.raises(PlanError, match="API_TOKEN is not set"):
        prepare(path, require_secrets=True, cache_dir=cache)


def test_a_plan_whose_adapter_checks_the_file_system_is_checked_at_every_start(
    write_plan: Callable[[str], Path], tmp_path: Path, loads: list[str]
) -> None:
    from maestro_cli.errors import PlanError

    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    path = write_plan(f"version: 1\nsteps:\n  - id: ui\n    adapter: selenium\n    with: {{script: ui.py, executable: {browser}}}\n")
    cache = tmp_path / "cache"
    prepare(path, cache_dir=cache)
    assert not (cache / "checked-plans").exists() and len(loads) == 1
    browser.unlink()  # gone before the next run: that run's check must say so
    with pytest.raises(PlanError, match="executable"):
        prepare(path, cache_dir=cache)
