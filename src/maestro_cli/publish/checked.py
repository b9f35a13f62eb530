"""Files that passed every check before upload, remembered by file name and sha256.

The checks (metadata read from the archive, validated by packaging, the long description rendered)
cost more than uploading a small file, and their imports alone take ~40 ms. Their verdict is a
function of the file's bytes and name, so a file published again (a rerun CI job, TestPyPI then PyPI,
several indexes) is checked once. Only passes are kept, with what the upload needs from them; the
key includes maestro's version, so a release with other checks checks again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__, fsutil

# Entries kept at most, the oldest dropped first: a few hundred releases' worth of files.
MAX_ENTRIES = 2000


class CheckedFiles:
    """One JSON file in the cache folder, read once and written once (atomically) per publish."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "publish" / "checked.json" if cache_dir is not None else None
        self._entries: dict[str, dict[str, Any]] = self._load()
        self._changed = False

    def get(self, filename: str, sha256: str) -> dict[str, Any] | None:
        return self._entries.get(self._key(filename, sha256))

    def add(self, filename: str, sha256: str, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        key = self._key(filename, sha256)
        self._entries.pop(key, None)  # to the end: the newest
        self._entries[key] = entry
        self._changed = True

    def save(self) -> None:
        if self.path is None or not self._changed:
            return
        kept = dict(list(self._entries.items())[-MAX_ENTRIES:])
        try:
            fsutil.atomic_write_text(self.path, json.dumps(kept, separators=(",", ":")))
        except OSError:
            pass  # a cache that cannot be written only costs the checks next time

    @staticmethod
    def _key(filename: str, sha256: str) -> str:
        return f"{__version__} {filename} {sha256}"

    def _load(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return {}
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}
