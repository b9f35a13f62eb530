"""Reading a package index's simple API: which files a project has, with their sha256.

This is what makes ``--skip-existing``, retries and verification work on every server: instead of
trusting each server's own "already exists" dialect, maestro asks the index what it serves (PEP 691
JSON when offered, else PEP 503 HTML) and compares hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from ..errors import RemoteError
from ..resilience import RetryableError, parse_retry_after
from .transport import IndexClient, Response, TransportError, failure

PYPI_UPLOAD_URL = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD_URL = "https://test.pypi.org/legacy/"
_KNOWN_SIMPLE = {"upload.pypi.org": "https://pypi.org/simple/", "test.pypi.org": "https://test.pypi.org/simple/"}
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{_SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def simple_url_candidates(upload_url: str) -> list[str]:
    """Where the simple index of an upload URL probably is, most likely first.

    PyPI and TestPyPI are known hosts; Artifactory (``/artifactory/api/pypi/REPO``), Nexus
    (``/repository/NAME/``), GitLab (``/api/v4/projects/ID/packages/pypi``) and anything ending in
    ``/legacy/`` put ``simple/`` beside the upload path; pypiserver serves ``/simple/`` under its root;
    devpi's ``/USER/INDEX/`` has ``+simple/``.
    """
    parts = urlsplit(upload_url)
    if parts.hostname in _KNOWN_SIMPLE:
        return [_KNOWN_SIMPLE[parts.hostname]]
    path = parts.path.rstrip("/")
    segments = [s for s in path.split("/") if s]
    if path.endswith(("/simple", "/+simple")):
        return [_with_path(upload_url, path + "/")]
    if path.endswith("/legacy"):
        return [_with_path(upload_url, path[: -len("legacy")] + "simple/")]
    if "artifactory" in segments or "repository" in segments or path.endswith("/packages/pypi"):
        return [_with_path(upload_url, path + "/simple/")]
    if len(segments) == 2:  # devpi USER/INDEX, or a pypiserver behind a prefix
        return [_with_path(upload_url, path + "/+simple/"), _with_path(upload_url, path + "/simple/")]
    return [_with_path(upload_url, path + "/simple/")]


def upload_url_hint(url: str) -> str:
    """What to say when an upload was redirected or refused with 405: usually a simple-index URL."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if parts.hostname == "pypi.org":
        guess = PYPI_UPLOAD_URL
    elif path.endswith("/+simple"):
        guess = _with_path(url, path[: -len("+simple")])
    elif path.endswith("/simple"):
        guess = _with_path(url, path[: -len("simple")])
    else:
        return "the repository URL must be the index's upload (legacy API) URL, not a web or simple-index page"
    return f"this looks like the simple index URL; the upload URL is probably {guess}"


@dataclass(frozen=True)
class IndexFile:
    """One file a project page lists: its name, where it is served, and the sha256 the page gives."""

    filename: str
    url: str
    sha256: str | None  # None when the index gives no hash; then the file is hashed on demand


def _html_files(body: str, base_url: str) -> list[IndexFile]:
    """PEP 503: one anchor per file, its text the file name, its href fragment the hash.

    html.parser is imported here, not with the module: it is first needed when the first project
    is verified, while later uploads wait on the network, rather than before the first upload.
    """
    from html.parser import HTMLParser

    files: list[IndexFile] = []

    class LinkParser(HTMLParser):
        href: str | None = None
        text: list[str]

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.href, self.text = dict(attrs).get("href"), []

        def handle_data(self, data: str) -> None:
            if self.href is not None:
                self.text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self.href is not None:
                url, fragment = urldefrag(urljoin(base_url, self.href))
                algorithm, _, value = fragment.partition("=")
                name = "".join(self.text).strip() or url.rsplit("/", 1)[-1]
                files.append(IndexFile(name, url, value if algorithm == "sha256" and value else None))
                self.href = None

    LinkParser().feed(body)
    return files


def parse_project_page(body: str, content_type: str, base_url: str) -> dict[str, IndexFile]:
    """The files of a PEP 691 JSON or PEP 503 HTML project page, by file name."""
    if content_type.split(";")[0].strip() == _SIMPLE_JSON:
        document = json.loads(body)
        files = [
            IndexFile(entry["filename"], urljoin(base_url, entry["url"]), entry.get("hashes", {}).get("sha256"))
            for entry in document.get("files", [])
        ]
    else:
        files = _html_files(body, base_url)
    return {entry.filename: entry for entry in files}


class Index:
    """One index's simple API, seen through the client that uploads to it (same auth, same TLS)."""

    def __init__(self, client: IndexClient, candidates: list[str]) -> None:
        self.client = client
        self.candidates = candidates
        self._confirmed: str | None = None  # the candidate that answered 200 once

    @property
    def url(self) -> str:
        return self._confirmed or self.candidates[0]

    def files(self, project: str) -> dict[str, IndexFile]:
        """The files the index lists for a normalised project name; empty when it has none."""
        for base in [self._confirmed] if self._confirmed else self.candidates:
            page = f"{base}{project}/"
            response = self._get(page, headers={"Accept": ACCEPT})
            if response.status_code == 200:
                self._confirmed = base
                return parse_project_page(response.text, response.headers.get("content-type", ""), page)
            if response.status_code in (401, 403):
                raise RemoteError(
                    f"the index at {base} refused to list {project}: HTTP {response.status_code}",
                    hint="check the user name and password; reading the index needs them too",
                )
            if response.status_code == 429 or response.status_code >= 500:
                raise RetryableError(
                    f"the index answered HTTP {response.status_code} listing {project}",
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                )
            # 404 and redirects (pypiserver sends unknown projects on to PyPI): not on this index
        return {}

    def sha256(self, entry: IndexFile) -> str:
        """The hash the index gives, or that of the file it serves, streamed."""
        if entry.sha256:
            return entry.sha256
        digest = hashlib.sha256()
        try:
            status = self.client.download(entry.url, digest.update)
        except TransportError as exc:
            raise failure(exc, f"reading {entry.url}") from exc
        if status != 200:
            raise RetryableError(f"the index answered HTTP {status} for {entry.filename}")
        return digest.hexdigest()

    def _get(self, url: str, headers: dict[str, str]) -> Response:
        try:
            return self.client.request("GET", url, headers=headers)
        except TransportError as exc:
            raise failure(exc, f"reading {url}") from exc
