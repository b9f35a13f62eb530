"""A rescan of unchanged repos reads the duplicate groups back; any change to their inputs groups again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maestro_cli.scan import judging
from maestro_cli.scan.engine import ScanRequest, scan

from .conftest import FIXTURES


def no_grouping(*args: object) -> None:
    raise AssertionError("grouped again")


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    copied = tmp_path / "repos"
    shutil.copytree(FIXTURES, copied)
    return copied


def test_a_rescan_reads_the_groups_back(repos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = ScanRequest(paths=(repos,), cache_dir=tmp_path / "cache", jobs=1)
    first = scan(request)
    assert first.duplicates
    monkeypatch.setattr(judging, "find_duplicates", no_grouping)
    assert scan(request) == first


@pytest.mark.parametrize("change", ["similarity", "min_lines", "file", "corrupt"])
def test_a_change_to_what_the_groups_depend_on_groups_again(repos: Path, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    scan(ScanRequest(paths=(repos,), cache_dir=cache, jobs=1))
    request = ScanRequest(paths=(repos,), cache_dir=cache, jobs=1)
    if change == "similarity":
        request = ScanRequest(paths=(repos,), cache_dir=cache, jobs=1, similarity=0.97)
    elif change == "min_lines":
        request = ScanRequest(paths=(repos,), cache_dir=cache, jobs=1, min_lines=5)
    elif change == "file":
        # the shipping copy of the registry is emptied: the cross-repo group is gone
        (repos / "shipping-service" / "shipping" / "common" / "service_registry.py").write_text("")
    else:
        for stored in (cache / "scan").glob("groups-*.marshal"):
            stored.write_bytes(b"\x00not marshal")
    expected = scan(ScanRequest(paths=request.paths, jobs=1, similarity=request.similarity, min_lines=request.min_lines))
    assert scan(request) == expected
    if change == "file":
        assert not any(len(group.repos) > 1 for group in expected.duplicates)
