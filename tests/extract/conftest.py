from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .legacy_repo import git, make_legacy_repo, tree_hashes

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"


@pytest.fixture
def legacy_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The fixture monorepo in a temp folder (also the working directory); it must come out of every test unchanged.

    Parametrized indirectly with "links", SOURCE also holds a link to a file outside the repo and a
    binary file; with "failing", one of the tests that come along fails.
    """
    repo = make_legacy_repo(tmp_path / "acme-platform")
    if getattr(request, "param", None) == "failing":
        test = repo / "tests" / "shared" / "test_breaker.py"
        test.write_text(test.read_text().replace('"open": True', '"open": False'))
        git(repo, "commit", "--quiet", "--all", "-m", "A test that fails")
    if getattr(request, "param", None) == "links":
        (tmp_path / "secret.txt").write_text("not yours")
        os.symlink(tmp_path / "secret.txt", repo / "shared" / "resilience" / "data" / "secret.txt")
        (repo / "shared" / "resilience" / "data" / "logo.png").write_bytes(PNG_BYTES)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", "Data with a link and a binary")
    monkeypatch.chdir(tmp_path)
    before = tree_hashes(repo)
    yield repo
    assert tree_hashes(repo) == before, "maestro extract modified the legacy repo"
