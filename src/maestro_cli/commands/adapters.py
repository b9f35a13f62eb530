"""`maestro adapters`: the installed adapters, built-in and from plugins."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import get_state


def adapters(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the adapters run-plan can use, where each comes from and the options it takes.

    Adapters are found through the `maestro.adapters` entry-point group; a plugin that fails to
    load is shown as a warning naming it.

    Example: maestro adapters --json
    """
    from ..adapters.registry import load_registry

    state = get_state(ctx)
    console = state.for_command(json_output)
    registry = load_registry(cache_dir=state.settings().cache_dir)
    for problem in registry.problems:
        console.warning(problem)
    rows = [
        {
            "name": name,
            "description": info.adapter.description,
            "source": info.source,
            "distribution": info.distribution,
            "version": info.version,
            "builtin": info.source.startswith("maestro_cli."),
            "options": sorted(info.adapter.options_schema.get("properties", {})),
        }
        for name, info in sorted(registry.adapters.items())
    ]
    if console.json_mode:
        console.print_json({"adapters": rows, "problems": registry.problems})
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} adapter(s)", title_justify="left")
    for column in ("name", "from", "options", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        origin = f"{row['distribution']} {row['version'] or ''}".strip() if row["distribution"] else row["source"]
        if row["builtin"]:
            origin = f"built-in ({origin})"
        table.add_row(row["name"], origin, ", ".join(row["options"]), row["description"])
    console.print(table)
