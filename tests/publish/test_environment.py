"""Remembered answers to "does this environment satisfy the build requirements" follow installs."""

from __future__ import annotations

import os
import sys

from maestro_cli.publish.environment import satisfied


def test_an_answer_is_remembered_until_something_is_installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    cache = tmp_path / "cache"
    wanted = ["acme-not-installed>=1.0", "packaging>=20"]

    assert satisfied(wanted, cache_dir=cache) is False
    assert (cache / "build" / "environment.json").is_file()
    assert satisfied(wanted, cache_dir=cache) is False

    dist_info = site / "acme_not_installed-1.2.dist-info"  # what pip install leaves
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-not-installed\nVersion: 1.2\n")
    # file times tick with the kernel's coarse clock: an install within the same tick as the
    # folder's creation would not show; a real one comes later
    later = site.stat().st_mtime_ns + 1_000_000_000
    os.utime(site, ns=(later, later))
    assert satisfied(wanted, cache_dir=cache) is True
    assert satisfied(["acme-not-installed>=2"], cache_dir=cache) is False


def test_markers_that_do_not_apply_count_as_met_and_nothing_is_kept_without_a_cache_folder(tmp_path):
    assert satisfied(["acme-not-installed; python_version < '3'"]) is True
    assert satisfied([]) is True
    assert satisfied(["not a requirement!"], cache_dir=tmp_path) is False
