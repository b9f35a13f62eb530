"""`maestro publish`: build if needed, check, and upload distributions to a package index."""

# No `from __future__ import annotations`: typer reads publish's annotations at every start, and
# string annotations would be compiled and evaluated there, one by one (names that exist only for
# type checkers are quoted below instead).
import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..context import get_state
from ..resilience import DEFAULT_RETRIES

if TYPE_CHECKING:
    from rich.progress import TaskID

    from ..console import Console
    from ..publish.run import PublishResult
    from ..publish.upload import Progress


def publish(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Project folders (built first), .whl/.tar.gz files, or folders of them. Default: ./dist."),
    ] = None,
    repository: Annotated[str | None, typer.Option("--repository", "-r", help="A section of ~/.pypirc (default: pypi).")] = None,
    repository_url: Annotated[str | None, typer.Option("--repository-url", help="The index's upload URL.")] = None,
    index_url: Annotated[str | None, typer.Option("--index-url", help="The index's simple URL, when maestro cannot derive it.")] = None,
    username: Annotated[str | None, typer.Option("--username", "-u", help="User name.")] = None,
    password: Annotated[str | None, typer.Option("--password", "-p", help="Password (better: MAESTRO_PASSWORD).")] = None,
    token: Annotated[str | None, typer.Option("--token", help="API token; the user becomes __token__.")] = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Skip files the index already has with the same sha256.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go where; send nothing that writes.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel uploads (default 4).")] = None,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries after a timeout, 408, 429 or 5xx.")
    ] = DEFAULT_RETRIES,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.1, help="Seconds to wait for the server to read or answer.")
    ] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="CA bundle to trust for https.")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not check the index lists each file afterwards.")] = False,
    allow_insecure: Annotated[
        bool, typer.Option("--allow-insecure", help="Allow plain http:// to a host other than this machine.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> int:
    """Upload sdists and wheels to PyPI or a private index (Nexus, Artifactory, devpi, pypiserver, GitLab).

    Every file is checked first (metadata, file name, long description). Retries ask the index before sending again, so a file is never stored twice; --skip-existing works on every server; dependencies in the batch go up before their dependents. Exit 0 when every file is on the index, 1 when any upload failed, 2 for bad input.

    Credentials, highest first: flags, MAESTRO_USERNAME / MAESTRO_PASSWORD / MAESTRO_TOKEN, TWINE_USERNAME / TWINE_PASSWORD, ~/.pypirc, the keyring, a prompt on a terminal.

    Example: maestro publish dist/ --repository-url https://nexus.acme.io/repository/pypi-internal/ -u ci --skip-existing
    """
    from ..publish.credentials import RepositoryRequest
    from ..publish.run import PublishRequest
    from ..publish.run import publish as run_publish
    from ..publish.run import result_document
    from ..publish.upload import UploadOptions

    state = get_state(ctx)
    console = state.for_command(json_output)
    settings = state.settings(
        **{"repository-url": repository_url, "index-url": index_url, "username": username, "password": password, "token": token}
    )
    target = RepositoryRequest(
        repository=repository or (None if settings.origin("repository") == "default" else settings["repository"]),
        repository_url=settings["repository-url"],
        index_url=settings["index-url"],
        username=settings["username"],
        password=settings["password"],
        token=settings["token"],
        allow_insecure=allow_insecure,
    )
    options = UploadOptions(
        skip_existing=skip_existing,
        dry_run=dry_run,
        jobs=jobs or settings["publish-jobs"],
        retries=retries,
        timeout=timeout,
        ca_bundle=str(cert) if cert else None,
        verify_listing=not no_verify,
    )
    with _progress_display(console) as (on_progress, on_build, ask):
        result = run_publish(
            PublishRequest(paths=list(paths or []), target=target, options=options, cache_dir=settings.cache_dir),
            on_progress=on_progress,
            on_build=on_build,
            prompt=ask if console.is_interactive and sys.stdin.isatty() else None,
        )
    if console.json_mode:
        console.print_json(result_document(result))
    else:
        _render(console, result)
    return 1 if result.failed else 0


def _prompt(label: str, secret: bool) -> str:
    return str(typer.prompt(label, hide_input=secret, err=True))


@contextmanager
def _progress_display(
    console: "Console",
) -> Iterator[tuple[Callable[["Progress"], None], Callable[[Path], None], Callable[[str, bool], str]]]:
    """A bar per file (bytes) and one overall, fed from several upload threads; and a prompt that
    pauses the display while a person types. Without a terminal there is nothing to draw."""
    if not console.is_interactive:
        yield _summary_prepared_during_uploads(), (lambda _project: None), _prompt
        return
    with console.progress(bytes_columns=True) as progress:
        overall = progress.add_task("total", total=0)
        tasks: dict[str, "TaskID"] = {}
        sent: dict[str, int] = {}
        queued = [0]  # bytes of every file in the batch
        lock = threading.Lock()

        def on_progress(event: "Progress") -> None:
            with lock:
                if event.phase == "queued":
                    queued[0] += event.total
                    progress.update(overall, total=queued[0])
                elif event.phase == "start":  # a retry starts the file again
                    progress.advance(overall, -sent.get(event.filename, 0))
                    sent[event.filename] = 0
                    if event.filename not in tasks:
                        tasks[event.filename] = progress.add_task(event.filename, total=event.total)
                    progress.reset(tasks[event.filename], total=event.total)
                elif event.phase == "bytes":
                    sent[event.filename] = sent.get(event.filename, 0) + event.advance
                    progress.advance(tasks[event.filename], event.advance)
                    progress.advance(overall, event.advance)
                elif event.phase == "done" and event.filename in tasks:
                    progress.update(tasks[event.filename], visible=False)

        def on_build(project: Path) -> None:
            progress.update(overall, description=f"building {project}")

        def ask(label: str, secret: bool) -> str:
            progress.stop()
            try:
                return _prompt(label, secret)
            finally:
                progress.start()

        yield on_progress, on_build, ask


def _summary_prepared_during_uploads() -> Callable[["Progress"], None]:
    """A progress callback that, when the last upload starts, imports rich on a thread of its own.

    Without a terminal nothing is drawn, and rich is first needed for the closing summary: importing
    it then took 25-40 ms after the last upload. Imported as the first upload started, it took that
    CPU from the first uploads and their own imports; once the last one has started, the client
    only waits on the network (that upload, then the verification of its project).
    """
    queued: set[str] = set()
    started: set[str] = set()
    lock = threading.Lock()

    def on_progress(event: "Progress") -> None:
        if event.phase not in ("queued", "start"):
            return
        with lock:
            if event.phase == "queued":
                queued.add(event.filename)
                return
            first_start = event.filename not in started
            started.add(event.filename)
            last = first_start and started == queued
        if last:
            threading.Thread(target=importlib.import_module, args=("rich.console",), daemon=True).start()

    return on_progress


def _render(console: "Console", result: "PublishResult") -> None:
    """One aligned line a file (plain text: a rich table costs more than the uploads of small files)."""
    heading = "dry run: nothing was sent to" if result.dry_run else "published to"
    lines = [f"{heading} {result.repository}"]
    width = max((len(entry.dist.filename) for entry in result.files), default=0)
    for entry in result.files:
        # a dry run is where hashes are compared by eye: whole there; failures get error lines below
        digest = entry.dist.sha256 if result.dry_run else entry.dist.sha256[:16]
        detail = f"  {entry.message}" if entry.ok and entry.message not in ("", str(entry.outcome)) else ""
        line = f"{entry.outcome!s:<13} {entry.dist.filename:<{width}}  {entry.dist.size:>10} bytes  sha256:{digest}"
        lines.append(line + detail)
    console.print("\n".join(lines), markup=False)
    for entry in result.failed:
        console.error(f"{entry.dist.filename}: {entry.message}", entry.hint)
    if result.stopped:
        done = [e.dist.filename for e in result.files if e.ok]
        missing = [e.dist.filename for e in result.files if not e.ok]
        console.error(
            f"the batch was stopped; on the index: {', '.join(done) or 'none'}; not uploaded: {', '.join(missing)}"
        )
    summary = ", ".join(f"{count} {outcome}" for outcome, count in result.counts.items())
    if result.failed:
        console.info(f"{summary} ({result.repository})")
    else:
        console.success(f"{summary} ({result.repository})")
