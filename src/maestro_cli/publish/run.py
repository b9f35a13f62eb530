"""``maestro publish`` as one function: resolve the target, build, check every file, upload."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .credentials import Prompt, RepositoryRequest, resolve_repository
from .distfiles import collect_inputs, read_distributions
from .upload import FileResult, Outcome, ProgressCallback, Uploader, UploadOptions

if TYPE_CHECKING:
    from .build import ProjectBuild


@dataclass(frozen=True)
class PublishRequest:
    """Everything ``maestro publish`` was asked: what to publish, where, and how."""

    paths: list[Path] = field(default_factory=list)  # empty: ./dist, or build . when there is no dist/
    target: RepositoryRequest = field(default_factory=RepositoryRequest)
    options: UploadOptions = field(default_factory=UploadOptions)
    cache_dir: Path | None = None  # for builds (see build.BuildRequest) and checks (see checked.py)


@dataclass
class PublishResult:
    """What a publish did: the projects it built and every file's outcome."""

    repository: str  # the upload URL, never with credentials
    index_url: str
    dry_run: bool
    builds: list[ProjectBuild]
    files: list[FileResult]

    @property
    def failed(self) -> list[FileResult]:
        return [result for result in self.files if not result.ok]

    @property
    def counts(self) -> dict[str, int]:
        """How many files ended in each outcome, in the order outcomes first appear."""
        counts: dict[str, int] = {}
        for entry in self.files:
            counts[str(entry.outcome)] = counts.get(str(entry.outcome), 0) + 1
        return counts

    @property
    def stopped(self) -> bool:
        """The circuit breaker ended the batch before every file was tried."""
        return any(result.outcome is Outcome.NOT_ATTEMPTED for result in self.files)


def default_paths(cwd: Path) -> list[Path]:
    return [cwd / "dist"] if (cwd / "dist").is_dir() else [cwd]


def publish(
    request: PublishRequest,
    *,
    on_progress: ProgressCallback | None = None,
    on_build: Callable[[Path], None] | None = None,
    prompt: Prompt | None = None,
) -> PublishResult:
    """Everything is checked (URL, credentials, every file's metadata) before the first byte is sent.

    Projects are built into a temporary folder: publishing a project uploads exactly what was just
    built from it, and leaves the project's own dist/ alone.
    """
    inputs = collect_inputs(request.paths or default_paths(Path.cwd()))
    dry_run = request.options.dry_run
    repository = resolve_repository(request.target, prompt=None if dry_run else prompt, ask_password=not dry_run)
    with tempfile.TemporaryDirectory(prefix="maestro-publish-") as scratch:
        builds: list[ProjectBuild] = []
        if inputs.projects:  # the build machinery (tomllib, subprocess, the backends) only when needed
            from .build import build_project
        for number, project in enumerate(inputs.projects):
            if on_build is not None:
                on_build(project)
            builds.append(build_project(project, Path(scratch) / str(number), cache_dir=request.cache_dir))
        built = [file.path for build in builds for file in build.files]
        dists = read_distributions([*inputs.files, *built], cache_dir=request.cache_dir)
        uploader = Uploader(repository, request.options, on_progress=on_progress)
        try:
            results = uploader.run(dists)
        finally:
            uploader.close()
        index_url = uploader.index.url
    return PublishResult(repository.upload_url, index_url, dry_run, builds, results)


def result_document(result: PublishResult) -> dict[str, Any]:
    """The ``--json`` form of a publish: plain values only, secrets never among them."""
    from .build import builds_document

    return {
        "repository": result.repository,
        "index_url": result.index_url,
        "dry_run": result.dry_run,
        "ok": not result.failed,
        "counts": result.counts,
        "built": builds_document(result.builds),
        "files": [
            {
                "file": entry.dist.filename,
                "path": str(entry.dist.path),
                "project": entry.dist.project,
                "version": entry.dist.version,
                "size": entry.dist.size,
                "sha256": entry.dist.sha256,
                "outcome": str(entry.outcome),
                "message": entry.message,
                "hint": entry.hint,
                "attempts": entry.attempts,
            }
            for entry in result.files
        ],
    }
