"""A second scan reads an unchanged repo from its file index, and never trusts a stat that could lie."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from maestro_cli.scan import sources
from maestro_cli.scan.engine import ScanRequest, scan

HOUR_NS = 3600 * 10**9


def legacy_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "legacy"
    repo.mkdir()
    (repo / "requirements.txt").write_text("")
    (repo / "fine.py").write_text("import json\n")
    (repo / "other.py").write_text("x = 1\n")
    return repo


def age(path: Path, ns: int) -> None:
    """Set the mtime ``ns`` nanoseconds back from now, as a file untouched for a while has it."""
    then = time.time_ns() - ns
    os.utime(path, ns=(then, then))


def no_reading(path: Path) -> bytes:
    raise AssertionError(f"read {path} although its stat is unchanged")


def test_an_unchanged_repo_is_read_from_its_index_without_opening_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = legacy_repo(tmp_path)
    for path in repo.glob("*.py"):
        age(path, HOUR_NS)
    request = ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1)
    first = scan(request)
    monkeypatch.setattr(sources, "_read", no_reading)
    assert scan(request) == first


def test_a_file_whose_stat_changed_is_read_again(tmp_path: Path) -> None:
    repo = legacy_repo(tmp_path)
    other = repo / "other.py"
    for path in repo.glob("*.py"):
        age(path, 2 * HOUR_NS)
    request = ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1)
    assert scan(request).summary.unparsable_files == 0
    other.write_text("x = (\n")  # the same size, and a syntax error
    age(other, HOUR_NS)
    assert scan(request).summary.unparsable_files == 1


def test_a_file_rewritten_within_the_same_timestamp_is_not_trusted(tmp_path: Path) -> None:
    repo = legacy_repo(tmp_path)
    other = repo / "other.py"
    request = ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1)
    assert scan(request).summary.unparsable_files == 0
    stat = other.stat()
    other.write_text("x = (\n")  # the same size; a coarse clock would give it the same mtime too
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert scan(request).summary.unparsable_files == 1


def test_a_corrupt_index_is_no_index(tmp_path: Path) -> None:
    repo = legacy_repo(tmp_path)
    for path in repo.glob("*.py"):
        age(path, HOUR_NS)
    request = ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1)
    first = scan(request)
    [index] = (tmp_path / "cache" / "scan").glob("files-*.marshal")
    index.write_bytes(b"\x00not marshal")
    assert scan(request) == first


def test_parallel_workers_give_what_one_process_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = legacy_repo(tmp_path)
    for number in range(12):
        (repo / f"m{number}.py").write_text("import os\n\n" + "def f():\n    return os.sep\n" * (number + 3))
    (repo / "broken.py").write_text("print 'python 2'\n")
    alone = scan(ScanRequest(paths=(repo,), jobs=1, min_lines=2))
    monkeypatch.setattr(sources, "PARALLEL_THRESHOLD_BYTES", 0)
    assert scan(ScanRequest(paths=(repo,), jobs=2, min_lines=2)) == alone


def test_a_file_that_vanishes_after_the_listing_reads_as_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.scan import engine

    repo = legacy_repo(tmp_path)
    listing = engine.find_repos

    def listed_then_deleted(paths: tuple[Path, ...], warnings: list[str]) -> list:  # type: ignore[type-arg]
        repos = listing(paths, warnings)
        (repo / "other.py").unlink()
        return repos

    monkeypatch.setattr(engine, "find_repos", listed_then_deleted)
    report = scan(ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1))
    assert report.summary.files == 2
    assert {c.module: c.loc for c in report.candidates}["other"] == 0
