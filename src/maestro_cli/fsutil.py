"""Writing files so that a reader never sees half of one and nothing the user owns is lost."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from .errors import OutputExistsError

_UMASK_LOCK = threading.Lock()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; the result should have the mode any new file would get
        # (or keep the mode of the file it replaces)
        os.fchmod(fd, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    # reading the umask means setting it; _UMASK_LOCK keeps threads from seeing the 0 in between
    with _UMASK_LOCK:
        mask = os.umask(0)
        os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def store_cache(path: Path, data: bytes | str) -> None:
    """Write a cache file atomically, or not at all where its folder cannot be written.

    A cache is only ever a shortcut its reader rebuilds when it is missing or damaged: a read-only
    or full cache folder costs time, never correctness, so it is no error either.
    """
    try:
        atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
    except OSError:
        pass


def staging_dir_beside(target: Path) -> Path:
    """A fresh temporary folder on the same file system as ``target``, for an atomic rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))


def replace_dir(staged: Path, target: Path, *, force: bool) -> None:
    """Move a finished staging folder into place; an existing target needs ``force``."""
    if target.exists():
        if not force:
            shutil.rmtree(staged, ignore_errors=True)
            raise OutputExistsError.for_path(target)
        # rename the old one aside first so that a failure leaves either the old or the new tree
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, aside / "old")
        os.replace(staged, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staged, target)
