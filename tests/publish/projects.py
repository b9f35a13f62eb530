"""Small real projects to build and publish in tests and the benchmark."""

from __future__ import annotations

from pathlib import Path


def write_project(
    root: Path,
    name: str,
    version: str = "1.0.0",
    *,
    dependencies: tuple[str, ...] = (),
    readme: str | None = None,
    body: str = "VALUE = 1\n",
) -> Path:
    """A small poetry-core (PEP 621) project whose module is ``name`` in snake case."""
    module = name.replace("-", "_")
    project = root / name
    (project / "src" / module).mkdir(parents=True, exist_ok=True)
    (project / "src" / module / "__init__.py").write_text(body)
    (project / "README.md").write_text(readme if readme is not None else f"# {name}\n\nA test package.\n")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (project / "pyproject.toml").write_text(
        f"""[project]
name = "{name}"
version = "{version}"
description = "{name} for tests"
readme = "README.md"
requires-python = ">=3.9"
dependencies = [{deps}]

[tool.poetry]
packages = [{{ include = "{module}", from = "src" }}]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
    )
    return project
