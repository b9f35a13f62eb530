"""Retry helper for inventory (copied from billing in 2019, changed since)."""

import functools
import logging
import random
import time

logger = logging.getLogger(__name__)


class GaveUp(Exception):
    pass


def with_retries(max_tries=5, base_delay=0.2, retry_on=(Exception,)):
    def decorator(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for n in range(1, max_tries + 1):
                try:
                    return fn(*args, **kwargs)
                except retry_on as error:
                    if n == max_tries:
                        raise GaveUp(f"{fn.__name__} gave up after {n} tries") from error
                    pause = base_delay * 2 ** (n - 1) * (1 + random.random() / 2)
                    logger.warning("try %d of %s failed: %s; sleeping %.2fs", n, fn.__name__, error, pause)
                    time.sleep(pause)

        return inner

    return decorator
