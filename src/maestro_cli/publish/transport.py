"""Speaking HTTP to an index, and reading what servers answer.

The client is the standard library's ``http.client`` behind a small keep-alive pool, not httpx (which
the rest of maestro uses): against pypiserver on loopback an upload costs about 3 ms of client CPU
through httpx and 0.4 ms through ``http.client``, and importing httpx costs 45 ms more. With 40
files that is more than the whole upload phase. An upload needs nothing httpx adds: no HTTP/2, no
async, no redirects (they must not be followed), no cookies, no content decoding.

What it keeps from httpx: Basic auth on every request, connections kept alive and shared by the
upload threads, separate connect/read/write timeouts, TLS checked against certifi's bundle (or
``--cert``, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``) and never set up for plain http, and the
``*_proxy`` environment variables (CONNECT tunnels for https).
"""

from __future__ import annotations

import base64
import http.client  # with the module, not by the first request: see IndexClient
import os
import re
import select
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit

from .. import __version__, redaction, resilience
from ..errors import InputError, RemoteError
from ..resilience import RetryableError

if TYPE_CHECKING:
    import ssl

    from .credentials import Repository

# How much of an answer is read at a time: a file downloaded to be hashed is never held whole.
_READ_SIZE = 1 << 16


class TransportError(Exception):
    """The request did not get an answer: refused, reset, timed out, or TLS failed."""

    def __init__(self, message: str, *, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, for the server to read, and for it to answer."""

    connect: float = resilience.CONNECT_TIMEOUT
    read: float = resilience.READ_TIMEOUT
    write: float = resilience.WRITE_TIMEOUT

    @classmethod
    def from_option(cls, seconds: float | None) -> Timeouts:
        """``--timeout S``: S to read or write, at most the default to connect."""
        if seconds is None:
            return cls()
        return cls(connect=min(seconds, resilience.CONNECT_TIMEOUT), read=seconds, write=seconds)


@dataclass(frozen=True)
class Response:
    """A server's whole answer: status, headers (names in lower case) and body."""

    status_code: int
    reason_phrase: str
    headers: dict[str, str]  # names in lower case
    content: bytes = field(repr=False)

    @property
    def text(self) -> str:
        charset = re.search(r"charset=([\w-]+)", self.headers.get("content-type", ""))
        try:
            return self.content.decode(charset.group(1) if charset else "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


_Origin = tuple[str, str, int]  # scheme, host, port


class IndexClient:
    """Keep-alive connections to an index, shared by threads: each request checks one out and back in.

    http.client is imported with this module: imported by the first request instead, it held the
    other upload threads behind the import lock, and the uploads paced to start apart (pacing.py)
    all left together the moment it was done.
    """

    def __init__(self, *, auth: tuple[str, str] | None, timeouts: Timeouts, ca_bundle: str | None = None) -> None:
        self.timeouts = timeouts
        self.ca_bundle = ca_bundle
        self.headers = {"User-Agent": f"maestro/{__version__}"}
        if auth is not None:
            self.headers["Authorization"] = _basic(*auth)
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._routes: dict[_Origin, _Route] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None  # made on the first https request only

    def request(
        self, method: str, url: str, *, body: bytes | Iterable[bytes] | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """One request, its whole answer read; raises :class:`TransportError` when there is none."""
        chunks: list[bytes] = []
        status, reason, answer_headers = self._exchange(method, url, body, headers or {}, chunks.append)
        return Response(status, reason, answer_headers, b"".join(chunks))

    def download(self, url: str, sink: Callable[[bytes], None]) -> int:
        """GET ``url`` feeding the body to ``sink`` a block at a time; returns the status code."""
        status, _reason, _headers = self._exchange("GET", url, None, {}, sink)
        return status

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _exchange(
        self,
        method: str,
        url: str,
        body: bytes | Iterable[bytes] | None,
        headers: dict[str, str],
        sink: Callable[[bytes], None],
    ) -> tuple[int, str, dict[str, str]]:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        route = self._route(origin)
        connection = self._checkout(origin, route)
        target = url if route.absolute else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            if connection.sock is None:
                connection.connect()
            connection.sock.settimeout(self.timeouts.write)
            try:
                connection.request(method, target, body=body, headers={**self.headers, **route.headers, **headers})
            except OSError as exc:
                unsent: OSError | None = exc
            else:
                unsent = None
            connection.sock.settimeout(self.timeouts.read)
            try:
                response = connection.getresponse()
            except (OSError, http.client.HTTPException):
                # a server may answer early (401, 413) and close before the whole body is sent: then
                # its answer says why, and only without one is the broken pipe the error
                if unsent is not None:
                    raise unsent from None
                raise
            while block := response.read(_READ_SIZE):
                sink(block)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError(f"{type(exc).__name__}: {exc}", cause=exc) from exc
        except BaseException:  # Ctrl-C mid-request: the connection is in an unknown state
            connection.close()
            raise
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        with self._lock:
            self._idle.setdefault(origin, []).append(connection)
        return response.status, response.reason, answer_headers

    def _route(self, origin: _Origin) -> _Route:
        with self._lock:
            route = self._routes.get(origin)
        if route is None:
            route = _Route.to(origin)
            with self._lock:
                self._routes[origin] = route
        return route

    def _checkout(self, origin: _Origin, route: _Route) -> http.client.HTTPConnection:
        """An idle connection the server has not closed, or a new one."""
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if connection.sock is None or not _closed_by_server(connection.sock):
                    return connection
                connection.close()
        if origin[0] != "https":
            return http.client.HTTPConnection(*route.address, timeout=self.timeouts.connect)
        connection = http.client.HTTPSConnection(*route.address, timeout=self.timeouts.connect, context=self.tls_context())
        if route.tunnel:
            connection.set_tunnel(origin[1], origin[2], headers=route.tunnel_headers)
        return connection

    def tls_context(self) -> ssl.SSLContext:
        """Made once, on first need: loading a CA bundle costs 20-30 ms that plain http never pays."""
        with self._lock:
            if self._tls is None:
                self._tls = tls_context(self.ca_bundle)
            return self._tls


@dataclass(frozen=True)
class _Route:
    """How requests reach an origin: directly, or through the proxy the ``*_proxy`` variables name."""

    address: tuple[str, int]
    tunnel: bool = False  # https through a proxy: a CONNECT tunnel
    tunnel_headers: dict[str, str] = field(default_factory=dict)
    absolute: bool = False  # plain http through a proxy: the request line names the whole URL
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request

    @classmethod
    def to(cls, origin: _Origin) -> _Route:
        scheme, host, port = origin
        # the common case decided without importing urllib.request
        proxy = _proxy_url(scheme, host, port) if any(n.lower().endswith("_proxy") for n in os.environ) else None
        if proxy is None:
            return cls((host, port))
        address = (proxy.hostname or "", proxy.port or 80)
        credentials = {}
        if proxy.username is not None:
            password = unquote(proxy.password or "")
            redaction.register(password)
            credentials = {"Proxy-Authorization": _basic(unquote(proxy.username), password)}
        if scheme == "https":
            return cls(address, tunnel=True, tunnel_headers=credentials)
        return cls(address, absolute=True, headers=credentials)


def _proxy_url(scheme: str, host: str, port: int) -> SplitResult | None:
    import urllib.request

    proxy = urllib.request.getproxies().get(scheme)
    if not proxy or urllib.request.proxy_bypass(f"{host}:{port}"):
        return None
    return urlsplit(proxy if "://" in proxy else f"http://{proxy}")


def _closed_by_server(sock: object) -> bool:
    """An idle keep-alive socket that is readable has been closed (or answered out of turn)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def index_client(repository: Repository, *, timeout: float | None = None, ca_bundle: str | None = None) -> IndexClient:
    """One client for uploads and simple-API lookups: the same credentials, TLS and timeouts."""
    client = IndexClient(auth=repository.auth, timeouts=Timeouts.from_option(timeout), ca_bundle=ca_bundle)
    if any(url.startswith("https:") for url in (repository.upload_url, *repository.index_urls)):
        client.tls_context()  # now: a bad --cert is bad input before anything is sent
    return client


def failure(exc: TransportError, doing: str) -> RemoteError | RetryableError:
    """A transport error as maestro's: an untrusted certificate is final, anything else worth a retry."""
    import ssl

    cause = exc.cause
    if isinstance(cause, ssl.SSLCertVerificationError):
        return RemoteError(
            f"{doing}: the server's TLS certificate is not trusted ({cause.verify_message or cause})",
            hint="pass --cert with the CA bundle that signed the index's certificate",
        )
    if isinstance(cause, TimeoutError):
        return RetryableError(f"{doing}: timed out ({type(cause).__name__})")
    return RetryableError(f"{doing}: connection failed ({exc})")


_EXISTS_PATTERNS = (
    (400, "already exists"),  # PyPI, and pypiserver to twine
    (400, "updating asset"),  # Nexus
    (400, "cannot be updated"),  # Nexus
    (400, "already been taken"),  # GitLab
    (403, "overwrite"),  # Artifactory
)


def says_already_exists(status: int, message: str) -> bool:
    """The servers' ways of saying "this file is already here" (pypiserver and Azure say 409)."""
    text = message.lower()
    return status == 409 or any(status == code and phrase in text for code, phrase in _EXISTS_PATTERNS)


def server_message(response: Response) -> str:
    """The server's own reason, short: PyPI puts it in the status line, others in an HTML body."""
    import html

    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text, flags=re.S | re.I)
    pre = re.search(r"<pre>(.*?)</pre>", body, flags=re.S | re.I)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", pre.group(1) if pre else body)).split())
    reason = response.reason_phrase
    detail = text if text and text not in reason else ""
    message = f"HTTP {response.status_code} {reason}" + (f": {detail}" if detail else "")
    return message[:400]


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """``--cert``'s bundle; else ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``; else certifi's, as httpx and requests."""
    import ssl

    try:
        if ca_bundle is not None:
            return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"--cert {ca_bundle}: not a readable CA bundle ({exc})") from None
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
