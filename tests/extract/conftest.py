from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .legacy_repo import make_legacy_repo, tree_hashes


@pytest.fixture
def legacy_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fixture monorepo in a temp folder (also the working directory); it must come out of every test unchanged."""
    repo = make_legacy_repo(tmp_path / "acme-platform")
    monkeypatch.chdir(tmp_path)
    before = tree_hashes(repo)
    yield repo
    assert tree_hashes(repo) == before, "maestro extract modified the legacy repo"
