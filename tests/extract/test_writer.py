from __future__ import annotations

import tomllib

from maestro_cli.extract.writer import render_skeleton

CONTEXT = {
    "dist_name": "acme-tax", "import_name": "acme_tax", "version": "0.1.0", "description": 'Tax "rules"',
    "requires_python": ">=3.8", "dependencies": [], "optional_dependencies": {}, "test_dependencies": ["pytest"],
    "packages": ["acme_tax"], "source_path": "billing/tax.py", "repo_name": "legacy", "commit": "", "date": "2026-01-01",
    "maestro_version": "0.1.0",
}


def test_no_dependencies_render_as_an_empty_list_on_one_line() -> None:
    pyproject = render_skeleton(CONTEXT, None)["pyproject.toml"]
    assert "dependencies = []\n" in pyproject
    assert tomllib.loads(pyproject)["project"]["description"] == 'Tax "rules"'
    with_one = render_skeleton({**CONTEXT, "dependencies": ["PyYAML>=6"]}, None)["pyproject.toml"]
    assert 'dependencies = [\n    "PyYAML>=6",\n]\n' in with_one
