"""`maestro scan`: rank what is worth extracting from legacy repos, and find the code they copied."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..context import get_state
from ..errors import OutputExistsError, UsageError

if TYPE_CHECKING:
    from rich.table import Table

    from ..console import Console
    from ..scan.model import ScanReport


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"


def scan(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Legacy repos, or folders of repos.", show_default=False)],
    output_format: Annotated[
        Format | None, typer.Option("--format", help="table (terminal), json or html (default: from --output's suffix, else table).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the json or html report to this file.")] = None,
    min_lines: Annotated[int, typer.Option("--min-lines", help="Smallest module, class or function compared for duplicates.")] = 20,
    similarity: Annotated[float, typer.Option("--similarity", help="How alike two units must be to count as copies (0-1).")] = 0.8,
    top: Annotated[int, typer.Option("--top", help="How many candidates to list (and count in the reuse estimate).")] = 20,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output file.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document (same as --format json).")] = False,
) -> int:
    """Rank the packages and top-level modules of legacy repos as carve-out candidates, and group the code they copied from each other.

    Each candidate gets a verdict: ready (imports nothing else of its repo), needs K modules (what
    `maestro extract --with-internal` would copy along) or blocked (files that do not parse, such as
    Python 2), a rank by value (dependents, size) over cost (crossings, closure), and the
    `maestro extract` command line that carves it out. Duplicates are modules, classes and functions
    that are nearly the same even with renamed identifiers, other strings or another layout.

    Example: maestro scan legacy/billing legacy/shipping --top 10 --output scan.html
    """
    from ..scan.engine import ScanRequest
    from ..scan.engine import scan as run_scan

    chosen = _format(output_format, output, json_output)
    if output is not None and output.exists() and not force:
        raise OutputExistsError.for_path(output)
    state = get_state(ctx)
    console = state.for_command(json_output or (chosen is Format.JSON and output is None))
    request = ScanRequest(
        paths=tuple(paths),
        min_lines=min_lines,
        similarity=similarity,
        top=top,
        cache_dir=state.settings().cache_dir,
        jobs=os.cpu_count() or 1,
    )
    with console.progress() as progress:
        task = progress.add_task("scan", total=None)
        report = run_scan(request, step=lambda text: progress.update(task, description=text))
    for warning in report.warnings:
        console.warning(warning)
    if chosen is Format.TABLE:
        _render(console, report)
        return 0
    text = _document(report, chosen)
    if output is None:
        console.write_raw(text)
    else:
        from ..fsutil import atomic_write_text

        atomic_write_text(output, text)
        console.info(f"wrote {output}")
    return 0


def _format(chosen: Format | None, output: Path | None, json_output: bool) -> Format:
    if json_output:
        if chosen not in (None, Format.JSON) or output is not None:
            raise UsageError("--json prints the report to stdout; it goes with neither --format nor --output")
        return Format.JSON
    if chosen is None:
        suffix = output.suffix.lower() if output is not None else ""
        chosen = Format.HTML if suffix in (".html", ".htm") else Format.JSON if suffix == ".json" else Format.TABLE
    if chosen is Format.TABLE and output is not None:
        raise UsageError("--format table is for the terminal", hint="write --format json or --format html to --output")
    return chosen


def _document(report: ScanReport, chosen: Format) -> str:
    if chosen is Format.JSON:
        import json

        from ..scan.model import report_to_json

        return json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n"
    from .. import __version__
    from ..templating import render

    return render("scan/report.html.j2", autoescape=True, report=report, version=__version__)


def _render(console: Console, report: ScanReport) -> None:
    say = partial(console.print, markup=False)  # module names and paths are text, not rich markup
    console.print(_candidates_table(report))
    for rank, candidate in enumerate(report.candidates, start=1):
        if candidate.extract_command:
            say(f"{rank:>3}  {candidate.extract_command}")
        for problem in candidate.unparsable:
            say(f"{rank:>3}  blocked: {problem}")
    say()
    if report.duplicates:
        console.print(_duplicates_table(report))
    else:
        say(f"No duplicated modules, classes or functions of {report.min_lines}+ lines.")
    say()
    summary = report.summary
    say(
        f"{summary.lines:,} lines in {summary.files} files of {_count(summary.repos, 'repo')}, "
        f"{summary.unparsable_files} unparsable; {summary.duplicated_share:.1%} duplicated across repos; "
        f"{summary.ready_share:.1%} of the code in ready candidates; extracting the top {summary.top} "
        f"would replace {summary.reuse_lines:,} lines of copies ({summary.reuse_share:.1%})."
    )


def _candidates_table(report: ScanReport) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(title=f"Candidates (top {len(report.candidates)}, best first)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("repo: module", min_width=24, overflow="fold")
    table.add_column("verdict", no_wrap=True)
    for column in ("loc", "cross", "users", "copies"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("requires", overflow="fold")
    for rank, candidate in enumerate(report.candidates, start=1):
        table.add_row(
            str(rank),
            f"{candidate.repo}: {candidate.module}",
            candidate.verdict_label,
            str(candidate.loc),
            str(len(candidate.crossings)),
            str(len(candidate.dependents)),
            str(len(candidate.copies)),
            ", ".join(candidate.dependencies),
        )
    return table


def _duplicates_table(report: ScanReport) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(title=f"Duplicates ({_count(len(report.duplicates), 'group')})", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("#", "similarity", "lines"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("members", overflow="fold")
    for rank, group in enumerate(report.duplicates, start=1):
        members = "\n".join(f"{m.location}{' ' + m.name if m.name else ''}" for m in group.members)
        table.add_row(str(rank), f"{group.similarity:.2f}", str(group.duplicated_lines), members)
    return table


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
