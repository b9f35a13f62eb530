"""``maestro scan``'s core: find the repos, read every file once (cached), judge candidates, group copies.

Reads only; the things written are caches: the parse cache that ``maestro extract`` shares, and the
scan's own file index per repo.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .repos import find_repos
from .sources import read_sources

if TYPE_CHECKING:
    from .judging import Groundwork
    from .model import ScanReport


@dataclass(frozen=True)
class ScanRequest:
    paths: tuple[Path, ...]
    min_lines: int = 20
    similarity: float = 0.8
    top: int = 20
    cache_dir: Path | None = None
    jobs: int = 2


def scan(request: ScanRequest, step: Callable[[str], None] = lambda _: None) -> ScanReport:
    with _collector_paused():
        return _scan(request, step)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A scan builds hundreds of thousands of small acyclic objects (import records, signatures, LSH
    buckets); the cyclic collector would walk the whole growing heap again and again for nothing,
    which made the warm scan of Django four times slower. Reference counting frees them all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _scan(request: ScanRequest, step: Callable[[str], None]) -> ScanReport:
    if request.min_lines < 2:
        raise UsageError(f"--min-lines {request.min_lines}: must be 2 or more")
    if not 0 < request.similarity <= 1:
        raise UsageError(f"--similarity {request.similarity}: must be above 0 and at most 1", hint="e.g. 0.8")
    if request.top < 1:
        raise UsageError(f"--top {request.top}: must be 1 or more")
    warnings: list[str] = []
    step("finding repos")
    repos = find_repos(request.paths, warnings)
    step(f"reading {sum(len(repo.files) for repo in repos)} files")
    laid: list[Groundwork] = []

    def lay_groundwork() -> None:
        # judging's modules (extract's analysis, packaging, importlib.metadata) load here, while the
        # workers parse, rather than before they start
        from .judging import Groundwork

        laid.append(Groundwork(repos, request.cache_dir, warnings))
        laid[0].lay()

    reading = read_sources(
        [(repo.root, repo.files) for repo in repos],
        min_lines=request.min_lines,
        cache_dir=request.cache_dir,
        jobs=request.jobs,
        meanwhile=lay_groundwork,
    )
    from concurrent.futures import Future, ThreadPoolExecutor

    from .judging import judged

    # the caches are written while the candidates are judged (SQLite and fsync wait without the GIL);
    # the thread starts with the first write, which judging hands over after its last fork
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-cache") as saver:
        saving: list[Future[None]] = []
        report = judged(request, repos, reading, laid[0], warnings, step, lambda task: saving.append(saver.submit(task)))
        for saved in saving:
            saved.result()
    return report
