"""A circuit breaker: stop calling a dependency that keeps failing."""

from . import clock


class CircuitOpenError(Exception):
    pass


class CircuitBreaker:
    def __init__(self, threshold=5, reset_after=30.0):
        self.threshold = threshold
        self.reset_after = reset_after
        self.failures = 0
        self.opened_at = None

    @property
    def state(self):
        if self.opened_at is None:
            return "closed"
        if clock.now() - self.opened_at >= self.reset_after:
            return "half-open"
        return "open"

    def call(self, func, *args, **kwargs):
        if self.state == "open":
            raise CircuitOpenError(f"circuit open after {self.failures} failures")
        try:
            result = func(*args, **kwargs)
        except Exception:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = clock.now()
            raise
        self.failures = 0
        self.opened_at = None
        return result
