"""`maestro build`: sdists and wheels through each project's PEP 517 backend."""

# No `from __future__ import annotations`: typer reads build's annotations at every start, and
# string annotations would be compiled and evaluated there, one by one (names that exist only for
# type checkers are quoted below instead).
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..context import get_state

if TYPE_CHECKING:
    from ..console import Console


def build(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Project folders (with pyproject.toml); default: the current folder.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the files (default: PATH/dist).")] = None,
    sdist: Annotated[bool, typer.Option("--sdist/--no-sdist", help="Build a source distribution.")] = True,
    wheel: Annotated[bool, typer.Option("--wheel/--no-wheel", help="Build a wheel.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Replace files of the same name in the output folder.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> int:
    """Build sdists and wheels of one or more projects.

    Backends maestro has (poetry-core always) run in-process, an order of magnitude faster than `python -m build`; others are built in a fresh virtualenv, as `build` does. A file already in the output folder is not replaced without --force.

    Example: maestro build extracted/acme-core extracted/acme-app --out dist/
    """
    from ..publish.build import BuildRequest, build_projects, builds_document

    state = get_state(ctx)
    console = state.for_command(json_output)
    request = BuildRequest(
        projects=paths or [Path(".")], out=out, sdist=sdist, wheel=wheel, force=force, cache_dir=state.settings().cache_dir
    )
    with _progress_display(console, len(request.projects)) as on_project:
        builds = build_projects(request, on_project=on_project)
    if console.json_mode:
        console.print_json({"projects": builds_document(builds)})
        return 0
    files = [(build, file) for build in builds for file in build.files]
    width = max((len(str(file.path)) for _build, file in files), default=0)
    lines = [
        f"built {str(file.path):<{width}}  {file.size:>10} bytes  sha256:{file.sha256[:16]}  "
        f"{build.backend} ({'isolated' if build.isolated else 'in-process'})"
        for build, file in files
    ]
    # aligned plain text, written as is: rich would only wrap it, and importing it costs 25-40 ms,
    # a sixth of an in-process build
    console.write_raw("".join(f"{line}\n" for line in lines))
    return 0


@contextmanager
def _progress_display(console: "Console", projects: int) -> Iterator[Callable[[Path], None]]:
    """A bar over the projects on a terminal; elsewhere nothing to draw, and rich's progress not imported."""
    if not console.is_interactive:
        yield lambda _project: None
        return
    with console.progress() as progress:
        task = progress.add_task("building", total=projects)

        def on_project(project: Path) -> None:
            progress.update(task, description=f"building {project}")

        yield on_project
        progress.update(task, completed=projects)
