"""Fixtures for publish tests: one real pypiserver per session, proxies and projects per test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .projects import write_project
from .servers import PASSWORD, USER, FaultyProxy, PypiServer, running_pypiserver, running_proxy

_names = itertools.count()


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's keyring must neither answer for nor slow down a test."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@pytest.fixture(scope="session")
def pypiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    with running_pypiserver(tmp_path_factory.mktemp("pypiserver")) as server:
        yield server


@pytest.fixture
def proxy(pypiserver: PypiServer) -> Iterator[FaultyProxy]:
    with running_proxy(pypiserver.url) as running:
        yield running


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Project names no other test on the shared server uses."""
    stem = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:30].strip("-")

    def make(suffix: str = "") -> str:
        return f"t{next(_names)}-{stem}{'-' + suffix if suffix else ''}"

    return make


@pytest.fixture
def built(tmp_path: Path, unique_name: Callable[[str], str]) -> Callable[..., list[Path]]:
    """Build a fresh project with maestro's build core; returns its sdist and wheel."""
    from maestro_cli.publish.build import build_project

    def build(name: str | None = None, version: str = "1.0.0", **project_options: object) -> list[Path]:
        project = write_project(tmp_path / "src", name or unique_name(""), version, **project_options)  # type: ignore[arg-type]
        out = tmp_path / "dist" / project.name / version / str(next(_names))
        return [file.path for file in build_project(project, out).files]

    return build


@pytest.fixture
def publish_args() -> Callable[..., list[str | Path]]:
    """``publish`` arguments for a URL, with the test credentials."""

    def make(server_url: str, *extra: str | Path) -> list[str | Path]:
        return ["publish", "--repository-url", server_url, "-u", USER, "-p", PASSWORD, *extra]

    return make
