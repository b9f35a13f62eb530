"""`maestro extract`: carve a module or package out of a legacy repo into an installable package."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..context import get_state
from ..errors import UsageError

if TYPE_CHECKING:
    from ..console import Console
    from ..extract.extraction import ExtractResult


def extract(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A .py module or a package folder inside the legacy repo.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="Distribution name of the new package (PEP 508).", show_default=False)],
    import_name: Annotated[str | None, typer.Option("--import-name", help="Import name (default: NAME with - as _).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder; the package lands in OUT/NAME (default: ./extracted).")] = None,
    repo: Annotated[Path | None, typer.Option("--repo", help="The legacy repo (default: git top level of SOURCE).")] = None,
    version: Annotated[str, typer.Option("--version", help="Version of the new package.")] = "0.1.0",
    description: Annotated[str | None, typer.Option("--description", help="One-line description (default: the module docstring).")] = None,
    with_internal: Annotated[bool, typer.Option("--with-internal", help="Copy the legacy modules SOURCE imports into the package.")] = False,
    allow_internal: Annotated[bool, typer.Option("--allow-internal", help="Keep imports of other legacy modules as they are.")] = False,
    keep_history: Annotated[bool, typer.Option("--keep-history", help="Make OUT/NAME a git repo holding SOURCE's history.")] = False,
    no_tests: Annotated[bool, typer.Option("--no-tests", help="Do not carry the legacy tests that import SOURCE.")] = False,
    no_rewrite: Annotated[bool, typer.Option("--no-rewrite", help="Keep the original import name; rewrite nothing.")] = False,
    template: Annotated[Path | None, typer.Option("--template", help="Folder with your own skeleton templates (variables: README, section maestro extract).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Build, install into a fresh venv and run the carried tests.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the analysis; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing OUT/NAME.")] = False,
    skip_unparsable: Annotated[bool, typer.Option("--skip-unparsable", help="Leave out files that do not parse (Python 2), with a warning.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> int:
    """Carve SOURCE out of a legacy repo into an installable package in OUT/NAME.

    Dependencies are inferred from the imports (keeping the repo's own version pins), optional imports become extras, imports are rewritten to the new name, and the legacy tests that import SOURCE come along. The legacy repo is never modified.

    Exit 1 when SOURCE imports other legacy modules (each crossing is listed) or when --verify fails.

    Example: maestro extract examples/legacy-estate/estate/common/resilience --repo examples/legacy-estate --name acme-resilience --verify
    """
    from ..extract.extraction import ExtractRequest, InternalPolicy
    from ..extract.extraction import extract as run_extract

    if with_internal and allow_internal:
        raise UsageError("--with-internal and --allow-internal contradict each other", hint="choose one")
    state = get_state(ctx)
    console = state.for_command(json_output)
    settings = state.settings()
    policy = InternalPolicy.COPY if with_internal else InternalPolicy.ALLOW if allow_internal else InternalPolicy.STOP
    request = ExtractRequest(
        source=source,
        dist_name=name,
        import_name=import_name,
        out=out if out is not None else Path(settings["extract-out"]),
        repo=repo,
        version=version,
        description=description,
        internal=policy,
        keep_history=keep_history,
        include_tests=not no_tests,
        rewrite=not no_rewrite,
        template_dir=template,
        verify=verify,
        dry_run=dry_run,
        force=force,
        skip_unparsable=skip_unparsable,
        cache_dir=settings.cache_dir,
    )
    with console.progress() as progress:
        task = progress.add_task("extract", total=None)
        result = run_extract(request, step=lambda text: progress.update(task, description=text))
    if console.json_mode:
        console.print_json(result.to_json())
    else:
        _render(console, result)
    return 1 if result.failed else 0


def _render(console: Console, result: ExtractResult) -> None:
    say = partial(console.print, markup=False)  # module names and [extras] are text, not rich markup
    needs = result.requirements
    for warning in [*needs.warnings, *result.warnings]:
        console.warning(warning)
    if result.blocked:
        say(f"{result.source} imports other legacy modules ({len(result.internal_imports)} crossings):")
        for crossing in result.internal_imports:
            say(f"  {crossing}")
        say("nothing written: pass --with-internal to copy them in, or --allow-internal to keep the imports")
        return
    say(f"{result.source} -> {result.dist_name} (import {result.import_name}), {len(result.files)} files")
    say(f"  requires-python: {needs.requires_python}")
    say(f"  dependencies: {', '.join(needs.dependencies) or 'none'}")
    for extra, requirements in needs.optional_dependencies.items():
        say(f"  extra [{extra}]: {', '.join(requirements)}")
    say(f"  test dependencies: {', '.join(needs.test_dependencies) or 'none'}")
    if result.internal_modules:
        say(f"  legacy modules copied in: {', '.join(result.internal_modules)}")
    if result.out is None:
        say("dry run: nothing written")
        return
    say(f"written to {result.out}" + (f" with {result.history_commits} commits of history" if result.history_commits else ""))
    verification = result.verification
    if verification is not None:
        if verification.passed:
            say(f"verify: passed: {verification.summary}")
        else:
            say(f"verify: FAILED at {verification.stage}: {verification.summary}")
            if verification.output:
                say(verification.output)
