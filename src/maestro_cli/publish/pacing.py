"""Pacing: the starts of parallel uploads spread over a round trip, not sent all at once.

Parallel uploads started together reach the index together and, through a far index, stay together:
every round trip is about as long, so every round they arrive at the same moment. An index that
serves requests on one process (pypiserver, devpi: one Python process, its threads taking turns)
then works on all of them at once and answers none until it has done them all; each upload waits
for every other one's work, round after round. Spread over the round trip, each upload finds the
index free. Through a +50 ms proxy to pypiserver, four uploads at a time took 68-75 ms a round
started together and 60-66 ms paced.

The spacing is the shortest round trip seen so far divided by one more than the number of parallel
uploads (at most MAX_SPACING): the starts are spread, and still come a little faster than the
uploads can finish, so the pace never holds back a free connection for long. The shortest, not the latest: a long upload (a
large file, a slow answer) says nothing about the network and must not slow the small files.
Before any upload has come back, a guess (FIRST_SPACING) spreads the first ones; an upload waiting
for its turn starts as soon as a measured round trip allows it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Seconds between the first starts, before any round trip is known: about an upload's work on a
# one-process index (pypiserver: 7-8 ms), so that the first ones do not arrive together either.
FIRST_SPACING = 0.010
# The most the spacing grows to: well past an index's work on one upload, which is what spreading
# avoids sharing; a batch whose shortest upload takes seconds (large files) gains nothing from more.
MAX_SPACING = 0.1


class Pacer:
    """Lets the threads that ask start at least ``spacing`` seconds apart."""

    def __init__(
        self,
        parallel: int,
        *,
        first_spacing: float = FIRST_SPACING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parallel = max(1, parallel)
        self.spacing = first_spacing if self.parallel > 1 else 0.0
        self._shortest: float | None = None
        self._last_start: float | None = None
        self._clock = clock
        self._changed = threading.Condition()

    def wait_turn(self) -> float:
        """Return when this caller may start: ``spacing`` after the previous start (at once for the
        first). Returns the start time."""
        with self._changed:
            while True:
                now = self._clock()
                if self._last_start is None or now >= self._last_start + self.spacing:
                    self._last_start = now
                    return now
                self._changed.wait(self._last_start + self.spacing - now)

    def round_trip(self, seconds: float) -> None:
        """One upload's time from its start to the server's answer."""
        if self.parallel == 1:
            return
        with self._changed:
            if self._shortest is None or seconds < self._shortest:
                self._shortest = seconds
                self.spacing = min(seconds / (self.parallel + 1), MAX_SPACING)
                self._changed.notify_all()  # a shorter spacing may let a waiting upload go now
