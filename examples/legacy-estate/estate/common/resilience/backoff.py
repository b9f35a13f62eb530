"""Retry a callable with exponential backoff."""

import functools
import logging
import random
import time

from estate.common.resilience import clock

log = logging.getLogger(__name__)


class RetryError(Exception):
    """Raised when every attempt failed; the last error is the cause."""


def retry(attempts=3, backoff=0.1, exceptions=(Exception,), deadline=None):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            started = clock.now()
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except exceptions as exc:
                    if attempt == attempts or (deadline and clock.now() - started > deadline):
                        raise RetryError(f"{func.__name__} failed after {attempt} attempts") from exc
                    delay = backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)
                    log.warning("attempt %d of %s failed: %s; retrying in %.2fs", attempt, func.__name__, exc, delay)
                    time.sleep(delay)

        return wrapper

    return decorate
