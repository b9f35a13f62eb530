"""`maestro config`: show every effective setting and where it came from."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import get_state

app = typer.Typer(help="Inspect maestro's configuration.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Print every setting, its value and its origin (flag, env, file or default).

    Secrets show as ****. Environment variables are MAESTRO_<KEY>, e.g. MAESTRO_JOBS=4.

    Example: maestro config show --json
    """
    state = get_state(ctx)
    console = state.for_command(json_output)
    settings = state.settings()
    rows = [
        {
            "key": value.item.name,
            "value": value.display if value.item.secret else _plain(value.value),
            "origin": value.origin,
            "env": value.item.env_var,
            "secret": value.item.secret,
            "help": value.item.help,
        }
        for value in settings.values.values()
    ]
    if console.json_mode:
        console.print_json({"project_root": str(settings.project_root), "files": [str(f) for f in settings.files], "settings": rows})
        return
    from rich.table import Table

    table = Table(title=f"maestro configuration (project root {settings.project_root})", title_justify="left")
    for column in ("key", "value", "origin"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["key"], "" if row["value"] is None else str(row["value"]), row["origin"])
    console.print(table)


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float) else str(value)
