"""Retries, timeouts and the circuit breaker, with their defaults and why.

The retry loop itself is tenacity's; this module keeps only maestro's policy: what is retried,
how long to wait (honouring ``Retry-After``), and when a bulk operation should give up on a server.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import CircuitOpenError

if TYPE_CHECKING:
    import ssl

    import httpx
    import tenacity

# Three retries cover a rolling restart of a typical index (Nexus, Artifactory) without making a
# hard-down server cost the user minutes.
DEFAULT_RETRIES = 3
# Exponential backoff from 0.5 s, capped at 10 s: the second retry waits ~1 s, the third ~2 s.
DEFAULT_BACKOFF = 0.5
DEFAULT_BACKOFF_MAX = 10.0
# Full jitter up to one backoff step, so eight parallel uploads do not retry in lock-step.
DEFAULT_JITTER = 0.5
# A Retry-After longer than this is capped: a CLI should not sleep for an hour on a server's word.
RETRY_AFTER_CAP = 60.0
# Timeouts for one HTTP attempt. Connecting to a healthy index takes milliseconds; reading the
# answer of an upload can take long while the server stores and indexes a large file.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
WRITE_TIMEOUT = 60.0
# Five consecutive failures against one server mean it is down, not flaky.
CIRCUIT_THRESHOLD = 5


class RetryableError(Exception):
    """Raised by an attempt that may succeed when repeated; may carry the server's Retry-After."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    backoff_max: float = DEFAULT_BACKOFF_MAX
    jitter: float = DEFAULT_JITTER

    @property
    def attempts(self) -> int:
        return self.retries + 1


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    import email.utils

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(moment.timestamp() - time.time(), 0.0), RETRY_AFTER_CAP)


_tenacity_import = threading.Lock()


def _tenacity() -> ModuleType:
    """tenacity, without the ``import tornado`` it tries at its own import: where tornado is installed
    (jupyter_client brings it) that import cost 25-50 ms of every publish; maestro retries no coroutines."""
    with _tenacity_import:
        block = "tenacity" not in sys.modules and "tornado" not in sys.modules
        if block:
            sys.modules["tornado"] = None  # type: ignore[assignment]  # `import tornado` fails at once
        try:
            import tenacity
        finally:
            if block:
                del sys.modules["tornado"]  # whatever imports tornado later gets the real one
    return tenacity


def _wait_strategy(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    tenacity = _tenacity()
    backoff = tenacity.wait_exponential(multiplier=policy.backoff, max=policy.backoff_max)
    jitter = tenacity.wait_random(0, policy.jitter) if policy.jitter > 0 else tenacity.wait_none()

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return backoff(state) + jitter(state)

    return wait


def attempts(
    policy: RetryPolicy,
    *,
    retry_on: tuple[type[BaseException], ...] = (RetryableError,),
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tenacity.AttemptManager]:
    """Attempts to run under ``with attempt:``; the last failure propagates unchanged.

    ``on_retry(attempt_number, error, wait_seconds)`` is called before each wait, so that callers can
    record every attempt (run-plan) or check the server first (publish).
    """
    tenacity = _tenacity()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry and state.outcome is not None and state.next_action is not None:
            on_retry(state.attempt_number, state.outcome.exception(), state.next_action.sleep)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_wait_strategy(policy),
        retry=tenacity.retry_if_exception_type(retry_on),
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep,
    )
    yield from retrying


def call_with_retries(
    func: Callable[[], Any],
    policy: RetryPolicy,
    *,
    retry_on: tuple[type[BaseException], ...] = (RetryableError,),
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> Any:
    for attempt in attempts(policy, retry_on=retry_on, on_retry=on_retry):
        with attempt:
            return func()
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; every later call is refused at once.

    Thread-safe: parallel uploads share one breaker per server.
    """

    def __init__(self, threshold: int = CIRCUIT_THRESHOLD, *, name: str = "server") -> None:
        self.threshold = threshold
        self.name = name
        self._consecutive = 0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._consecutive >= self.threshold

    def check(self) -> None:
        if self.is_open:
            raise CircuitOpenError(
                f"stopped after {self.threshold} consecutive failures against {self.name}",
                hint="the server looks down; try again later",
            )

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1


def http_timeout(
    *, connect: float = CONNECT_TIMEOUT, read: float = READ_TIMEOUT, write: float = WRITE_TIMEOUT
) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(connect=connect, read=read, write=write, pool=connect)


def http_client(
    *,
    timeout: httpx.Timeout | float | None = None,
    transport: httpx.BaseTransport | None = None,
    verify: bool | str | ssl.SSLContext = True,
    auth: tuple[str, str] | None = None,
    follow_redirects: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """The one httpx client factory; redirects are off by default because an upload must not follow one."""
    import httpx

    from . import __version__

    if isinstance(timeout, int | float):
        timeout = http_timeout(connect=min(float(timeout), CONNECT_TIMEOUT), read=float(timeout), write=float(timeout))
    return httpx.Client(
        timeout=timeout or http_timeout(),
        transport=transport,
        verify=verify,
        auth=auth,
        follow_redirects=follow_redirects,
        headers={"User-Agent": f"maestro/{__version__}", **(headers or {})},
    )
