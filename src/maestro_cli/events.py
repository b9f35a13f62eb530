"""Named events that cores emit and listeners (the audit log) receive, like pdm's signals.

Cores say *what happened* (``extract.written``, ``publish.uploaded``, ``plan.finished``) without
knowing who listens; the CLI decides which listeners are attached for one invocation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


# only __init__ generated: listeners read the fields, nothing assigns to them (see errors.Location)
@dataclass(repr=False, eq=False)
class Artifact:
    """Something an action produced or sent: a path or a URL, with the sha256 of its content."""

    path: str
    sha256: str | None = None

    @classmethod
    def from_file(cls, path: Path) -> Artifact:
        with open(path, "rb") as stream:
            digest = _sha256(os.fstat(stream.fileno()).st_size)
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return cls(str(path), digest.hexdigest())


# hashlib's SHA-256 is OpenSSL's: 5-6x faster than CPython's own, once its libcrypto is loaded,
# which takes 4-5 ms. Past a megabyte the speed repays the load; below it (a run's results.json,
# a pyproject.toml) CPython's own is done first.
_OPENSSL_FROM_SIZE = 1 << 20


def _sha256(size: int) -> Any:
    """A SHA-256 hash object for ``size`` bytes, from hashlib or, for a small file, CPython's own
    (the same digest; ``_sha256`` up to Python 3.11, ``_sha2`` from 3.12)."""
    if size < _OPENSSL_FROM_SIZE:
        try:
            from _sha256 import sha256
        except ImportError:
            try:
                from _sha2 import sha256
            except ImportError:  # an interpreter built without them
                from hashlib import sha256
    else:
        from hashlib import sha256
    return sha256()


@dataclass(repr=False, eq=False)
class Event:
    """One thing a core did, as the listeners (the audit log) receive it."""

    name: str
    outcome: str = "ok"
    artifacts: tuple[Artifact, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    # Folders the action promised not to write to (extract's legacy repo): a listener that would
    # write inside one of them (the project's audit log) must write somewhere else.
    read_only: tuple[Path, ...] = ()


Listener = Callable[[Event], None]

_lock = threading.Lock()
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Attach a listener; returns the function that detaches it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def emit(
    name: str,
    *,
    outcome: str = "ok",
    artifacts: Iterable[Artifact] = (),
    read_only: Iterable[Path] = (),
    **details: Any,
) -> None:
    event = Event(name=name, outcome=outcome, artifacts=tuple(artifacts), details=details, read_only=tuple(read_only))
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event)
