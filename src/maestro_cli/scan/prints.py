"""Fingerprints of many files: from the cache ``maestro extract`` keeps its parses in, else made on ``jobs`` cores.

They are stored in the same cache as extract's import scans (``extract.scan.ScanCache``), under keys
of their own that name the fingerprint version and ``min_lines``, beside the content hash that
extract's scan already computed for each file.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from ..extract.scan import ScanCache
from .fingerprint import FINGERPRINT_VERSION, FilePrint, fingerprint_source

# below this many files, starting worker processes costs more than it saves
PARALLEL_THRESHOLD_FILES = 64


def fingerprint_files(
    paths: Sequence[Path], content_keys: Sequence[str], *, min_lines: int, cache_dir: Path | None, jobs: int
) -> list[FilePrint]:
    """Each file's fingerprint, in order; ``content_keys`` are the hashes extract's scan returned."""
    keys = [f"fingerprint-v{FINGERPRINT_VERSION}-{min_lines}-{key}" for key in content_keys]
    cache = ScanCache.open(cache_dir) if cache_dir is not None else None
    found: dict[str, FilePrint] = cache.get_many(keys) if cache is not None else {}  # type: ignore[assignment]
    missing = [i for i, key in enumerate(keys) if key not in found]
    fresh = _fingerprint_many([paths[i] for i in missing], min_lines, jobs)
    for index, print_ in zip(missing, fresh, strict=True):
        found[keys[index]] = print_
    if cache is not None:
        cache.put_many({keys[i]: found[keys[i]] for i in missing})  # type: ignore[misc]
        cache.close()
    return [found[key] for key in keys]


def _fingerprint_path(path: Path, min_lines: int) -> FilePrint:
    try:
        data = path.read_bytes()
    except OSError:
        data = b""  # vanished since extract's scan read it: nothing to compare
    return fingerprint_source(data, min_lines)


def _fingerprint_many(paths: list[Path], min_lines: int, jobs: int) -> list[FilePrint]:
    work = partial(_fingerprint_path, min_lines=min_lines)
    if jobs <= 1 or len(paths) < PARALLEL_THRESHOLD_FILES:
        return [work(path) for path in paths]
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return list(pool.map(work, paths, chunksize=max(1, len(paths) // (jobs * 8))))
