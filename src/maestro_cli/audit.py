"""The audit log: append-only JSON Lines, one record per action that changed something.

Safe under concurrent writers: each record is one ``write`` on an ``O_APPEND`` descriptor while an
exclusive ``flock`` is held, so lines from several processes never interleave or tear.
"""

from __future__ import annotations

import fcntl
import getpass
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__, redaction
from .errors import InputError, Location
from .events import Event

EXPORT_FORMATS = ("jsonl", "json", "csv")
CSV_FIELDS = ("timestamp", "command", "action", "outcome", "user", "host", "version", "arguments", "artifacts")


# only __init__ generated: the rest would be compiled at every audited start for nothing (see errors.Location)
@dataclass(repr=False, eq=False)
class AuditLog:
    """Listens to core events and appends a record for each, on behalf of one command invocation."""

    path: Path
    command: str
    argv: list[str]

    def __call__(self, event: Event) -> None:
        self.append(self.record_for(event))

    def record_for(self, event: Event) -> dict[str, Any]:
        return {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user": _user(),
            "host": os.uname().nodename,  # what gethostname() returns, without importing socket
            "version": __version__,
            "command": self.command,
            "arguments": redaction.scrub_argv(self.argv),
            "action": event.name,
            "outcome": event.outcome,
            "artifacts": [{"path": a.path, "sha256": a.sha256} for a in event.artifacts],
            "details": event.details,
        }

    def append(self, record: dict[str, Any]) -> None:
        line = redaction.scrub(json.dumps(record, default=str, ensure_ascii=False)) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = line.encode("utf-8")
            written = 0
            while written < len(data):  # a short write on a full disk must not leave half a line
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)  # closing releases the lock


def user_audit_path() -> Path:
    """The audit file used when the project's own would fall inside a folder maestro must not touch."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("maestro")) / "audit.jsonl"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record in the log; a damaged line is an error naming the file and line."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"damaged audit record: {exc.msg}", location=Location(str(path), number, exc.colno)) from None
            yield record


def parse_since(text: str) -> datetime:
    """``2026-11-01``, ``2026-11-01T12:00`` or a full ISO timestamp; naive values are UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since: '{text}' is not a date such as 2026-11-01 or 2026-11-01T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select(records: Iterable[dict[str, Any]], *, since: datetime | None = None, command: str | None = None) -> list[dict[str, Any]]:
    chosen = []
    for record in records:
        if command and record.get("command") != command:
            continue
        if since and datetime.fromisoformat(record["timestamp"]) < since:
            continue
        chosen.append(record)
    return chosen


def export(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        import csv  # only for this export: every audited command imports this module

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            row = dict(record)
            row["arguments"] = " ".join(record.get("arguments", []))
            row["artifacts"] = " ".join(
                f"{a['path']}@sha256:{a['sha256']}" if a.get("sha256") else a["path"]
                for a in record.get("artifacts", [])
            )
            writer.writerow(row)
        return buffer.getvalue()
    raise InputError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)}")
