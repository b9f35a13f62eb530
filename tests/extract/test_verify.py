from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro_cli.extract.verify import verify_package


@pytest.mark.slow
@pytest.mark.parametrize("legacy_repo", ["failing"], indirect=True)
def test_failing_carried_tests_fail_the_verification_with_exit_1(legacy_repo: Path, run_cli) -> None:
    result = run_cli("extract", legacy_repo / "shared" / "resilience", "--name", "acme-resilience", "--verify", "--json")
    assert result.exit_code == 1
    verification = json.loads(result.stdout)["verification"]
    assert (verification["passed"], verification["stage"]) == (False, "tests")
    assert verification["summary"].startswith("1 failed, 4 passed")
    assert "test_opens_after_threshold" in verification["output"]
    package = Path("extracted/acme-resilience")
    assert package.is_dir()  # written, so the failure can be looked at
    assert not (package / "dist").exists() and not list(package.rglob("__pycache__"))  # verified on a copy


def test_a_package_that_does_not_build_fails_at_build(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "broken"\nversion = "0.1.0"\n[tool.poetry]\npackages = [{ include = "missing", from = "src" }]\n')
    (tmp_path / "src").mkdir()
    verification = verify_package(tmp_path, "missing", run_tests=False)
    assert (verification.passed, verification.stage) == (False, "build")
    assert verification.summary.startswith("the wheel did not build:")


@pytest.mark.slow
def test_carried_tests_run_the_way_pytest_runs_them_by_default(tmp_path: Path) -> None:
    # legacy suites import helpers lying beside them as top-level modules (pyyaml's test_appliance,
    # jinja2's res package): pytest's default import mode puts their folder on sys.path
    from maestro_cli.extract.writer import render_skeleton

    from .test_writer import CONTEXT

    for name, text in render_skeleton({**CONTEXT, "test_dependencies": ["pytest"]}, None).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "src" / "acme_tax").mkdir(parents=True)
    (tmp_path / "src" / "acme_tax" / "__init__.py").write_text("RATE = 2\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "rates.py").write_text("EXPECTED = 2\n")
    (tmp_path / "tests" / "test_tax.py").write_text("from rates import EXPECTED\n\nimport acme_tax\n\n\ndef test_rate():\n    assert acme_tax.RATE == EXPECTED\n")
    verification = verify_package(tmp_path, "acme_tax", run_tests=True)
    assert (verification.passed, verification.stage) == (True, "tests"), verification.output
