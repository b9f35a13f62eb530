"""Rendering a report to text in one of the file formats, and writing it where the user asked."""

from __future__ import annotations

import json
from pathlib import Path

from .. import events
from ..errors import OutputExistsError
from ..fsutil import atomic_write_bytes, atomic_write_text
from .aggregate import Report

CASE_FORMATS = frozenset(("html", "junit"))  # formats that list every test, not only summaries


def render_text(report: Report, fmt: str, output: Path | None = None) -> str:
    """The report in a text format (every format but ``table``, which the command renders)."""
    if fmt == "json":
        from .render_json import to_document

        return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        from .render_markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from .render_html import render_html

        return render_html(report, output)
    from .render_junit import render_junit

    return render_junit(report).decode()


def check_output(output: Path, force: bool) -> None:
    """Refuse early, before any input is read, to replace a file the user has."""
    if output.exists() and not force:
        raise OutputExistsError.for_path(output)


def write_output(report: Report, fmt: str, output: Path, force: bool) -> None:
    check_output(output, force)
    if fmt == "junit":
        from .render_junit import render_junit

        atomic_write_bytes(output, render_junit(report))
    else:
        atomic_write_text(output, render_text(report, fmt, output))
    events.emit("report.written", artifacts=[events.Artifact.from_file(output)], format=fmt, tests=report.totals.tests)


def exit_code(report: Report, fail_on: str) -> int:
    """1 when the results hold what ``--fail-on`` names, else 0."""
    totals = report.totals
    if fail_on == "failures":
        return 1 if totals.failing else 0
    if fail_on == "errors":
        return 1 if totals.errors else 0
    return 0
