"""Real servers for publish tests and the benchmark: pypiserver with htpasswd auth, and a proxy.

The proxy is a real HTTP/1.1 server in front of pypiserver. It forwards requests, optionally after a
fixed delay (a far-away index, for the benchmark), and misbehaves on command for the faults a
healthy server cannot show: a 503, a connection reset mid-upload, a 502 after the file was stored,
a stall past the client's timeout.
"""

from __future__ import annotations

import http.client
import re
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USER = "alice"
PASSWORD = "s3cret-Pa55word"  # long and odd enough that finding it in output is never a coincidence


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PypiServer:
    url: str  # the upload URL (pypiserver takes uploads at its root)
    packages: Path

    @property
    def simple_url(self) -> str:
        return f"{self.url}simple/"

    def authenticated(self, url: str) -> str:
        return url.replace("http://", f"http://{USER}:{PASSWORD}@", 1)

    def stored(self) -> list[str]:
        return sorted(p.name for p in self.packages.iterdir() if p.is_file())


@contextmanager
def running_pypiserver(root: Path, *, server: str = "wsgiref") -> Iterator[PypiServer]:
    """pypiserver on a free loopback port, every action behind a passlib htpasswd file.

    ``server`` is pypiserver's WSGI server: tests take wsgiref (one request at a time, always there);
    the benchmark asks for ``paste`` (a thread pool), as the indexes teams run (Nexus, Artifactory,
    devpi) serve requests in parallel.
    """
    from passlib.apache import HtpasswdFile

    packages = root / "packages"
    packages.mkdir(parents=True)
    passwords = HtpasswdFile(str(root / "htpasswd"), new=True)
    passwords.set_password(USER, PASSWORD)
    passwords.save()
    port = free_port()
    command = [
        sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1",
        "-a", "update,download,list", "-P", str(root / "htpasswd"), "--disable-fallback",
        "--backend", "simple-dir", "--server", server, "--log-stream", "none", str(packages),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(f"{url}health", process)
        yield PypiServer(url, packages)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pypiserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise RuntimeError(f"pypiserver did not answer at {url}")


# Answers of real servers that pypiserver does not give, by fault name.
CANNED: dict[str, tuple[int, str, bytes, list[tuple[str, str]]]] = {
    "redirect": (301, "Moved Permanently", b"", [("Location", "/simple/")]),
    "nexus-exists": (400, "Repository does not allow updating assets: pypi-hosted", b"", []),
    "artifactory-exists": (403, "Forbidden", b'{"errors":[{"status":403,"message":"Not enough permissions to delete/overwrite artifact"}]}', []),
}


@dataclass
class FaultyProxy:
    """Forwards to ``upstream``; each queued fault applies to one upload (POST), in order.

    Faults: ``"503"`` (with ``Retry-After: 0``), ``"reset"`` (half the body read, then a TCP RST),
    ``"refuse-early"`` (401 before the body is read, then the connection closed),
    ``"store-502"`` (forwarded, stored, then answered 502), ``"stall"`` (no answer for
    ``stall_seconds``), ``"always-503"`` (every upload from now on), and the names in ``CANNED``.
    """

    upstream: str
    latency: float = 0.0  # added to every request
    tls: ssl.SSLContext | None = None  # a server-side context: the proxy speaks https
    stall_seconds: float = 5.0
    faults: list[str] = field(default_factory=list)
    forwarded_files: list[str] = field(default_factory=list)  # uploads that reached the server, in order
    posts_received: int = 0
    request_targets: list[str] = field(default_factory=list)  # as the request lines named them
    connections: int = 0  # TCP connections clients opened
    _server: socketserver.ThreadingTCPServer | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> FaultyProxy:
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with proxy._lock:
                    proxy.connections += 1
                proxy._serve_connection(self.connection, self.rfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _next_fault(self) -> str | None:
        with self._lock:
            self.posts_received += 1
            if not self.faults:
                return None
            return self.faults[0] if self.faults[0] == "always-503" else self.faults.pop(0)

    def _serve_connection(self, connection: socket.socket, rfile) -> None:  # noqa: ANN001
        while True:
            request_line = rfile.readline()
            if not request_line.strip():
                return
            method, target, _version = request_line.decode("latin-1").split(" ", 2)
            # a client that takes this for a forward proxy names the whole URL (RFC 9112 3.2.2)
            path = re.sub(r"^https?://[^/]+", "", target) or "/"
            with self._lock:
                self.request_targets.append(target)
            headers: list[tuple[str, str]] = []
            while (line := rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name.strip(), value.strip()))
            length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
            if self.latency:
                time.sleep(self.latency)
            fault = self._next_fault() if method == "POST" else None
            if fault == "refuse-early":  # like nginx's auth_basic: the answer before the body, then close
                self._answer(connection, 401, "Unauthorized", b"<html><body>401 Authorization Required</body></html>", [])
                connection.close()
                return
            if fault == "reset":
                rfile.read(length // 2)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
                return
            body = rfile.read(length)
            if fault == "stall":
                time.sleep(self.stall_seconds)
                return
            if fault in ("503", "always-503"):
                self._answer(connection, 503, "Service Unavailable", b"try again", [("Retry-After", "0")])
                continue
            if fault in CANNED:
                status, reason, canned_body, canned_headers = CANNED[fault]
                self._answer(connection, status, reason, canned_body, canned_headers)
                continue
            status, reason, response_headers, response_body = self._forward(method, path, headers, body)
            if method == "POST":
                uploaded = re.search(rb'filename="([^"]+)"', body)
                with self._lock:
                    self.forwarded_files.append(uploaded.group(1).decode() if uploaded else "?")
            if fault == "store-502":
                self._answer(connection, 502, "Bad Gateway", b"upstream went away", [])
                continue
            self._answer(connection, status, reason, response_body, response_headers)

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes):  # noqa: ANN202
        host, port = self.upstream.split("//", 1)[1].rstrip("/").split(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in ("connection", "keep-alive", "proxy-connection"):
                    upstream.putheader(name, value)
            upstream.endheaders(body)
            response = upstream.getresponse()
            payload = response.read()
            kept = [(n, v) for n, v in response.getheaders() if n.lower() not in ("connection", "content-length", "transfer-encoding")]
            return response.status, response.reason, kept, payload
        finally:
            upstream.close()

    @staticmethod
    def _answer(connection: socket.socket, status: int, reason: str, body: bytes, headers: list[tuple[str, str]]) -> None:
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
        head += f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        connection.sendall(head.encode("latin-1") + body)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def running_proxy(upstream: str, **options: Any) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream, **options).start()
    try:
        yield proxy
    finally:
        proxy.stop()
