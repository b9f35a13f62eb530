"""A JSON object in maestro's cache folder: read once, written once (atomically), bounded.

What is kept is only ever a shortcut: a file that is missing, damaged or cannot be written costs the
work it would have saved, never a wrong answer or an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import fsutil


class CacheFile:
    """Entries by key, the newest last; past ``max_entries`` the oldest are dropped when saved."""

    def __init__(self, path: Path | None, *, max_entries: int) -> None:
        self.path = path  # None: nothing is kept
        self.max_entries = max_entries
        self._entries = self._load()
        self._changed = False

    def get(self, key: str) -> Any:
        return self._entries.get(key)

    def put(self, key: str, value: Any) -> None:
        if self.path is None:
            return
        self._entries.pop(key, None)  # to the end: the newest
        self._entries[key] = value
        self._changed = True

    def save(self) -> None:
        if self.path is None or not self._changed:
            return
        kept = dict(list(self._entries.items())[-self.max_entries :])
        fsutil.store_cache(self.path, json.dumps(kept, separators=(",", ":")))

    def _load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}
