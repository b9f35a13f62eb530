"""Uploading checked distributions through the legacy upload API, the way twine 7 speaks it.

What twine users hit, and what this module does instead:

* a retry after a 5xx or a timeout re-sends a file the server had already stored: before every retry
  the index is asked for the file by name and sha256, and a stored file counts as uploaded;
* ``--skip-existing`` only works on PyPI: here it asks the index's simple API, on any server, and a
  same-named file with another hash is an error, never an overwrite;
* a redirect or a 405 looks like success or like nonsense: both are failures with a hint;
* a slow server hangs: connect, read and write timeouts are separate, and a circuit breaker ends a
  bulk publish after consecutive server failures.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from .. import events, resilience
from ..errors import CircuitOpenError, RemoteError
from ..events import Artifact
from ..resilience import RetryableError, RetryPolicy
from . import multipart
from .credentials import Repository
from .distfiles import Distribution, form_fields
from .index import Index, IndexFile, upload_url_hint
from .order import upload_waves
from .pacing import Pacer
from .transport import Response, TransportError, failure, index_client, says_already_exists, server_message

R = TypeVar("R")


class Outcome(StrEnum):
    UPLOADED = "uploaded"
    SKIPPED = "skipped"  # --skip-existing: the index already has this very file
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"  # the circuit breaker stopped the batch, or a dependency failed
    WOULD_UPLOAD = "would-upload"  # --dry-run
    WOULD_SKIP = "would-skip"  # --dry-run --skip-existing


OK_OUTCOMES = frozenset({Outcome.UPLOADED, Outcome.SKIPPED, Outcome.WOULD_UPLOAD, Outcome.WOULD_SKIP})


@dataclass(frozen=True)
class UploadOptions:
    """How a batch is uploaded: the publish command's options that reach the uploader."""

    skip_existing: bool = False
    dry_run: bool = False
    jobs: int = 4
    retries: int = resilience.DEFAULT_RETRIES
    timeout: float | None = None  # seconds for connect (capped), read and write; None: the defaults
    ca_bundle: str | None = None
    verify_listing: bool = True  # after upload, the index must list the file with the same sha256
    circuit_threshold: int = resilience.CIRCUIT_THRESHOLD


@dataclass
class FileResult:
    """What became of one file: its outcome, the server's or maestro's message, the attempts made."""

    dist: Distribution
    outcome: Outcome
    message: str = ""
    hint: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in OK_OUTCOMES


@dataclass(frozen=True)
class Progress:
    """What the caller's progress display needs: bytes of one file, and when it starts or ends."""

    filename: str
    total: int
    advance: int = 0
    phase: str = "bytes"  # "queued" (before any upload), "start" (again on a retry), "bytes", "done"


ProgressCallback = Callable[[Progress], None]

class Uploader:
    """One batch to one repository: shared client, index, circuit breaker and progress callback."""

    def __init__(
        self,
        repository: Repository,
        options: UploadOptions,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.repository = repository
        self.options = options
        self.client = index_client(repository, timeout=options.timeout, ca_bundle=options.ca_bundle)
        self.index = Index(self.client, repository.index_urls)
        self.breaker = resilience.CircuitBreaker(options.circuit_threshold, name=repository.upload_url)
        self.policy = RetryPolicy(retries=options.retries)
        self.pacer = Pacer(options.jobs)  # the parallel uploads' starts, spread over a round trip
        self.on_progress = on_progress or (lambda _progress: None)
        # what the index listed before this batch sent anything: one lookup per project, not per file,
        # shared by the threads that want it (the first asks, the others wait for its answer)
        self._listings_before: dict[str, Future[dict[str, IndexFile]]] = {}
        self._listings_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    # -- the batch ---------------------------------------------------------------------------------
    def run(self, dists: Iterable[Distribution]) -> list[FileResult]:
        """Upload in dependency waves, in parallel inside a wave; verify; one event per file.

        A project is verified as soon as its last file is up, on a pool of its own: the lookups of
        finished projects overlap the uploads of the others instead of queueing behind them. Each
        file's event goes out as soon as its outcome is final, so an interrupted batch is audited
        as far as it went, and the records are written while other uploads wait on the network.
        """
        dists = list(dists)
        results: dict[str, FileResult] = {}
        unavailable: set[str] = set()  # projects with a file that did not make it
        verify = self.options.verify_listing and not self.options.dry_run
        if not self.options.dry_run:
            for dist in dists:
                self.on_progress(Progress(dist.filename, dist.size, phase="queued"))
        jobs = max(1, self.options.jobs)
        with ThreadPoolExecutor(max_workers=jobs) as uploads, ThreadPoolExecutor(max_workers=jobs) as lookups:
            if self.options.skip_existing:
                # every project's lookup starts now, ahead of the uploads that need it: through a far
                # index the first files do not wait a round trip for their listing before sending
                for project in dict.fromkeys(dist.project for dist in dists):
                    lookups.submit(self._listing_before, project)
            verifications = []
            for wave in upload_waves(dists):
                blocked = {d.filename: d.dependencies() & unavailable for d in wave}
                futures = [uploads.submit(self._one, d, blocked[d.filename]) for d in wave]
                try:
                    for uploaded in self._finished_projects(futures, wave, results, unavailable, verify=verify):
                        verifications.append(lookups.submit(self._verify_project, uploaded))
                except BaseException:  # Ctrl-C: files not yet started must not go up afterwards
                    for future in futures:
                        future.cancel()
                    raise
            for verification in verifications:
                verification.result()
        return [results[dist.filename] for dist in dists]

    def _finished_projects(
        self,
        futures: list[Future[FileResult]],
        wave: list[Distribution],
        results: dict[str, FileResult],
        unavailable: set[str],
        *,
        verify: bool,
    ) -> Iterator[list[FileResult]]:
        """Record results as uploads end; with ``verify``, yield a project's uploaded files when its
        last one ends (their outcome is final once verified), and audit every other result at once."""
        waiting = Counter(d.project for d in wave)
        for future in as_completed(futures):
            result = future.result()
            project = result.dist.project
            results[result.dist.filename] = result
            if not result.ok:
                unavailable.add(project)
            if not (verify and result.outcome is Outcome.UPLOADED):
                self._audit(result)
            waiting[project] -= 1
            if verify and not waiting[project]:
                done = [results[d.filename] for d in wave if d.project == project]
                uploaded = [r for r in done if r.outcome is Outcome.UPLOADED]
                if uploaded:
                    yield uploaded

    def _audit(self, result: FileResult) -> None:
        if self.options.dry_run:
            return
        events.emit(
            "publish.uploaded",
            outcome=str(result.outcome),
            artifacts=[Artifact(path=result.dist.filename, sha256=result.dist.sha256)],
            repository=self.repository.upload_url,
            size=result.dist.size,
            message=result.message,
        )

    def _one(self, dist: Distribution, blocked_by: set[str]) -> FileResult:
        if blocked_by:
            names = ", ".join(sorted(blocked_by))
            return FileResult(dist, Outcome.NOT_ATTEMPTED, f"not attempted: its dependency {names} was not uploaded")
        if self.options.dry_run:
            return self._dry_run(dist)
        attempt_count = 0
        try:
            for attempt in resilience.attempts(self.policy):
                with attempt:
                    attempt_count += 1
                    return self._attempt(dist, attempt_count)
        except CircuitOpenError as exc:
            outcome = Outcome.NOT_ATTEMPTED if attempt_count <= 1 else Outcome.FAILED
            return FileResult(dist, outcome, f"{outcome}: {exc.message}", exc.hint, attempt_count - 1)
        except RetryableError as exc:
            return FileResult(dist, Outcome.FAILED, f"gave up after {attempt_count} attempt(s): {exc}", None, attempt_count)
        except RemoteError as exc:
            return FileResult(dist, Outcome.FAILED, exc.message, exc.hint, attempt_count)
        raise AssertionError("unreachable: the attempts end in a return or an exception")  # pragma: no cover

    # -- one attempt -------------------------------------------------------------------------------
    def _attempt(self, dist: Distribution, number: int) -> FileResult:
        self.breaker.check()
        if number > 1 or self.options.skip_existing:
            # after a failure the server may have stored the file anyway: never send it twice
            listed = self._server_failure_guard(lambda: self._listed(dist, fresh=number > 1))
            if listed is not None:
                return self._already_listed(dist, listed, number)
        response = self._server_failure_guard(lambda: self._post(dist))
        status = response.status_code
        if status in (200, 201):
            self.breaker.record_success()
            return FileResult(dist, Outcome.UPLOADED, "uploaded", attempts=number)
        if status == 408 or status == 429 or status >= 500:
            self.breaker.record_failure()
            raise RetryableError(server_message(response), retry_after=resilience.parse_retry_after(response.headers.get("retry-after")))
        self.breaker.record_success()  # the server is up and answering; the file is the problem
        message = server_message(response)
        if 300 <= status < 400 or status == 405:
            where = f" to {response.headers['location']}" if "location" in response.headers else ""
            raise RemoteError(f"{message}: the server redirected or refused the upload{where}", hint=upload_url_hint(self.repository.upload_url))
        if says_already_exists(status, message):
            return self._server_says_exists(dist, message, number)
        if status in (401, 403):
            raise RemoteError(
                f"authentication or permission refused: {message}",
                hint="check the user name and password (or --token) for this repository",
            )
        raise RemoteError(message)

    def _server_failure_guard(self, call: Callable[[], R]) -> R:
        try:
            return call()
        except RetryableError:
            self.breaker.record_failure()
            raise

    def _post(self, dist: Distribution) -> Response:
        fields = [*form_fields(dist), (":action", "file_upload"), ("protocol_version", "1")]
        body = multipart.encode(fields, file_field="content", path=dist.path, file_size=dist.size)
        report = lambda n: self.on_progress(Progress(dist.filename, dist.size, advance=n))  # noqa: E731
        headers = {"Content-Type": body.content_type, "Content-Length": str(body.length)}
        started = self.pacer.wait_turn()
        self.on_progress(Progress(dist.filename, dist.size, phase="start"))
        try:
            response = self.client.request("POST", self.repository.upload_url, body=body.chunks(report), headers=headers)
            self.pacer.round_trip(time.monotonic() - started)
            return response
        except TransportError as exc:
            raise failure(exc, f"sending {dist.filename}") from exc
        finally:
            self.on_progress(Progress(dist.filename, dist.size, phase="done"))

    # -- what the index lists ----------------------------------------------------------------------
    def _listed(self, dist: Distribution, *, fresh: bool) -> IndexFile | None:
        """The index's entry for this file; ``fresh`` after anything was sent, else as the batch began."""
        listing = self.index.files(dist.project) if fresh else self._listing_before(dist.project)
        return listing.get(dist.filename)

    def _listing_before(self, project: str) -> dict[str, IndexFile]:
        """The project's files as the index listed them before this batch; a failed lookup is asked again."""
        mine: Future[dict[str, IndexFile]] | None = None
        with self._listings_lock:
            known = self._listings_before.get(project)
            if known is None or (known.done() and known.exception() is not None):
                known = mine = self._listings_before[project] = Future()
        if mine is not None:
            try:
                mine.set_result(self.index.files(project))
            except Exception as exc:  # the waiting threads get it too; each retries as it decides
                mine.set_exception(exc)
        return known.result()

    def _already_listed(self, dist: Distribution, listed: IndexFile, number: int) -> FileResult:
        if self.index.sha256(listed) != dist.sha256:
            raise RemoteError(
                f"the index already has {dist.filename} with another sha256; refusing to overwrite it",
                hint="a published file never changes: bump the version and build again",
            )
        if number == 1:
            return FileResult(dist, Outcome.SKIPPED, "already on the index (same sha256)", attempts=0)
        return FileResult(dist, Outcome.UPLOADED, "stored by an earlier attempt (same sha256 listed)", attempts=number - 1)

    def _server_says_exists(self, dist: Distribution, message: str, number: int) -> FileResult:
        if not self.options.skip_existing:
            raise RemoteError(message, hint="pass --skip-existing to skip files the index already has")
        listed = self._listed(dist, fresh=True)
        if listed is not None:
            return self._already_listed(dist, listed, 1)
        return FileResult(dist, Outcome.SKIPPED, f"the server says it already has this file ({message})", attempts=number)

    def _dry_run(self, dist: Distribution) -> FileResult:
        if not self.options.skip_existing:
            return FileResult(dist, Outcome.WOULD_UPLOAD)
        try:
            listed = resilience.call_with_retries(lambda: self._listed(dist, fresh=False), self.policy)
            if listed is None:
                return FileResult(dist, Outcome.WOULD_UPLOAD)
            result = self._already_listed(dist, listed, 1)
        except (RetryableError, RemoteError) as exc:
            return FileResult(dist, Outcome.FAILED, str(exc), getattr(exc, "hint", None))
        return FileResult(dist, Outcome.WOULD_SKIP, f"would skip: {result.message}")

    def _verify_project(self, results: list[FileResult]) -> None:
        """Verify, then audit, the uploaded files of one project."""
        try:
            self._check_listing(results)
        finally:
            for result in results:
                self._audit(result)

    def _check_listing(self, results: list[FileResult]) -> None:
        """After upload, the index must serve each file with the sha256 that was sent."""
        project = results[0].dist.project
        try:
            listing = resilience.call_with_retries(lambda: self.index.files(project), self.policy)
        except (RetryableError, RemoteError) as exc:
            for result in results:
                result.outcome, result.message = Outcome.FAILED, f"uploaded, but the index could not be read to verify it: {exc}"
            return
        for result in results:
            entry = listing.get(result.dist.filename)
            if entry is None:
                result.outcome = Outcome.FAILED
                result.message = f"the server accepted the upload but {self.index.url} does not list it"
                result.hint = "pass --index-url with the index's simple URL, or --no-verify"
            elif self.index.sha256(entry) != result.dist.sha256:
                result.outcome = Outcome.FAILED
                result.message = "the index lists this file with another sha256 than the one sent"
