"""Atomic writes: whole files only, the usual permissions, nothing overwritten without force."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from maestro_cli.errors import OutputExistsError
from maestro_cli.fsutil import atomic_write_text, replace_dir, staging_dir_beside, store_cache


def test_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<html></html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def test_replacing_a_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old")
    target.chmod(0o750)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o750


def test_replace_dir_needs_force_and_keeps_the_old_tree_otherwise(tmp_path: Path) -> None:
    target = tmp_path / "out" / "pkg"
    target.mkdir(parents=True)
    (target / "mine.txt").write_text("user's file")
    staged = staging_dir_beside(target)
    (staged / "new.txt").write_text("new")
    with pytest.raises(OutputExistsError, match="already exists"):
        replace_dir(staged, target, force=False)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert not staged.exists()

    staged = staging_dir_beside(target)
    (staged / "new.txt").write_text("new")
    replace_dir(staged, target, force=True)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in target.parent.iterdir()] == ["pkg"]  # nothing left aside


def test_store_cache_writes_text_and_bytes(tmp_path: Path) -> None:
    store_cache(tmp_path / "cache" / "a.json", '{"k": 1}')
    store_cache(tmp_path / "cache" / "b.bin", b"\x00\x01")
    assert (tmp_path / "cache" / "a.json").read_text() == '{"k": 1}'
    assert (tmp_path / "cache" / "b.bin").read_bytes() == b"\x00\x01"


def test_store_cache_where_the_folder_cannot_be_made_is_no_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    store_cache(blocker / "entry.json", "{}")  # an OSError from mkdir, swallowed
    assert blocker.read_text() == "a file where the cache folder would go"
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-folder"]
