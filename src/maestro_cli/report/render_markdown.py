"""The report as GitHub-flavoured Markdown that fits a job's step summary.

GitHub refuses a step summary over 1 MiB, so the text is built to a budget: totals, baseline and
flaky tests always fit, and failures are added (each in a ``<details>`` block) while room is
left; the rest are counted in one line that points at the full report.
"""

from __future__ import annotations

import html

from .aggregate import Report
from .model import Counts, Failure

STEP_SUMMARY_LIMIT = 1 << 20
BUDGET = STEP_SUMMARY_LIMIT - 16 * 1024  # room for the closing lines after the failures
MAX_ROWS = 50  # rows per table: a summary is read, not searched


def render_markdown(report: Report, budget: int = BUDGET) -> str:
    head = _head(report)
    tail = _tail(report)
    room = budget - len(head.encode()) - len(tail.encode())
    failures: list[str] = []
    shown = 0
    for failure in report.failures:
        block = _failure_block(failure)
        size = len(block.encode())
        if size > room:
            break
        failures.append(block)
        room -= size
        shown += 1
    if report.failures_total:
        failures.insert(0, f"## Failures ({report.failures_total})\n\n")
        if shown < report.failures_total:
            failures.append(f"\n_{report.failures_total - shown} more failure(s) not shown here; see the HTML or JSON report._\n")
    return head + "".join(failures) + tail


def _head(report: Report) -> str:
    totals = report.totals
    icon = "❌" if totals.failing else "✅"
    lines = [
        f"# {_inline(report.title)}",
        "",
        f"{icon} **{totals.tests} tests**: {totals.passed} passed, {totals.failed} failed, {totals.errors} errors, "
        f"{totals.skipped} skipped, {totals.flaky} flaky in {totals.time:.2f}s",
        "",
        "| Tests | Passed | Failed | Errors | Skipped | Flaky | Time |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {totals.tests} | {totals.passed} | {totals.failed} | {totals.errors} | {totals.skipped} | {totals.flaky} | {totals.time:.2f}s |",
        "",
    ]
    if report.baseline is not None:
        counts = report.baseline.counts
        lines += [
            f"Compared with the baseline: **{counts['new']} new** failure(s), {counts['still_failing']} still failing, "
            f"{counts['fixed']} fixed.",
            "",
        ]
        if report.baseline.fixed:
            lines += ["<details><summary>Fixed since the baseline</summary>", ""]
            lines += [f"- {_inline(test)}" for test in report.baseline.fixed[:MAX_ROWS]] + ["", "</details>", ""]
    if len(report.trend) > 1:
        rates = " → ".join(f"{p.pass_rate:.0%}" for p in report.trend[-10:])
        lines += [f"Pass rate over the last {min(len(report.trend), 10)} runs: {rates}", ""]
    if report.flaky:
        lines += [f"## Flaky tests ({len(report.flaky)})", "", "| Test | Evidence |", "| --- | --- |"]
        lines += [f"| {_cell(f.classname)} › {_cell(f.name)} | {_cell(f.evidence)} |" for f in report.flaky[:MAX_ROWS]]
        lines.append("")
    return "\n".join(lines) + "\n"


def _failure_block(failure: Failure) -> str:
    label = f"{failure.classname or failure.suite} › {failure.name}"
    status = f" [{failure.status}]" if failure.status else ""
    message = f" — {failure.message.splitlines()[0]}" if failure.message else ""
    parts = [f"<details><summary>❌ <b>{html.escape(label)}</b>{status}{html.escape(message[:300])}</summary>", ""]
    if failure.file:
        parts.append(f"`{failure.file}{':' + str(failure.line) if failure.line else ''}`" + "\n")
    if failure.evidence:
        parts.append(f"_{_inline(failure.evidence)}_\n")
    if failure.details:
        fence = "````" if "```" in failure.details else "```"
        parts += [f"{fence}text", failure.details, fence]
    parts += ["", "</details>", ""]
    return "\n".join(parts) + "\n"


def _tail(report: Report) -> str:
    lines: list[str] = []
    if report.slowest:
        lines += ["", f"## Slowest {len(report.slowest)} tests", "", "| Test | Time |", "| --- | ---: |"]
        lines += [f"| {_cell(s.classname or s.suite)} › {_cell(s.name)} | {s.time:.3f}s |" for s in report.slowest]
    for label, title, rows in (("Suite", "Suites", report.suites), ("Class", "Classes", report.classes)):
        lines += ["", f"<details><summary>{title} ({len(rows)})</summary>", "", *_counts_table(label, rows), "", "</details>"]
    if report.warnings:
        lines += ["", f"## Warnings ({len(report.warnings)})", ""]
        lines += [f"- {_inline(str(w))}" for w in report.warnings[:MAX_ROWS]]
    return "\n".join(lines) + "\n"


def _counts_table(label: str, rows: list[Counts]) -> list[str]:
    lines = [f"| {label} | Tests | Failed | Errors | Skipped | Flaky | Time |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [
        f"| {_cell(c.name)} | {c.tests} | {c.failed} | {c.errors} | {c.skipped} | {c.flaky} | {c.time:.2f}s |"
        for c in rows[:MAX_ROWS]
    ]
    if len(rows) > MAX_ROWS:
        lines.append(f"| _{len(rows) - MAX_ROWS} more_ | | | | | | |")
    return lines


def _inline(text: str) -> str:
    """Text that cannot open HTML or break the line it stands in."""
    return html.escape(" ".join(text.split()))


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")
