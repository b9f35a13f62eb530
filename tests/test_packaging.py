"""The built wheel is complete: installed in a fresh venv, `maestro` runs and its templates render."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # in a subprocess: poetry-core's build changes the working directory
    subprocess.run(
        [sys.executable, "-c", "import sys; from poetry.core.masonry.api import build_wheel; print(build_wheel(sys.argv[1]))", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("maestro_cli-*.whl")
    return built


def test_wheel_ships_the_templates_inside_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "maestro_cli/templates/extract/README.md.j2" in names
    assert not any(name.startswith("templates/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "maestro=maestro_cli.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode().replace(" ", "")


@pytest.mark.slow
def test_installed_wheel_runs_and_renders_templates(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)], check=True, timeout=600)

    help_text = subprocess.run([env_dir / "bin" / "maestro", "--help"], capture_output=True, text=True, check=True).stdout
    assert "config" in help_text and "audit" in help_text

    probe = (
        "import json, maestro_cli, maestro_cli.templating as t;"
        "print(json.dumps({'package': maestro_cli.__file__, 'templates': str(t.templates_dir()),"
        "'rendered': t.render('extract/README.md.j2', dist_name='acme-retry', import_name='acme_retry',"
        "description='Retry helpers.', maestro_version='0.1.0', source_path='src/retry', repo_name='legacy', commit='abc123',"
        "optional_dependencies={'redis': ['redis>=5']})}))"
    )
    result = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path).stdout)
    assert result["package"].startswith(str(env_dir))
    assert result["templates"].startswith(str(env_dir))
    assert "# acme-retry" in result["rendered"] and "import acme_retry" in result["rendered"]
    assert 'pip install "acme-retry[redis]"' in result["rendered"]
