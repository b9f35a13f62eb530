"""`maestro build`: in-process through poetry-core, isolated for other backends, never overwriting."""

from __future__ import annotations

import json
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from maestro_cli import audit

from .projects import write_project

pytestmark = pytest.mark.slow

IN_TREE_BACKEND = '''
import io, os, sys, tarfile, zipfile

META = "Metadata-Version: 2.1\\nName: tiny-inhouse\\nVersion: 0.1.0\\nSummary: s\\nDescription-Content-Type: text/markdown\\n\\n# tiny\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "tiny_inhouse-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        archive.writestr("tiny_inhouse/__init__.py", "")
        archive.writestr("tiny_inhouse/built_by.txt", sys.prefix)
        archive.writestr("tiny_inhouse-0.1.0.dist-info/METADATA", META)
        archive.writestr("tiny_inhouse-0.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
        archive.writestr("tiny_inhouse-0.1.0.dist-info/RECORD", "")
    return name


def build_sdist(sdist_directory, config_settings=None):
    name = "tiny_inhouse-0.1.0.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        data = META.encode()
        info = tarfile.TarInfo("tiny_inhouse-0.1.0/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return name
'''


def test_build_writes_sdist_and_wheel_in_process_and_audits_them(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = write_project(tmp_path, "acme-built")
    result = run_cli("build", project, "--json")
    assert result.exit_code == 0, result.stderr
    [built] = json.loads(result.stdout)["projects"]
    assert (built["backend"], built["isolated"]) == ("poetry.core.masonry.api", False)
    names = sorted(Path(f["path"]).name for f in built["files"])
    assert names == ["acme_built-1.0.0-py3-none-any.whl", "acme_built-1.0.0.tar.gz"]
    assert sorted(p.name for p in (project / "dist").iterdir()) == names
    records = [r for r in audit.read_records(tmp_path / ".maestro" / "audit.jsonl") if r["action"] == "build.built"]
    assert sorted(r["artifacts"][0]["path"] for r in records) == names


def test_existing_files_are_kept_unless_force(run_cli, tmp_path):
    project = write_project(tmp_path, "acme-kept")
    assert run_cli("build", project, "--no-sdist").exit_code == 0
    wheel = project / "dist" / "acme_kept-1.0.0-py3-none-any.whl"
    before = wheel.read_bytes()
    (project / "src" / "acme_kept" / "__init__.py").write_text("VALUE = 2\n")

    refused = run_cli("build", project, "--no-sdist")
    assert refused.exit_code == 2
    assert f"error: {wheel} already exists" in refused.stderr and "hint: pass --force" in refused.stderr
    assert wheel.read_bytes() == before

    assert run_cli("build", project, "--no-sdist", "--force").exit_code == 0
    assert wheel.read_bytes() != before
    assert [p.name for p in (project / "dist").iterdir()] == [wheel.name]  # no staging left behind


def test_a_backend_failure_is_bad_input_with_the_backends_reason(run_cli, tmp_path):
    project = write_project(tmp_path, "acme-broken")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('name = "acme-broken"', 'name = "acme broken!"'))
    result = run_cli("build", project)
    assert result.exit_code == 2
    assert "poetry.core.masonry.api failed to build a sdist: The Poetry configuration is invalid" in result.stderr
    assert "project.name must match pattern" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--no-sdist", "--no-wheel"], "error: nothing to build: --no-sdist and --no-wheel together leave nothing"),
        (["nowhere"], "error: nowhere: not a project folder (no pyproject.toml or setup.py)"),
    ],
)
def test_bad_requests_exit_2(run_cli, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, "acme-ok")
    result = run_cli("build", *(arguments if "nowhere" in arguments else [*arguments, "acme-ok"]))
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_backend_maestro_lacks_is_built_in_an_isolated_environment(run_cli, tmp_path):
    project = tmp_path / "tiny"
    (project / "backend").mkdir(parents=True)
    (project / "backend" / "tiny_backend.py").write_text(IN_TREE_BACKEND)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = []
            build-backend = "tiny_backend"
            backend-path = ["backend"]
            """
        )
    )
    result = run_cli("build", project, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.stderr
    [built] = json.loads(result.stdout)["projects"]
    assert (built["backend"], built["isolated"]) == ("tiny_backend", True)
    with zipfile.ZipFile(tmp_path / "out" / "tiny_inhouse-0.1.0-py3-none-any.whl") as wheel:
        built_by = wheel.read("tiny_inhouse/built_by.txt").decode()
    assert built_by != sys.prefix and "maestro-build-env-" in built_by
    assert (tmp_path / "out" / "tiny_inhouse-0.1.0.tar.gz").is_file()


def test_a_setup_py_that_exits_is_a_build_error_not_an_exit(run_cli, tmp_path):
    project = tmp_path / "legacy"
    project.mkdir()
    (project / "setup.py").write_text("import sys\nsys.exit('this setup.py refuses to run')\n")
    result = run_cli("build", project, "--no-wheel")
    assert result.exit_code == 2
    assert "setuptools.build_meta:__legacy__ failed to get the requirements of a sdist: this setup.py refuses to run" in result.stderr


def _build_in_a_new_process(project: Path, out: Path, cache: Path) -> tuple[int, dict[str, str], str]:
    """`maestro build --json` as a user runs it: poetry-core's modules fresh, the cache as given."""
    import os
    import subprocess

    maestro = Path(sys.executable).parent / "maestro"
    environment = {**os.environ, "MAESTRO_CACHE_DIR": str(cache)}
    done = subprocess.run([maestro, "build", project, "--out", out, "--json"], capture_output=True, text=True, env=environment)
    files = {} if done.returncode else {Path(f["path"]).name: f["sha256"] for f in json.loads(done.stdout)["projects"][0]["files"]}
    return done.returncode, files, done.stderr


def test_poetry_cores_start_up_work_is_cached_and_changes_no_byte_built(tmp_path):
    project = write_project(tmp_path / "src", "acme-cached", dependencies=("packaging>=20; python_version >= '3.8'",))
    cache = tmp_path / "cache"
    cold = _build_in_a_new_process(project, tmp_path / "cold", cache)
    assert cold[0] == 0, cold[2]
    kept = sorted(p.name.split("-")[0] for p in (cache / "build" / "poetry-core").iterdir())
    assert kept == ["pep508", "poetry", "project"]  # the line with a marker needs lark; two schemas

    assert _build_in_a_new_process(project, tmp_path / "warm", cache)[:2] == cold[:2]

    for entry in (cache / "build" / "poetry-core").iterdir():
        entry.write_bytes(b"damaged")
    assert _build_in_a_new_process(project, tmp_path / "damaged", cache)[:2] == cold[:2]
    assert not any(p.read_bytes() == b"damaged" for p in (cache / "build" / "poetry-core").iterdir())

    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('name = "acme-cached"', 'name = "acme cached!"'))
    code, _files, stderr = _build_in_a_new_process(project, tmp_path / "invalid", cache)
    assert code == 2
    assert "project.name must match pattern" in stderr  # the cached validators still validate


def _sha256s(folder: Path) -> dict[str, str]:
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_first_build_skips_what_it_does_not_need_and_builds_poetry_cores_very_bytes(tmp_path):
    """Simple dependency lines need no grammar, a small pyproject a fraction of the schemas;
    the files are those poetry-core builds on its own, byte for byte."""
    import subprocess

    lines = ("packaging>=20", "httpx[http2, socks] >= 0.27, <1", "tomli; python_version < '3.11'", "rich")
    project = write_project(tmp_path / "src", "acme-first", dependencies=lines)
    cache = tmp_path / "cache"
    code, files, stderr = _build_in_a_new_process(project, tmp_path / "maestro", cache)
    assert code == 0, stderr
    assert sorted(p.name.split("-")[0] for p in (cache / "build" / "poetry-core").iterdir()) == ["pep508", "poetry", "project"]

    backend = "import sys, poetry.core.masonry.api as api; api.build_sdist(sys.argv[1]); api.build_wheel(sys.argv[1])"
    (tmp_path / "poetry").mkdir()
    subprocess.run([sys.executable, "-c", backend, tmp_path / "poetry"], cwd=project, check=True, capture_output=True)
    assert files == _sha256s(tmp_path / "poetry")

    simple = write_project(tmp_path / "src", "acme-simple", dependencies=lines[:2])
    code, _files, stderr = _build_in_a_new_process(simple, tmp_path / "simple", tmp_path / "cache-simple")
    assert code == 0, stderr
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache-simple" / "build" / "poetry-core").iterdir()) == ["poetry", "project"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('dependencies = []', 'dependencies = ["packaging >= 20 ; python_version <"]'), "The requirement is invalid: Unexpected"),
        (('packages = [{ include', 'packages = [{ includes'), "tool.poetry.packages[0] must contain ['include'] properties"),
        (('readme = "README.md"', 'readme = 3'), "project.readme must be valid exactly by one definition"),
    ],
)
def test_a_first_build_rejects_an_invalid_pyproject_with_poetry_cores_message(tmp_path, change, message):
    project = write_project(tmp_path / "src", "acme-invalid")
    pyproject = project / "pyproject.toml"
    assert change[0] in pyproject.read_text()
    pyproject.write_text(pyproject.read_text().replace(*change))
    code, _files, stderr = _build_in_a_new_process(project, tmp_path / "out", tmp_path / "cache")
    assert code == 2
    assert "poetry.core.masonry.api failed to build a sdist" in stderr and message in stderr
