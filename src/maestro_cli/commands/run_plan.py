"""`maestro run-plan`: run a YAML test plan as a dependency graph, in parallel, through adapters."""

# No `from __future__ import annotations`: typer reads run_plan's annotations at every start, and
# string annotations would be compiled and evaluated there, one by one (names that exist only for
# type checkers are quoted below instead).
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import redaction
from ..console import Console
from ..context import get_state
from ..errors import ExitCode, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..plan.records import RunReport, StepRun
    from ..plan.run import PreparedPlan

_ALL_ROWS_UP_TO = 40
_MARKS = {"passed": "ok", "failed": "FAILED", "timed-out": "TIMED OUT", "cancelled": "cancelled", "skipped": "skipped"}


def run_plan(
    ctx: typer.Context,
    plan_file: Annotated[Path | None, typer.Argument(metavar="PLAN.yaml", help="The test plan.")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=0, help="Steps run at once (default: one per CPU).")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only this step (and what it needs); a pattern such as 'smoke-*' works. Repeatable.")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Do not run this step (id or pattern). Repeatable.")] = None,
    only_tags: Annotated[list[str] | None, typer.Option("--only-tags", help="Run only steps with this tag (and what they need). Repeatable.")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Set ${{ vars.KEY }}: KEY=VALUE. Repeatable.")] = None,
    results: Annotated[Path | None, typer.Option("--results", help="Results folder (default: .maestro/runs/<UTC time>/).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace results already in --results DIR.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Cancel the rest when a required step fails.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the execution order (levels of the graph); run nothing.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Validate the plan only.")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the plan's JSON Schema.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    # distributed run-plan (issue 8): steps run on `maestro worker`s through Redis
    queue: Annotated[str | None, typer.Option("--queue", help="Run the steps on `maestro worker`s through this redis:// URL (also: MAESTRO_QUEUE).")] = None,
) -> int:
    """Run a test plan: steps in dependency order, in parallel, each through its adapter.

    Exit 0 when every required step passed, 1 when one failed or timed out, 2 when the plan is
    invalid (every problem listed as file:line:col), 130 when interrupted. Results go to
    results.json, junit.xml and logs/<step>.log in the results folder.

    Example: maestro run-plan ci/plan.yaml --jobs 4 --var suite=smoke --skip 'smoke-3.11'
    """
    state = get_state(ctx)
    console = state.for_command(json_output)
    if schema:
        from ..plan.schema import plan_schema

        console.print_json(plan_schema())
        return ExitCode.OK
    if plan_file is None:
        raise UsageError("missing PLAN.yaml", hint="maestro run-plan PLAN.yaml, or --schema")
    from ..plan.run import Selection, execute, prepare

    prepared = prepare(
        plan_file,
        variables=_variables(var or []),
        selection=Selection(only or [], skip or [], only_tags or []),
        require_secrets=not (check or dry_run),
        cache_dir=state.settings().cache_dir,
    )
    for warning in prepared.warnings:
        console.warning(warning)
    if check:
        return _show_check(console, prepared)
    if dry_run:
        return _show_levels(console, prepared)
    settings = state.settings(jobs=jobs, queue=queue)
    if settings["queue"]:  # distributed run-plan (issue 8): same arguments, same report
        from ..queue.distributed import execute_on_queue as execute
    base = Path(settings["results-dir"]).expanduser()
    with _Progress(console, len(prepared.selected)) as progress:
        report = execute(
            prepared,
            jobs=settings["jobs"],
            results_base=base if base.is_absolute() else settings.project_root / base,
            results_dir=results,
            force=force,
            fail_fast=fail_fast,
            settings={name: value.value for name, value in settings.values.items()},
            listener=progress.on_event,
        )
    _show_report(console, report)
    if report.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.FAILURES if report.outcome == "failed" else ExitCode.OK


def _variables(pairs: list[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--var {pair!r}: expected KEY=VALUE")
        variables[key] = value
    return variables


def _show_check(console: Console, prepared: "PreparedPlan") -> int:
    plan = prepared.plan
    if console.json_mode:
        console.print_json({"plan": plan.name, "plan_file": plan.file, "valid": True, "steps": [s.id for s in plan.steps], "services": sorted(plan.services)})
    else:
        console.write_raw(f"{plan.file}: valid, {len(plan.steps)} step(s), {len(plan.services)} service(s)\n")
    return ExitCode.OK


def _show_levels(console: Console, prepared: "PreparedPlan") -> int:
    levels = prepared.levels()
    if console.json_mode:
        console.print_json({"plan": prepared.plan.name, "levels": levels})
        return ExitCode.OK
    console.write_raw("".join(f"level {number}: {', '.join(level)}\n" for number, level in enumerate(levels, start=1)))
    return ExitCode.OK


def _show_report(console: Console, report: "RunReport") -> None:
    if console.json_mode:
        console.print_json({"results_dir": str(report.results_dir), **report.to_dict()})
        return
    from ..plan.services import tail

    # a long plan lists only what did not pass: 500 green rows would hide the one red
    shown = [run for run in report.steps if run.selected and (len(report.steps) <= _ALL_ROWS_UP_TO or run.outcome != "passed")]
    rows = [
        [run.id, run.outcome, str(len(run.attempts) or ""), f"{run.final.duration:.1f}s" if run.attempts else "", run.final.message or ""]
        for run in shown
    ]
    _show_table(console, f"{report.plan.name}: {report.outcome}", ["step", "outcome", "attempts", "time", "message"], rows)
    for run in report.steps:
        if run.fails_run and run.attempts:
            last_lines = tail(report.results_dir / run.log).rstrip("\n")
            console.write_raw(f"--- last lines of {report.results_dir / run.log}\n{last_lines}\n")
    counts = ", ".join(f"{n} {outcome}" for outcome, n in report.counts().items())
    console.write_raw(f"{counts}; results in {report.results_dir}\n")


def _show_table(console: Console, title: str, header: list[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; aligned plain text in a pipe or a CI log, which spares rich's import."""
    if getattr(console.stdout, "isatty", lambda: False)():
        from rich.table import Table
        from rich.text import Text

        table = Table(title=redaction.scrub(title), title_justify="left")
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            # Text: a message with [brackets] is not markup; scrubbed: console.print scrubs strings only
            table.add_row(*(Text(redaction.scrub(cell)) for cell in row))
        console.print(table)
        return
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]
    lines = [title, *("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in [header, *rows])]
    console.write_raw("\n".join(lines) + "\n")


class _Progress:
    """Live progress on stderr: a line per running step and the counts; plain lines when not a TTY."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._tasks: dict[str, TaskID] = {}
        self._context: Any = None

    def __enter__(self) -> "_Progress":
        if self.console.is_interactive:
            self._context = self.console.progress(transient=True)
            self._progress = self._context.__enter__()
            self._overall = self._progress.add_task(self._headline(), total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)

    def _headline(self) -> str:
        return f"done {self.done}/{self.total}, failed {self.failed}"

    def on_event(self, event: str, run: "StepRun") -> None:
        if not run.selected or (self._progress is None and self.console.quiet):
            return  # -q and no terminal: nothing to show, and two calls per step to make cheap
        with self.lock:
            if event == "finished":
                self.done += 1
                self.failed += run.outcome in ("failed", "timed-out")
            line = self._line(event, run)
            if self._progress is None:
                if line and not self.console.quiet:  # plain lines: a rich print each would cost a no-op step's time
                    self.console.stderr.write(redaction.scrub(line) + "\n")
                return
            self._update_live(event, run, line)

    def _update_live(self, event: str, run: "StepRun", line: str | None) -> None:
        assert self._progress is not None and self._overall is not None
        if event == "started":
            self._tasks[run.id] = self._progress.add_task(run.id, total=None)
        elif event == "finished":
            task = self._tasks.pop(run.id, None)
            if task is not None:
                self._progress.remove_task(task)
            if line:
                self._progress.console.print(redaction.scrub(line), markup=False, highlight=False)
        elif event == "retrying" and run.id in self._tasks:
            self._progress.update(self._tasks[run.id], description=f"{run.id} (retry {len(run.attempts)})")
        self._progress.update(self._overall, completed=self.done, description=self._headline())

    @staticmethod
    def _line(event: str, run: "StepRun") -> str | None:
        if event == "started":
            return f"{'start':<10}{run.id}"
        if event == "retrying":
            last = run.attempts[-1] if run.attempts else None
            return f"{'retry':<10}{run.id}: attempt {len(run.attempts)} {last.outcome if last else ''}"
        result = run.result
        assert result is not None
        text = f"{_MARKS.get(run.outcome, run.outcome):<10}{run.id}"
        if run.attempts:
            text += f" ({result.duration:.1f}s)"
        if result.message and run.outcome != "passed":
            text += f": {result.message}"
        return text
