from __future__ import annotations

from pathlib import Path

from maestro_cli.extract.roots import locate


def make(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_src_layout_with_a_namespace_package(tmp_path: Path) -> None:
    make(tmp_path, "pyproject.toml", "src/acme/resilience/__init__.py", "src/acme/resilience/retry.py", "src/acme/billing/__init__.py")
    location = locate(tmp_path / "src" / "acme" / "resilience")
    assert (location.root, location.import_root, location.dotted_name) == (tmp_path, tmp_path / "src", "acme.resilience")
    assert location.is_package


def test_root_is_the_nearest_project_folder_and_a_module_gets_its_dotted_name(tmp_path: Path) -> None:
    make(tmp_path, "services/billing/setup.py", "services/billing/billing/__init__.py", "services/billing/billing/tax.py")
    location = locate(tmp_path / "services" / "billing" / "billing" / "tax.py")
    assert (location.root, location.dotted_name, location.is_package) == (tmp_path / "services" / "billing", "billing.tax", False)


def test_without_project_files_root_is_the_first_folder_that_is_not_a_package(tmp_path: Path) -> None:
    make(tmp_path, "legacy/app/__init__.py", "legacy/app/core/__init__.py", "legacy/app/core/rules.py")
    location = locate(tmp_path / "legacy" / "app" / "core")
    assert (location.root, location.dotted_name) == (tmp_path / "legacy", "app.core")


def test_a_folder_whose_name_cannot_be_imported_ends_the_namespace_walk(tmp_path: Path) -> None:
    # maestro's own checkout holding examples/legacy-estate/estate/...: 'legacy-estate' is no namespace package
    make(tmp_path, "examples/legacy-estate/requirements.txt", "examples/legacy-estate/estate/__init__.py", "examples/legacy-estate/estate/common/__init__.py", "examples/legacy-estate/estate/common/retry.py")
    location = locate(tmp_path / "examples" / "legacy-estate" / "estate" / "common", repo=tmp_path)
    assert (location.import_root, location.dotted_name) == (tmp_path / "examples" / "legacy-estate", "estate.common")


def test_a_package_init_file_stands_for_its_package(tmp_path: Path) -> None:
    make(tmp_path, "setup.py", "app/__init__.py", "app/core/__init__.py", "app/core/rules.py")
    location = locate(tmp_path / "app" / "core" / "__init__.py")
    assert (location.source, location.dotted_name, location.is_package) == (tmp_path / "app" / "core", "app.core", True)
