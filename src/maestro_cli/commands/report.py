"""`maestro report`: aggregate JUnit XML and maestro results into one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..context import get_state
from ..errors import UsageError, did_you_mean

FORMATS = ("table", "markdown", "html", "json", "junit")
FAIL_ON = ("failures", "errors", "never")


def report(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(metavar="INPUT", help="JUnit XML files, maestro results.json files, folders (searched recursively) or globs.", show_default=False),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, markdown, html, json or junit (merged JUnit XML).")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file (atomically) instead of stdout.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output file.")] = False,
    history: Annotated[Path | None, typer.Option("--history", help="Folder of run summaries: records this run, draws the trend, finds tests flaky across runs.")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="An earlier --format json report: failures become new, still failing or fixed.")] = None,
    top: Annotated[int, typer.Option("--top", help="How many of the slowest tests to list.")] = 10,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 on failures (failures or errors), errors (errors only) or never.")] = "failures",
    strict: Annotated[bool, typer.Option("--strict", help="Malformed, unknown or missing inputs are fatal (exit 2), not warnings.")] = False,
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "Test report",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes reading inputs (0: one per CPU; used only when there is enough to read).")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print the JSON report to stdout (as --format json).")] = False,
) -> int:
    """Aggregate test results from any tool into one report: terminal, Markdown, HTML, JSON or JUnit.

    Reads every JUnit XML dialect (pytest, Surefire/Failsafe, Gradle, jest, go, PHPUnit, NUnit, Catch2, mocha, ...) and maestro's results.json, recounting from the test cases. Lists failures, the slowest tests, and flaky ones: passed on rerun, or (with --history) flipping between runs.

    Exits 1 when the results hold failures (see --fail-on), 2 when no input could be read or, with --strict, when any input is malformed or missing.

    Example: maestro report build/test-results --format html --output report.html --history .maestro/report-history
    """
    state = get_state(ctx)
    console = state.for_command(json_output or (fmt == "json" and output is None))
    _check_choice("--format", fmt, FORMATS)
    _check_choice("--fail-on", fail_on, FAIL_ON)
    if top < 0 or jobs < 0:
        raise UsageError("--top and --jobs must be 0 or more")
    if fmt == "table" and output is not None:
        raise UsageError("--format table is for the terminal; choose markdown, html, json or junit for --output")

    from ..report import output as outputs
    from ..report.aggregate import ReportRequest, build_report

    if output is not None:
        outputs.check_output(output, force)
    request = ReportRequest(
        inputs=inputs,
        title=title,
        top=top,
        strict=strict,
        history_dir=history,
        baseline=baseline,
        keep_cases=fmt in outputs.CASE_FORMATS,
        jobs=jobs,
    )
    with console.progress() as progress:
        task = progress.add_task("reading test results", total=None)
        result = build_report(request, progress=lambda done, total: progress.update(task, completed=done, total=total))
    with result:
        for warning in result.warnings:
            console.warning(str(warning))
        if output is not None:
            outputs.write_output(result, fmt, output, force)
            console.info(f"wrote {output}")
        if console.json_mode:
            from ..report.render_json import to_document

            console.print_json(to_document(result))
        elif output is None and fmt == "table":
            from ..report.render_table import render_table

            console.print(render_table(result))
        elif output is None:
            console.write_raw(outputs.render_text(result, fmt))
        totals = result.totals
        console.info(
            f"{totals.tests} tests: {totals.passed} passed, {totals.failed} failed, {totals.errors} errors, "
            f"{totals.skipped} skipped, {totals.flaky} flaky"
        )
        return outputs.exit_code(result, fail_on)


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}, not '{value}'{did_you_mean(value, choices)}")
