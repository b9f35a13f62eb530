"""Configuration precedence, validation errors with locations, and secrets in `config show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro_cli.config import load_settings
from maestro_cli.errors import ConfigError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(root / "sub" / "deeper")
    return root


def write_user_config(home: Path, text: str) -> None:
    path = home / ".config" / "maestro" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_defaults_when_nothing_is_configured(project: Path) -> None:
    settings = load_settings(environ={"HOME": str(project)})
    assert settings["jobs"] == 0
    assert settings.origin("jobs") == "default"
    assert settings.project_root == (project / "sub" / "deeper").resolve()


def test_precedence_flag_env_project_user_default(project: Path, isolated_environment: Path) -> None:
    write_user_config(isolated_environment, 'jobs = 1\nrepository = "user-repo"\nresults-dir = "u"\n')
    (project / "pyproject.toml").write_text('[tool.maestro]\njobs = 2\nrepository = "project-repo"\n')
    env = {"HOME": str(isolated_environment), "MAESTRO_JOBS": "3"}

    settings = load_settings(environ=env, flags={"jobs": 4})
    assert (settings["jobs"], settings.origin("jobs")) == (4, "flag")
    settings = load_settings(environ=env)
    assert (settings["jobs"], settings.origin("jobs")) == (3, "env MAESTRO_JOBS")
    assert settings["repository"] == "project-repo"
    assert settings.origin("repository") == str(project / "pyproject.toml")
    assert settings["results-dir"] == Path("u")
    assert settings["publish-jobs"] == 4 and settings.origin("publish-jobs") == "default"
    assert settings.project_root == project.resolve()


def test_maestro_toml_wins_over_pyproject_in_the_same_folder(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.maestro]\njobs = 2\n")
    (project / "maestro.toml").write_text("jobs = 5\n")
    assert load_settings(environ={})["jobs"] == 5


def test_unknown_key_names_file_line_and_suggests(project: Path) -> None:
    (project / "maestro.toml").write_text('# settings\n\nrepository_url = "http://x"\nrepositry = "pypi"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert str(caught.value) == f"{project / 'maestro.toml'}:4: unknown key 'repositry' (did you mean 'repository'?)"


def test_wrong_type_names_the_key_path_and_expected_type(project: Path) -> None:
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.maestro]\njobs = "many"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert str(caught.value) == f"{project / 'pyproject.toml'}:5: 'tool.maestro.jobs' must be an integer, not str 'many'"


def test_boolean_is_not_an_integer(project: Path) -> None:
    (project / "maestro.toml").write_text("jobs = true\n")
    with pytest.raises(ConfigError, match="must be an integer, not bool"):
        load_settings(environ={})


def test_invalid_toml_has_a_line(project: Path) -> None:
    (project / "maestro.toml").write_text("jobs = 1\njobs = = 2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={})
    assert str(caught.value) == f"{project / 'maestro.toml'}:2:8: invalid TOML: Invalid value"


def test_bad_environment_value(project: Path) -> None:
    with pytest.raises(ConfigError, match="MAESTRO_AUDIT must be a boolean, not 'maybe'"):
        load_settings(environ={"MAESTRO_AUDIT": "maybe"})


def test_config_show_masks_secrets_and_shows_origins(run_cli, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_PASSWORD", "hunter2-secret")
    (project / "maestro.toml").write_text('queue = "redis://worker:queue-pw-123@127.0.0.1:6379/0"\n')
    result = run_cli("config", "show", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    rows = {row["key"]: row for row in document["settings"]}
    assert rows["password"] == {**rows["password"], "value": "****", "origin": "env MAESTRO_PASSWORD", "secret": True}
    assert rows["queue"]["value"] == "redis://worker:****@127.0.0.1:6379/0"
    assert rows["queue"]["origin"] == str(project / "maestro.toml")
    assert "hunter2-secret" not in result.output and "queue-pw-123" not in result.output

    table = run_cli("config", "show")
    assert table.exit_code == 0
    assert "env MAESTRO_PASSWORD" in table.stdout
    assert "hunter2-secret" not in table.output


def test_config_error_is_one_line_exit_2(run_cli, project: Path) -> None:
    (project / "maestro.toml").write_text("jbos = 2\n")
    result = run_cli("config", "show")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {project / 'maestro.toml'}:1: unknown key 'jbos' (did you mean 'jobs'?)"


def test_secrets_are_masked_inside_rich_tables(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.table import Table

    from maestro_cli import redaction
    from maestro_cli.console import Console

    redaction.register("tabled-secret-42")
    table = Table("step", "message")
    table.add_row("deploy", "login with tabled-secret-42 failed")
    Console(color=False).print(table)
    out = capsys.readouterr().out
    assert "tabled-secret-42" not in out and "****" in out


@pytest.mark.parametrize("xdg_cache_home", [None, "", "   ", "/srv/cache"])
def test_the_default_cache_dir_is_platformdirs_one(monkeypatch: pytest.MonkeyPatch, xdg_cache_home: str | None) -> None:
    from platformdirs import user_cache_dir

    if xdg_cache_home is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg_cache_home)
    assert load_settings(cwd=Path.cwd(), environ={}).cache_dir == Path(user_cache_dir("maestro"))


def test_a_commands_flags_go_on_top_of_settings_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli import config, redaction
    from maestro_cli.context import State

    loads: list[object] = []
    load_settings_once = config.load_settings

    def counted(**kwargs: object) -> config.Settings:
        loads.append(kwargs)
        return load_settings_once(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("maestro_cli.config.load_settings", counted)
    state = State()
    with_jobs = state.settings(jobs=3, queue=None)
    assert (with_jobs["jobs"], with_jobs.origin("jobs"), with_jobs.origin("queue")) == (3, "flag", "default")
    assert (state.settings()["jobs"], state.settings(jobs=None)["jobs"]) == (0, 0)
    secret = state.settings(password="flag-s3cret")
    assert (secret["password"], secret.origin("password")) == ("flag-s3cret", "flag")
    assert redaction.scrub("pw flag-s3cret") == f"pw {redaction.MASK}"
    assert len(loads) == 1  # files and environment were read once
