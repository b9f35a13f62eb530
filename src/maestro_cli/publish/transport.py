"""Speaking HTTP to an index: the client (auth, TLS, timeouts) and reading what servers answer."""

from __future__ import annotations

import html
import re
import sys
from typing import TYPE_CHECKING

from .. import resilience
from ..errors import InputError, RemoteError
from ..resilience import RetryableError

if TYPE_CHECKING:
    import ssl

    import httpx

    from .credentials import Repository


def index_client(repository: Repository, *, timeout: float | None = None, ca_bundle: str | None = None) -> httpx.Client:
    """One client for uploads and simple-API lookups: the same credentials, TLS and timeouts."""
    import_httpcore()
    urls = [repository.upload_url, *repository.index_urls]
    # no TLS is spoken to an http:// index (loopback, or --allow-insecure), and loading the CA
    # bundle for nothing costs a tenth of a second or more at every start
    tls = tls_context(ca_bundle) if any(url.startswith("https:") for url in urls) else False
    return resilience.http_client(timeout=timeout, verify=tls, auth=repository.auth)


def failure(exc: httpx.TransportError, doing: str) -> RemoteError | RetryableError:
    """A transport error as maestro's: an untrusted certificate is final, anything else worth a retry."""
    import httpx

    text = str(exc)
    if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in text:
        return RemoteError(
            f"{doing}: the server's TLS certificate is not trusted ({text})",
            hint="pass --cert with the CA bundle that signed the index's certificate",
        )
    if isinstance(exc, httpx.TimeoutException):
        return RetryableError(f"{doing}: timed out ({type(exc).__name__})")
    return RetryableError(f"{doing}: connection failed ({type(exc).__name__}: {text})")


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


def server_message(response: httpx.Response) -> str:
    """The server's own reason, short: PyPI puts it in the status line, others in an HTML body."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text, flags=re.S | re.I)
    pre = re.search(r"<pre>(.*?)</pre>", body, flags=re.S | re.I)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", pre.group(1) if pre else body)).split())
    reason = response.reason_phrase
    detail = text if text and text not in reason else ""
    message = f"HTTP {response.status_code} {reason}" + (f": {detail}" if detail else "")
    return message[:400]


def import_httpcore() -> None:
    """Import httpcore without letting it import trio, when trio is installed (selenium brings it).

    httpcore probes for trio at import, which costs 0.1 to 0.4 s; publishing is synchronous and
    never needs it. ``None`` in ``sys.modules`` makes that probe fail fast; it is removed again at
    once, so that anything importing trio later gets the real one.
    """
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    sys.modules["trio"] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401  (httpx imports it only when the first client is made)
    finally:
        del sys.modules["trio"]


def tls_context(ca_bundle: str | None) -> ssl.SSLContext | bool:
    if ca_bundle is None:
        return True  # httpx's default: certifi's bundle
    import ssl

    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"--cert {ca_bundle}: not a readable CA bundle ({exc})") from None
