"""What the scan knows about each file (its import scan, content hash and fingerprint), from the
cheapest place that has it.

1. The repo's file index: one ``marshal`` file per repo and ``--min-lines`` keyed by path, mtime and
   size. A file whose stat is unchanged is neither read nor hashed, and the whole repo is one read.
2. The content-keyed cache ``maestro extract`` keeps its parses in (``extract.scan.ScanCache``):
   a file that changed stat but not content (a checkout, a copy) is read and hashed, not parsed.
   Fingerprints live there too, under keys naming the fingerprint version and ``--min-lines``.
3. Else parsing and fingerprinting. Worker processes on ``jobs`` cores take the files the index does
   not vouch for in chunks, and read, hash, look up, parse and fingerprint each one (2 and 3 above),
   sending back plain tuples; the cache rows they made are written by the caller, after the pass.

A file modified within ``_RACY_NS`` of the index being written is not trusted by stat next time (its
mtime could repeat with other content, as git's index knows): it is read and hashed again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..extract.scan import SCAN_VERSION, Scan, ScanCache, content_key, scan_source
from ..fsutil import store_cache
from .fingerprint import FINGERPRINT_VERSION, FilePrint, fingerprint_source

# (import scan, content hash, fingerprint) of one file
Facts = tuple[Scan, str, FilePrint]
# path -> (mtime_ns, size, content hash, import scan, fingerprint)
_IndexEntry = tuple[int, int, str, Scan, FilePrint]
# coarser than any file system's timestamps that maestro meets (FAT's are 2 s)
_RACY_NS = 2_000_000_000
_VANISHED = -1  # the mtime of a file that could not be stat'ed: no index entry matches it
# below this much source to parse, starting worker processes costs more than it saves
PARALLEL_THRESHOLD_BYTES = 256 * 1024
# a chunk of work is about 1/(jobs * _CHUNK_SHARE) of the bytes left, and at least _SMALLEST_CHUNK
# bytes (some 20 ms of parsing, against a few for handing it out)
_CHUNK_SHARE = 4
_SMALLEST_CHUNK = 64 * 1024


@dataclass
class Reading:
    facts: list[Facts]  # in the order of the files given
    save: Callable[[], None]  # writes what was new to the caches; another thread may run it


def read_sources(
    repos: Sequence[tuple[Path, Sequence[Path]]],
    *,
    min_lines: int,
    cache_dir: Path | None,
    jobs: int,
    meanwhile: Callable[[], None] = lambda: None,
) -> Reading:
    """The facts of every file of every ``(root, files)`` pair; ``meanwhile`` runs in this process
    while worker processes parse (or before the parsing, when there is none to hand out)."""
    started = time.time_ns()
    indexes = [_FileIndex.load(cache_dir, root, min_lines) for root, _ in repos]
    paths = [path for _, files in repos for path in files]
    facts: list[Facts | None] = [None] * len(paths)
    stats: list[tuple[int, int]] = []
    unread: list[int] = []
    position = 0
    for index, (_, files) in zip(indexes, repos, strict=True):
        for path in files:
            try:
                stat = os.stat(path)
                stats.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stats.append((_VANISHED, 0))  # gone since it was listed: read as empty, never trusted
            facts[position] = index.trusted(path, *stats[-1])
            if facts[position] is None:
                unread.append(position)
            position += 1
    work = [(position, str(paths[position]), stats[position][1]) for position in unread]
    new_rows: dict[str, object] = {}
    for position, key, scan, file_print, rows in _learn(work, min_lines, cache_dir, jobs, meanwhile):
        facts[position] = (scan, key, file_print)
        new_rows.update(rows)
    known: list[Facts] = facts  # type: ignore[assignment]  # every position is filled now

    def save() -> None:
        if cache_dir is not None and new_rows:
            cache = ScanCache.open(cache_dir)
            cache.put_many(new_rows)  # type: ignore[arg-type]
            cache.close()
        position = 0
        for index, (_, files) in zip(indexes, repos, strict=True):
            end = position + len(files)
            index.save_if_changed(files, stats[position:end], known[position:end], started)
            position = end

    return Reading(known, save)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError:
        return b""  # vanished since it was listed: nothing to import or compare


def _print_key(content: str, min_lines: int) -> str:
    return f"fingerprint-v{FINGERPRINT_VERSION}-{min_lines}-{content}"


_Work = tuple[int, str, int]  # (position, path, size)
# (position, content hash, import scan, fingerprint, the cache rows that were made for them)
_Learnt = tuple[int, str, Scan, FilePrint, dict[str, object]]


def _learn(work: list[_Work], min_lines: int, cache_dir: Path | None, jobs: int, meanwhile: Callable[[], None]) -> list[_Learnt]:
    """The facts of the files the index does not vouch for: read, hashed, looked up in the content
    cache and, where it has nothing, parsed and fingerprinted, all of it on ``jobs`` cores."""
    if jobs <= 1 or sum(size for _, _, size in work) < PARALLEL_THRESHOLD_BYTES:
        meanwhile()
        return _learn_chunk(work, min_lines, cache_dir)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    learnt: list[_Learnt] = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        # the first submit starts every worker, so ``meanwhile`` never runs beside a fork
        futures = [pool.submit(_learn_chunk, chunk, min_lines, cache_dir) for chunk in _chunks(work, jobs)]
        meanwhile()
        for future in futures:
            learnt += future.result()
    return learnt


def _learn_chunk(chunk: list[_Work], min_lines: int, cache_dir: Path | None) -> list[_Learnt]:
    contents = [_read(path) for _, path, _ in chunk]
    keys = [content_key(data) for data in contents]
    print_keys = [_print_key(key, min_lines) for key in keys]
    cached: dict[str, object] = {}
    if cache_dir is not None:
        cache = ScanCache.open(cache_dir)
        cached = cache.get_many([*keys, *print_keys])  # type: ignore[assignment]
        cache.close()
    learnt: list[_Learnt] = []
    for (position, _, _), data, key, print_key in zip(chunk, contents, keys, print_keys, strict=True):
        rows: dict[str, object] = {}
        scan = cached.get(key)
        if scan is None:
            scan = rows[key] = scan_source(data)
        file_print = cached.get(print_key)
        if file_print is None:
            file_print = rows[print_key] = fingerprint_source(data, min_lines)
        learnt.append((position, key, scan, file_print, rows))  # type: ignore[arg-type]
    return learnt


def _chunks(work: list[_Work], jobs: int) -> list[list[_Work]]:
    """The work in chunks, largest files first, each about a ``_CHUNK_SHARE`` of what is left
    (guided scheduling): big chunks while there is much to do, small ones at the end, so that no
    worker is left alone with a long last chunk while the others idle."""
    ordered = sorted(work, key=lambda item: -item[2])
    left = sum(size for _, _, size in ordered)
    chunks: list[list[_Work]] = [[]]
    chunk_size = 0
    for item in ordered:
        chunks[-1].append(item)
        chunk_size += item[2]
        if chunk_size >= max(_SMALLEST_CHUNK, left // (jobs * _CHUNK_SHARE)):
            left -= chunk_size
            chunks.append([])
            chunk_size = 0
    return [chunk for chunk in chunks if chunk]


class _FileIndex:
    """One repo's facts by path, mtime and size, in one ``marshal`` file; any trouble means an empty index."""

    def __init__(self, file: Path | None, written: int, entries: dict[str, _IndexEntry]) -> None:
        self.file = file
        self.written = written  # when the run that wrote it started, in ns
        self.entries = entries

    @classmethod
    def load(cls, cache_dir: Path | None, root: Path, min_lines: int) -> _FileIndex:
        if cache_dir is None:
            return cls(None, 0, {})
        digest = hashlib.blake2b(os.fsencode(root), digest_size=8).hexdigest()
        version = f"s{SCAN_VERSION}-f{FINGERPRINT_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
        file = cache_dir / "scan" / f"files-{version}-m{min_lines}-{digest}.marshal"
        try:
            written, entries = marshal.loads(file.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return cls(file, 0, {})
        return cls(file, written, entries) if isinstance(written, int) and isinstance(entries, dict) else cls(file, 0, {})

    def trusted(self, path: Path, mtime_ns: int, size: int) -> Facts | None:
        entry = self.entries.get(str(path))
        if entry is None or entry[0] != mtime_ns or entry[1] != size or mtime_ns >= self.written - _RACY_NS:
            return None
        return (entry[3], entry[2], entry[4])

    def save_if_changed(self, files: Sequence[Path], stats: list[tuple[int, int]], facts: list[Facts], started: int) -> None:
        if self.file is None:
            return
        entries = {
            str(path): (mtime_ns, size, key, scan, file_print)
            for path, (mtime_ns, size), (scan, key, file_print) in zip(files, stats, facts, strict=True)
        }
        # rewritten when anything changed, and while entries are too recent to trust by stat
        if entries == self.entries and not any(mtime >= self.written - _RACY_NS for mtime, _ in stats):
            return
        store_cache(self.file, marshal.dumps((started, entries)))
