"""`maestro audit`: read and export the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..context import get_state

app = typer.Typer(help="Read and export the audit log of what maestro changed.", no_args_is_help=True)

SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only records at or after this date (2026-11-01 or ISO time).")
]
CommandOption = Annotated[str | None, typer.Option("--command", help="Only records of this command, e.g. publish.")]


def _records(ctx: typer.Context, since: str | None, command: str | None) -> list[dict]:
    from .. import audit

    state = get_state(ctx)
    path = state.settings().audit_path
    moment = audit.parse_since(since) if since else None
    return audit.select(audit.read_records(path), since=moment, command=command)


@app.command("show")
def show(
    ctx: typer.Context,
    since: SinceOption = None,
    command: CommandOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show audit records, oldest first.

    Example: maestro audit show --since 2026-11-01 --command publish
    """
    state = get_state(ctx)
    console = state.for_command(json_output)
    records = _records(ctx, since, command)
    if console.json_mode:
        console.print_json(records)
        return
    from rich.table import Table

    table = Table(title=f"{len(records)} audit record(s)", title_justify="left")
    for column in ("time (UTC)", "command", "action", "outcome", "artifacts"):
        table.add_column(column)
    for record in records:
        artifacts = ", ".join(a["path"] for a in record.get("artifacts", []))
        table.add_row(record["timestamp"], record.get("command", ""), record.get("action", ""), record.get("outcome", ""), artifacts)
    console.print(table)


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="jsonl, json or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")] = None,
    since: SinceOption = None,
    command: CommandOption = None,
) -> None:
    """Export audit records as JSON Lines, a JSON array or CSV.

    Example: maestro audit export --format csv --output audit.csv
    """
    from .. import audit
    from ..fsutil import atomic_write_text

    state = get_state(ctx)
    text = audit.export(_records(ctx, since, command), fmt)
    if output is None:
        state.console.write_raw(text)
    else:
        atomic_write_text(output, text)
        state.console.info(f"wrote {output}")
