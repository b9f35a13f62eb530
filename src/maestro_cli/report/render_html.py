"""The report as one self-contained HTML file, from ``templates/report/report.html.j2``.

Failures come first, with their details and links to screenshots and traces. Every test is in a
filterable table, but as JSON data that the page's script shows a page at a time: a browser
renders a few hundred rows whatever the size of the run, which is what keeps 100k tests usable
(a DOM row per test is what makes large HTML reports crash browsers).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..templating import render
from .aggregate import Report
from .history import RunPoint
from .model import AttachmentRef

MAX_TABLE_CASES = 200_000  # beyond this the table keeps every test that did not pass, then passes
JSON_BATCH = 5_000
MAX_COUNT_ROWS = 1_000  # suites or classes, those with most failures first
CHART_WIDTH, CHART_HEIGHT = 640, 140
_IMAGE_KINDS = frozenset(("screenshot", "image"))


def render_html(report: Report, output: Path | None = None) -> str:
    """``output`` is where the file will be written: attachment links are made relative to it."""
    base = output.resolve().parent if output is not None else None
    return render(
        "report/report.html.j2",
        autoescape=True,
        report=report,
        totals=report.totals,
        failures=[(failure, [_link(a, base) for a in failure.attachments]) for failure in report.failures],
        tables=[(label, rows[:MAX_COUNT_ROWS], len(rows)) for label, rows in (("suites", report.suites), ("classes", report.classes))],
        chart=_chart(report.trend) if len(report.trend) > 1 else None,
        cases_json=_cases_json(report),
        table_note=_table_note(report),
    )


def _link(attachment: AttachmentRef, base: Path | None) -> dict[str, Any]:
    path = Path(attachment.path)
    href = Path(os.path.relpath(path, base)).as_posix() if base is not None else path.absolute().as_uri()
    is_image = attachment.kind in _IMAGE_KINDS or (attachment.content_type or "").startswith("image/")
    return {"href": href, "kind": attachment.kind, "label": attachment.description or path.name, "image": is_image}


def _cases_json(report: Report) -> str:
    """Rows ``[outcome, suite, class, name, seconds, message]``, safe inside a <script> element.

    Encoded a batch at a time, so that only the text (not a list per row) is held for 200k rows.
    """
    pieces: list[str] = []
    batch: list[list[Any]] = []
    over = report.totals.tests > MAX_TABLE_CASES
    passes_allowed = MAX_TABLE_CASES - (report.totals.tests - report.totals.passed) if over else MAX_TABLE_CASES
    for case in report.cases() if report.spool_paths else ():
        if case.outcome == "passed":
            if passes_allowed <= 0:
                continue
            passes_allowed -= 1
        message = case.message.splitlines()[0][:300] if case.message else ""
        batch.append([case.outcome, case.suite, case.classname, case.name, round(case.time, 3), message])
        if len(batch) >= JSON_BATCH:
            pieces.append(_json_rows(batch))
            batch = []
    if batch:
        pieces.append(_json_rows(batch))
    return "[" + ",".join(pieces) + "]"


def _json_rows(rows: list[list[Any]]) -> str:
    # "<" escaped as \u003c: no test name can close the script element or open a comment
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))[1:-1].replace("<", "\\u003c")


def _table_note(report: Report) -> str | None:
    if report.totals.tests > MAX_TABLE_CASES:
        return f"{report.totals.tests} tests: the table holds every test that did not pass and the first passes, {MAX_TABLE_CASES} in all."
    return None


def _chart(points: list[RunPoint]) -> dict[str, Any]:
    """Polyline coordinates for pass rate (0-100 %) and duration (0-max) over the recorded runs."""
    step = CHART_WIDTH / (len(points) - 1)
    longest = max(p.time for p in points) or 1.0
    top, height = 10, CHART_HEIGHT - 20

    def polyline(values: list[float]) -> str:
        return " ".join(f"{i * step:.1f},{top + height * (1 - v):.1f}" for i, v in enumerate(values))

    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pass_rate": polyline([p.pass_rate for p in points]),
        "duration": polyline([p.time / longest for p in points]),
        "runs": [
            {"x": round(i * step, 1), "y": round(top + height * (1 - p.pass_rate), 1), "label": f"{p.generated}: {p.pass_rate:.1%} of {p.tests}, {p.time:.1f}s, {p.failed + p.errors} failing"}
            for i, p in enumerate(points)
        ],
        "first": points[0].generated,
        "last": points[-1].generated,
        "longest": longest,
    }

