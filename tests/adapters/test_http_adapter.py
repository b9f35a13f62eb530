"""The http adapter against a real local HTTP server, including one that is not ready at first."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from maestro_cli.adapters.base import StepContext, StepSpec
from maestro_cli.adapters.http import HttpAdapter


class _Handler(BaseHTTPRequestHandler):
    warming_up = 0  # answers 503 this many times first, like a service still starting

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/warming":
            if _Handler.warming_up > 0:
                _Handler.warming_up -= 1
                return self._send(503, {"status": "starting"})
            return self._send(200, {"status": "ok"})
        if self.path == "/items":
            return self._send(200, {"items": [{"id": 1, "name": "a", "extra": True}], "total": 1}, {"X-Api": "v2"})
        return self._send(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        self._send(201, {"received": body, "auth": self.headers.get("Authorization")})

    def _send(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(options: dict[str, Any], tmp_path: Path, timeout: float | None = None) -> tuple[Any, str]:
    log = io.StringIO()
    context = StepContext(
        workdir=tmp_path,
        env={},
        results_dir=tmp_path,
        attachments_dir=tmp_path,
        log=log,
        output_file=tmp_path / "out",
        deadline=time.monotonic() + timeout if timeout else None,
    )
    result = HttpAdapter().run(StepSpec(id="http", adapter="http", options=options, timeout=timeout), context)
    return result, log.getvalue()


def test_expectations_that_hold(server: str, tmp_path: Path) -> None:
    result, log = _run(
        {
            "url": f"{server}/items",
            "expect": {"status": 200, "json": {"items": [{"id": 1, "name": "a"}]}, "body": r'"total": \d', "headers": {"x-api": "v2"}, "max_latency": 5},
        },
        tmp_path,
    )
    assert result.outcome == "passed", result.message
    assert result.outputs["status"] == "200"
    assert log.startswith(f"GET {server}/items -> 200 in ")


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({}, "status 404, expected 2xx"),
        ({"status": [200, 204]}, "status 404, expected 200 or 204"),
        ({"status": 404, "json": {"error": "gone"}}, 'JSON $.error: expected "gone", got "not found"'),
        ({"status": 404, "json": {"code": 1}}, "JSON $.code: missing"),
        ({"status": 404, "body": "^<html"}, "body does not match /^<html/"),
    ],
)
def test_expectations_that_fail_say_why(server: str, tmp_path: Path, expect: dict[str, Any], message: str) -> None:
    result, _ = _run({"url": f"{server}/missing", "expect": expect}, tmp_path)
    assert (result.outcome, result.message) == ("failed", message)


def test_post_json_with_headers(server: str, tmp_path: Path) -> None:
    result, _ = _run(
        {"url": f"{server}/things", "method": "post", "json": {"name": "x"}, "headers": {"Authorization": "Bearer t"}, "expect": {"status": 201, "json": {"received": {"name": "x"}, "auth": "Bearer t"}}},
        tmp_path,
    )
    assert result.outcome == "passed", result.message


def test_retries_until_the_service_is_ready(server: str, tmp_path: Path) -> None:
    _Handler.warming_up = 3
    result, log = _run({"url": f"{server}/warming", "retry_for": 20, "interval": 0.05, "expect": {"json": {"status": "ok"}}}, tmp_path)
    assert result.outcome == "passed"
    assert log.count("-> 503") == 3 and log.count("-> 200") == 1


def test_gives_up_at_the_deadline(tmp_path: Path) -> None:
    result, log = _run({"url": "http://127.0.0.1:9/", "retry_for": 1.0, "interval": 0.05}, tmp_path)
    assert result.outcome == "failed"
    assert result.message.startswith("GET http://127.0.0.1:9/: ConnectError") and result.message.endswith("tries)")
