"""A monotonic clock that tests can replace."""

import time


def now():
    return time.monotonic()
