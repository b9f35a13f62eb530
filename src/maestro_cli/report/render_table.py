"""The report as rich tables for a terminal: totals, failing tests, flaky tests, the slowest.

Imported by the command only when it prints a table, so the core never loads rich.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .aggregate import Report

MAX_FAILURE_ROWS = 30


def render_table(report: Report) -> RenderableType:
    parts: list[RenderableType] = [_totals(report)]
    if report.failures:
        parts.append(_failures(report))
    if report.flaky:
        table = Table(title=f"flaky tests ({len(report.flaky)})", title_justify="left")
        table.add_column("test")
        table.add_column("evidence")
        for flaky in report.flaky[:MAX_FAILURE_ROWS]:
            table.add_row(Text(f"{flaky.classname} › {flaky.name}"), Text(flaky.evidence))
        parts.append(table)
    if report.slowest:
        table = Table(title=f"slowest {len(report.slowest)} tests", title_justify="left")
        table.add_column("test")
        table.add_column("time", justify="right")
        for slow in report.slowest:
            table.add_row(Text(f"{slow.classname or slow.suite} › {slow.name}"), f"{slow.time:.3f}s")
        parts.append(table)
    if report.trend and len(report.trend) > 1:
        rates = " → ".join(f"{p.pass_rate:.0%}" for p in report.trend[-10:])
        parts.append(Text(f"pass rate over the last {min(len(report.trend), 10)} runs: {rates}"))
    return Group(*parts)


def _totals(report: Report) -> Table:
    totals = report.totals
    table = Table(title=Text(report.title), title_justify="left")
    for column in ("tests", "passed", "failed", "errors", "skipped", "flaky", "time"):
        table.add_column(column, justify="right")
    table.add_row(
        str(totals.tests),
        Text(str(totals.passed), style="green"),
        Text(str(totals.failed), style="red" if totals.failed else ""),
        Text(str(totals.errors), style="red" if totals.errors else ""),
        str(totals.skipped),
        Text(str(totals.flaky), style="yellow" if totals.flaky else ""),
        f"{totals.time:.2f}s",
    )
    return table


def _failures(report: Report) -> Table:
    shown = report.failures[:MAX_FAILURE_ROWS]
    more = report.failures_total - len(shown)
    title = f"failing tests ({report.failures_total})" + (f", first {len(shown)} shown" if more else "")
    table = Table(title=title, title_justify="left")
    table.add_column("test")
    table.add_column("kind")
    table.add_column("message")
    if report.baseline is not None:
        table.add_column("since baseline")
    for failure in shown:
        message = (failure.message or "").splitlines()[0][:200] if failure.message else ""
        row = [f"{failure.classname or failure.suite} › {failure.name}", failure.kind, message]
        if report.baseline is not None:
            row.append(failure.status or "")
        table.add_row(*(Text(cell) for cell in row))  # Text: test names like test_x[a] are not markup
    return table
