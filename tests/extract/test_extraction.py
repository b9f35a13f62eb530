"""maestro extract in-process: what the user sees and what lands on disk (no wheel builds here)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PNG_BYTES
from .legacy_repo import git


def test_dry_run_json_is_the_analysis_and_writes_nothing(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "Acme_Resilience", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["source"] == "shared/resilience"
    assert (document["dist_name"], document["import_name"]) == ("acme-resilience", "acme_resilience")
    assert document["dependencies"] == ["PyYAML<7,>=5.4"]  # the repo's pin, kept
    assert list(document["optional_dependencies"]) == ["colorama"]  # guarded, no fallback
    assert document["test_dependencies"] == ["pytest>=7"]
    assert document["requires_python"] == ">=3.9"
    assert document["internal_imports"] == []
    destinations = {f["destination"] for f in document["files"]}
    assert {"src/acme_resilience/data/policies.yaml", "tests/shared/test_retry.py", "tests/conftest.py", "LICENSE"} <= destinations
    assert {"tests/helpers.py", "tests/__init__.py"} <= destinations  # a helper the tests import travels with them
    assert {"tests/shared/samples/policy.json", "tests/shared/samples/sample_app.py"} <= destinations  # and what lies beside them
    assert "tests/billing/test_invoices.py" not in destinations
    assert "tests/billing/conftest.py: test file left out: imports billing.invoices (line 3)" in document["warnings"]
    assert (
        "tests/billing/test_billing_retries.py: test file left out: needs tests/billing/conftest.py, which was left out"
        in document["warnings"]
    )
    assert not (legacy_repo.parent / "extracted").exists()


def test_a_crossing_stops_with_each_one_listed(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting")
    assert result.exit_code == 1
    assert "  inventory/reporting/export.py:4: imports shared.config\n" in result.stdout
    assert not (legacy_repo.parent / "extracted").exists()


def test_crossings_in_json(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["internal_imports"] == [{"file": "inventory/reporting/export.py", "line": 4, "module": "shared.config"}]


def test_the_package_is_written_with_rewritten_imports_and_an_audit_record(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--out", "out")
    assert result.exit_code == 0, result.stderr
    package = Path("out/acme-resilience")
    retry = (package / "src/acme_resilience/retry.py").read_text()
    assert "import acme_resilience.clock\nfrom acme_resilience.policies import load_policy  # absolute import of a sibling\n" in retry
    assert "acme_resilience.clock.sleep(" in retry
    assert "from . import clock  # relative import stays relative" in (package / "src/acme_resilience/breaker.py").read_text()
    assert 'mock.patch("acme_resilience.clock.now"' in (package / "tests/shared/test_retry.py").read_text()
    assert (package / "src/acme_resilience/data/limits.json").read_bytes() == (legacy_repo / "shared/resilience/data/limits.json").read_bytes()
    readme = (package / "README.md").read_text()
    assert "Retry with backoff and a circuit breaker for calls to flaky services." in readme
    assert git(legacy_repo, "rev-parse", "HEAD").strip() in readme
    manifest = json.loads((package / "maestro-extract.json").read_text())
    clock = legacy_repo / "shared/resilience/clock.py"
    assert {
        "source": "shared/resilience/clock.py",
        "destination": "src/acme_resilience/clock.py",
        "role": "code",
        "sha256": hashlib.sha256(clock.read_bytes()).hexdigest(),
    } in manifest["files"]
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert not [p for p in Path("out").iterdir() if p.name.startswith(".")]  # no staging folder left
    [record] = [json.loads(line) for line in Path(".maestro/audit.jsonl").read_text().splitlines()]
    assert (record["command"], record["action"]) == ("extract", "extract.written")
    assert [a["path"] for a in record["artifacts"]] == ["out/acme-resilience/pyproject.toml", "out/acme-resilience/maestro-extract.json"]


def test_existing_output_needs_force(legacy_repo: Path, run_cli) -> None:
    args = ("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--out", "out")
    assert run_cli(*args).exit_code == 0
    Path("out/acme-resilience/mine.txt").write_text("keep?")
    again = run_cli(*args)
    assert again.exit_code == 2
    assert again.stderr == "error: out/acme-resilience already exists\nhint: pass --force to replace it\n"
    assert Path("out/acme-resilience/mine.txt").exists()
    assert run_cli(*args, "--force").exit_code == 0
    assert not Path("out/acme-resilience/mine.txt").exists()


def test_with_internal_copies_the_closure(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting", "--with-internal", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["internal_modules"] == ["shared.config"]
    assert document["dependencies"] == ["PyYAML<7,>=5.4"]  # what the copied module needs
    package = Path("extracted/acme-reporting/src/acme_reporting")
    assert "from acme_reporting._legacy.shared.config import setting" in (package / "export.py").read_text()
    assert (package / "_legacy/shared/config.py").is_file()
    assert (package / "_legacy/__init__.py").read_text() == ""


def test_allow_internal_keeps_imports_and_depends_on_the_legacy_distribution(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "inventory" / "reporting", "--name", "acme-reporting", "--allow-internal", "--dry-run", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["dependencies"] == ["acme-platform"]


def test_python_2_is_an_error_at_its_line_unless_skipped(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "billing", "--name", "acme-billing", "--allow-internal")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: billing/legacy_export.py:7:9: cannot parse: Missing parentheses in call to 'print'."
    )
    assert "--skip-unparsable" in result.stderr
    skipped = run_cli("extract", legacy_repo / "billing", "--name", "acme-billing", "--allow-internal", "--skip-unparsable", "--dry-run", "--json")
    assert skipped.exit_code == 0
    document = json.loads(skipped.stdout)
    assert any(w.startswith("billing/legacy_export.py:7:9: cannot parse") for w in document["warnings"])
    assert "billing/legacy_export.py" not in {f["source"] for f in document["files"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing/pkg", "--name", "x"], "error: SOURCE missing/pkg: no such file or directory\n"),
        (["acme-platform/README.md", "--name", "x"], "error: SOURCE acme-platform/README.md: not a Python module or package\n"),
        (["acme-platform/shared/resilience", "--name", "-bad-"], "error: --name '-bad-' is not a valid distribution name\n"),
        (["acme-platform/shared/resilience", "--name", "ok", "--import-name", "class"], "error: --import-name 'class' is not a valid Python import name\n"),
        (["acme-platform/shared/resilience", "--name", "ok", "--version", "one"], "error: --version 'one' is not a PEP 440 version\n"),
        (["acme-platform/shared/resilience", "--name", "logging"], "error: --name 'logging' gives the import name logging, which would shadow the standard library's\n"),
        (["acme-platform/shared/resilience", "--name", "ok", "--import-name", "json.tools"], "error: --import-name 'json.tools' gives the import name json.tools, which would shadow the standard library's\n"),
        (["acme-platform/shared/resilience", "--name", "ok", "--with-internal", "--allow-internal"], "error: --with-internal and --allow-internal contradict each other\n"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(legacy_repo: Path, run_cli, args: list[str], message: str) -> None:
    result = run_cli("extract", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] + "\n" == message
    assert result.stdout == ""
    assert not Path("extracted").exists()


def test_an_output_that_cannot_be_a_folder_is_one_line_exit_2(legacy_repo: Path, run_cli) -> None:
    Path("notes.txt").write_text("mine")
    for out, message in [
        ("notes.txt", "error: --out notes.txt: not a folder\n"),
        ("notes.txt/sub", "error: --out notes.txt/sub: cannot create it (Not a directory)\n"),
    ]:
        result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--out", out)
        assert (result.exit_code, result.stderr) == (2, message)
    assert Path("notes.txt").read_text() == "mine"


def test_the_package_folder_follows_the_umask_like_any_folder_the_user_makes(legacy_repo: Path, run_cli) -> None:
    old = os.umask(0o022)
    try:
        assert run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(Path("extracted/acme-resilience").stat().st_mode) == 0o755


def test_output_inside_the_repo_is_refused(legacy_repo: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(legacy_repo)
    result = run_cli("extract", "shared/resilience", "--name", "acme-resilience")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --out extracted is inside the legacy repo {legacy_repo}, which maestro never writes to\n"
        "hint: pass --out with a folder outside the repo\n"
    )


def test_force_never_replaces_the_legacy_repo_or_a_folder_holding_it(legacy_repo: Path, run_cli) -> None:
    Path("links").mkdir()
    os.symlink(legacy_repo.parent, "links/holder")
    for out, name in [(".", "acme-platform"), ("links", "holder")]:
        result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", name, "--out", out, "--force")
        assert result.exit_code == 2
        assert result.stderr.startswith(f"error: --out {out}: {Path(out, name)} holds the legacy repo {legacy_repo}, which maestro never writes to\n")
    assert (legacy_repo / "setup.py").is_file()


def test_source_outside_the_repo(legacy_repo: Path, run_cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "mod.py").write_text("x = 1\n")
    result = run_cli("extract", outside / "mod.py", "--name", "x", "--repo", legacy_repo)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: SOURCE {outside / 'mod.py'} is outside the repo {legacy_repo}\n")


@pytest.mark.parametrize("legacy_repo", ["links"], indirect=True)
def test_links_out_of_the_repo_are_not_followed_and_binaries_are_copied_as_bytes(legacy_repo: Path, run_cli, tmp_path: Path) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--json")
    assert result.exit_code == 0
    warning = f"shared/resilience/data/secret.txt: link to {tmp_path / 'secret.txt'} outside the repo, not followed"
    assert warning in json.loads(result.stdout)["warnings"]
    package = Path("extracted/acme-resilience/src/acme_resilience/data")
    assert not (package / "secret.txt").exists()
    assert (package / "logo.png").read_bytes() == PNG_BYTES


def test_a_single_module_becomes_a_package(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "config.py", "--name", "acme-config", "--no-tests")
    assert result.exit_code == 0, result.stderr
    text = Path("extracted/acme-config/src/acme_config/__init__.py").read_text()
    assert text.startswith('"""Settings read from the environment')
    assert 'description = "Settings read from the environment, with defaults from settings.yaml."' in Path("extracted/acme-config/pyproject.toml").read_text()


def test_no_rewrite_keeps_the_original_import_name(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--no-rewrite")
    assert result.exit_code == 0, result.stderr
    package = Path("extracted/acme-resilience")
    assert (package / "src/shared/resilience/retry.py").read_text() == (legacy_repo / "shared/resilience/retry.py").read_text()
    assert '{ include = "shared", from = "src" }' in (package / "pyproject.toml").read_text()


def test_a_template_folder_replaces_the_skeleton(legacy_repo: Path, run_cli, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "README.md.j2").write_text("# {{ dist_name }} ({{ import_name }}) from {{ repo_name }}\n")
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--template", templates)
    assert result.exit_code == 0, result.stderr
    assert Path("extracted/acme-resilience/README.md").read_text() == "# acme-resilience (acme_resilience) from acme-platform\n"
    assert Path("extracted/acme-resilience/CHANGELOG.md").read_text().startswith("# Changelog")


def test_keep_history_holds_only_the_commits_that_touched_source(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--keep-history")
    assert result.exit_code == 0, result.stderr
    package = Path("extracted/acme-resilience")
    subjects = git(package, "log", "--format=%s").splitlines()
    assert subjects == ["Extract acme-resilience from acme-platform with maestro 0.1.0", "Add clock.today and the tests", "Shared helpers"]
    first = git(package, "show", "--name-only", "--format=", "HEAD~2").split()
    assert "src/acme_resilience/clock.py" in first and not any(p.startswith(("billing", "shared")) for p in first)
    assert git(package, "status", "--porcelain") == ""


def test_keep_history_needs_a_git_repo(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "plain"
    (repo / "pkg").mkdir(parents=True)
    (repo / "setup.py").write_text("")
    (repo / "pkg" / "__init__.py").write_text('"""A package outside any git repo."""\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("extract", repo / "pkg", "--name", "plain-pkg", "--keep-history")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --keep-history: {repo} is not a git repository\n")
    assert not Path("extracted/plain-pkg").exists() and not list(Path("extracted").glob(".*"))


def test_the_help_example_works_from_a_checkout(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.commands.extract import extract

    checkout = Path(__file__).resolve().parents[2]
    example = next(line for line in (extract.__doc__ or "").splitlines() if "Example: maestro extract" in line)
    args = shlex.split(example.split("Example: maestro ", 1)[1])
    monkeypatch.chdir(checkout)
    result = run_cli(*args, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "dry run: nothing written" in result.stdout


def test_tests_inside_source_need_their_imports_for_testing_only(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "legacy" / "calc"
    (package / "tests").mkdir(parents=True)
    (tmp_path / "legacy" / "setup.py").write_text("")
    (package / "__init__.py").write_text("import yaml\n")
    (package / "tests" / "__init__.py").write_text("")
    (package / "tests" / "test_calc.py").write_text("import pytest\nimport hypothesis\n")
    (package / "conftest.py").write_text("import pytest\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli("extract", package, "--name", "acme-calc", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert [d.split("<")[0].split(">")[0] for d in document["dependencies"]] == ["PyYAML"]
    assert "pytest" in document["test_dependencies"]


def test_a_pytest_plugin_shows_no_test_dependencies_as_none(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "legacy" / "fixtures").mkdir(parents=True)
    (tmp_path / "legacy" / "setup.py").write_text("")
    (tmp_path / "legacy" / "fixtures" / "__init__.py").write_text("import pytest\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli("extract", "legacy/fixtures", "--name", "acme-fixtures", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "  dependencies: pytest\n  test dependencies: none\n" in result.stdout


def test_with_internal_takes_every_module_one_from_import_needs(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`from shared import helpers, VERSION` needs `shared.helpers` and `shared` itself."""
    repo = tmp_path / "legacy"
    (repo / "shared").mkdir(parents=True)
    (repo / "setup.py").write_text("from setuptools import setup\nsetup(name='legacy')\n")
    (repo / "shared" / "__init__.py").write_text("VERSION = '1.2'\n")
    (repo / "shared" / "helpers.py").write_text("def shout(text):\n    return text.upper()\n")
    (repo / "app.py").write_text("from shared import helpers, VERSION\n\n\ndef banner():\n    return helpers.shout('v' + VERSION)\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli("extract", repo / "app.py", "--name", "acme-app", "--with-internal", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["internal_modules"] == ["shared", "shared.helpers"]
    probe = "import sys; sys.path.insert(0, 'extracted/acme-app/src'); import acme_app; print(acme_app.banner())"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "V1.2\n"
