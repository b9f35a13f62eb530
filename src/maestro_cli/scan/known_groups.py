"""The duplicate groups of the last scan of the same repos, kept while no fingerprint changed.

Grouping is a pure function of the units and ``--similarity``, and the units are a pure function of
each file's repo, relative path and fingerprint cache key (content hash, fingerprint version and
``--min-lines``). So the groups are stored under a digest of exactly those, in one ``marshal`` file per
set of repos and options that the next scan replaces; a scan of unchanged repos reads them back instead
of building every unit and comparing their bands again. Any trouble with the file means no groups.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from ..fsutil import store_cache
from .fingerprint import FINGERPRINT_VERSION
from .model import DuplicateGroup, DuplicateMember

# bump when grouping changes (thresholds, banding, what is left out): stored groups are then not reused
GROUPING_VERSION = 1


class KnownGroups:
    def __init__(self, file: Path | None, inputs: str) -> None:
        self.file = file
        self.inputs = inputs  # digest of everything the groups depend on

    @classmethod
    def for_scan(
        cls, cache_dir: Path | None, roots: Iterable[Path], similarity: float, min_lines: int, files: Iterable[tuple[str, str, str]]
    ) -> KnownGroups:
        """``files``: (repo name, path relative to it, content hash) of every file, in scan order."""
        options = f"g{GROUPING_VERSION}-f{FINGERPRINT_VERSION}-py{sys.version_info.major}{sys.version_info.minor}-{similarity!r}-{min_lines}"
        inputs = hashlib.blake2b(options.encode(), digest_size=16)
        for repo, path, key in files:
            inputs.update(f"{repo}\0{path}\0{key}\n".encode())
        if cache_dir is None:
            return cls(None, inputs.hexdigest())
        scope = hashlib.blake2b(options.encode(), digest_size=8)
        for root in roots:
            scope.update(os.fsencode(root) + b"\0")
        return cls(cache_dir / "scan" / f"groups-{scope.hexdigest()}.marshal", inputs.hexdigest())

    def load(self) -> list[DuplicateGroup] | None:
        if self.file is None:
            return None
        try:
            inputs, groups = marshal.loads(self.file.read_bytes())
            if inputs != self.inputs:
                return None
            return [
                DuplicateGroup(kind, similarity, tuple(DuplicateMember(*member) for member in members))
                for kind, similarity, members in groups
            ]
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def save(self, groups: list[DuplicateGroup]) -> None:
        if self.file is None:
            return
        stored = [
            (g.kind, g.similarity, tuple((m.repo, m.path, m.name, m.start, m.end, m.similarity) for m in g.members))
            for g in groups
        ]
        store_cache(self.file, marshal.dumps((self.inputs, stored)))
