"""Which folders are repos and which files a scan reads."""

from __future__ import annotations

import shutil
from pathlib import Path

from maestro_cli.scan.repos import candidate_units, find_repos

from .conftest import FIXTURES


def test_a_folder_of_repos_is_split_into_its_repos() -> None:
    repos = find_repos([FIXTURES], [])
    assert [(repo.name, repo.shown) for repo in repos] == [
        ("billing-service", str(FIXTURES / "billing-service")),
        ("shipping-service", str(FIXTURES / "shipping-service")),
    ]


def test_virtualenvs_hidden_folders_and_links_out_of_the_repo_are_not_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "billing-service", repo)
    for skipped in (".venv/lib", ".hidden", "build", "billing.egg-info"):
        (repo / skipped).mkdir(parents=True)
        (repo / skipped / "copy.py").write_text("x = 1\n")
    (tmp_path / "outside.py").write_text("y = 2\n")
    (repo / "linked.py").symlink_to(tmp_path / "outside.py")
    (repo / "storage" / "loop").symlink_to(repo)
    warnings: list[str] = []
    [found] = find_repos([repo], warnings)
    assert sorted(found.relative_paths.values()) == sorted(
        p.relative_to(FIXTURES / "billing-service").as_posix() for p in (FIXTURES / "billing-service").rglob("*.py")
    )
    assert warnings == ["linked.py: link outside the repo, not followed"]


def test_candidates_are_packages_and_top_level_modules_but_not_tests_or_setup() -> None:
    [billing] = find_repos([FIXTURES / "billing-service"], [])
    assert [(dotted, kind) for dotted, kind, _ in candidate_units(billing)] == [
        ("app", "module"),
        ("invoices", "package"),
        ("invoices.pdf", "subpackage"),
        ("registry", "module"),
        ("retry", "module"),
        ("settings", "module"),
        ("storage", "package"),
    ]
    assert billing.modules[FIXTURES.resolve() / "billing-service" / "invoices" / "pdf" / "__init__.py"] == "invoices.pdf"


def test_a_test_package_inside_a_library_is_a_candidate_but_a_tests_folder_is_not(tmp_path: Path) -> None:
    repo = tmp_path / "lib"
    for folder in ("lib", "lib/test", "lib/tests", "test"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "__init__.py").write_text("")
    (repo / "setup.py").write_text("")
    [found] = find_repos([repo], [])
    assert [dotted for dotted, _, _ in candidate_units(found)] == ["lib", "lib.test"]
