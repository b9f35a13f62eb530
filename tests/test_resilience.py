"""Retries against a real flaky HTTP server, Retry-After, and the circuit breaker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from maestro_cli.errors import CircuitOpenError
from maestro_cli.resilience import (
    CircuitBreaker,
    RetryableError,
    RetryPolicy,
    attempts,
    call_with_retries,
    http_client,
    parse_retry_after,
)


class FlakyServer(ThreadingHTTPServer):
    """Answers 503 (with a Retry-After) a given number of times, then 200."""

    failures_left: int
    hits: int = 0


class FlakyHandler(BaseHTTPRequestHandler):
    server: FlakyServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.hits += 1
        if self.server.failures_left > 0:
            self.server.failures_left -= 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[FlakyServer]:
    server = FlakyServer(("127.0.0.1", 0), FlakyHandler)
    server.failures_left = 2
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def fetch(url: str) -> int:
    with http_client(timeout=5) as client:
        response = client.get(url)
    if response.status_code >= 500:
        raise RetryableError(f"{response.status_code}", retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return response.status_code


def test_retries_until_the_server_recovers(flaky_server: FlakyServer) -> None:
    seen: list[tuple[int, float]] = []
    url = f"http://127.0.0.1:{flaky_server.server_port}/"
    status = call_with_retries(lambda: fetch(url), RetryPolicy(retries=3), on_retry=lambda n, e, w: seen.append((n, w)))
    assert status == 200
    assert flaky_server.hits == 3
    assert seen == [(1, 0.0), (2, 0.0)]  # Retry-After: 0 beats the backoff


def test_gives_up_after_the_last_attempt_with_the_last_error(flaky_server: FlakyServer) -> None:
    flaky_server.failures_left = 10
    url = f"http://127.0.0.1:{flaky_server.server_port}/"
    with pytest.raises(RetryableError, match="503"):
        call_with_retries(lambda: fetch(url), RetryPolicy(retries=2, backoff=0, jitter=0))
    assert flaky_server.hits == 3


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    waits: list[float] = []
    policy = RetryPolicy(retries=4, backoff=0.5, backoff_max=1.5, jitter=0.25)
    with pytest.raises(RetryableError):
        for attempt in attempts(policy, sleep=waits.append):
            with attempt:
                raise RetryableError("down")
    assert len(waits) == 4
    for wait, base in zip(waits, [0.5, 1.0, 1.5, 1.5], strict=True):
        assert base <= wait <= base + 0.25


def test_other_errors_are_not_retried() -> None:
    calls = []

    def bad_request() -> None:
        calls.append(1)
        raise ValueError("400 bad request")

    with pytest.raises(ValueError):
        call_with_retries(bad_request, RetryPolicy(retries=3))
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("100000", 60.0), (None, None), ("soon", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(later) <= 30  # type: ignore[operator]


def test_circuit_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(threshold=3, name="https://index.example")
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # a success in between resets the count
    breaker.record_failure()
    breaker.record_failure()
    breaker.check()
    breaker.record_failure()
    with pytest.raises(CircuitOpenError, match="stopped after 3 consecutive failures against https://index.example"):
        breaker.check()


def test_retrying_does_not_import_tornado_yet_leaves_it_importable():
    """tenacity probes for tornado at import (25-50 ms where it is installed); maestro needs none of it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from maestro_cli.resilience import RetryPolicy, call_with_retries\n"
        "assert call_with_retries(lambda: 7, RetryPolicy()) == 7\n"
        "print('tornado' in sys.modules)\n"
        "import importlib.util\n"
        "print(importlib.util.find_spec('tornado') is None or __import__('tornado') is not None)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
