"""Every test case on disk, for the outputs that list them all (HTML's table, merged JUnit).

The report itself keeps only bounded summaries in memory; when an output needs every case, each
reader appends rows to a spool file of its own, and the renderers stream them back in input
order. Rows are pickled in batches: the files live in a private temporary folder that only this
process and its workers write, and pickle reads them back several times faster than JSON lines.
A ``None`` row ends the cases of one suite element.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .model import AttachmentRef, Case, clip

BATCH = 2_000  # rows per pickled batch: big enough to amortise pickling, small enough to stay bounded

# one row: (suite, classname, name, outcome, time), and for a case that did not pass also
# (file, line, kind, message, details, reruns, rerun_message, attachments)


class CaseSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[bytes] | None = open(path, "wb")
        self._batch: list[tuple[Any, ...] | None] = []

    def write(self, case: Case) -> None:
        row: tuple[Any, ...] = (case.suite, case.classname, case.name, case.outcome, case.time)
        if case.outcome != "passed":
            attachments = tuple((a.path, a.kind, a.content_type, a.description) for a in case.attachments)
            row += (case.file, case.line, case.kind, case.message, clip(case.details), case.reruns, case.rerun_message, attachments)
        self._append(row)

    def end_group(self) -> None:
        """Mark the end of one ``<testsuite>`` element: a merged report keeps it apart."""
        self._append(None)

    def _append(self, row: tuple[Any, ...] | None) -> None:
        self._batch.append(row)
        if len(self._batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        assert self._stream is not None
        if self._batch:
            pickle.dump(self._batch, self._stream, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def close(self) -> str:
        if self._stream is not None:
            self._flush()
            self._stream.close()
            self._stream = None
        return str(self.path)


def read_cases(paths: list[str]) -> Iterator[Case]:
    """The spooled cases, in the order they were read."""
    for group in read_groups(paths):
        yield from group


def read_groups(paths: list[str]) -> Iterator[list[Case]]:
    """The spooled cases, one list per suite element of the inputs."""
    group: list[Case] = []
    for row in _rows(paths):
        if row is None:
            if group:
                yield group
            group = []
            continue
        case = Case(*row[:5])
        if len(row) > 5:
            case.file, case.line, case.kind, case.message, case.details, case.reruns, case.rerun_message = row[5:12]
            case.attachments = [AttachmentRef(*entry) for entry in row[12]]
        group.append(case)
    if group:
        yield group


def _rows(paths: list[str]) -> Iterator[tuple[Any, ...] | None]:
    for path in paths:
        with open(path, "rb") as stream:
            while True:
                try:
                    batch = pickle.load(stream)
                except EOFError:
                    break
                yield from batch
