"""Every test case on disk, for the outputs that list them all (HTML's table, merged JUnit).

The report itself keeps only bounded summaries in memory; when an output needs every case, each
reader appends compact JSON lines to a spool file beside the others, and the renderers stream
them back in input order. An empty row ends the cases of one suite element.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .model import AttachmentRef, Case, clip

# one row: [suite, classname, name, outcome, time], and for a case that did not pass:
# [..., file, line, kind, message, details, reruns, rerun_message, attachments]


class CaseSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[str] | None = open(path, "w", encoding="utf-8")

    def write(self, case: Case) -> None:
        assert self._stream is not None
        failing = case.outcome != "passed"
        row = [case.suite, case.classname, case.name, case.outcome, case.time]
        if failing:
            row += [
                case.file,
                case.line,
                case.kind,
                case.message,
                clip(case.details),
                case.reruns,
                case.rerun_message,
                [[a.path, a.kind, a.content_type, a.description] for a in case.attachments],
            ]
        self._stream.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

    def end_group(self) -> None:
        """Mark the end of one ``<testsuite>`` element: a merged report keeps it apart."""
        assert self._stream is not None
        self._stream.write("[]\n")

    def close(self) -> str:
        if self._stream is not None:
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
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                row = json.loads(line)
                if not row:
                    if group:
                        yield group
                    group = []
                    continue
                case = Case(row[0], row[1], row[2], row[3], row[4])
                if len(row) > 5:
                    case.file, case.line, case.kind, case.message, case.details = row[5:10]
                    case.reruns, case.rerun_message = row[10:12]
                    case.attachments = [AttachmentRef(*entry) for entry in row[12]]
                group.append(case)
    if group:
        yield group
