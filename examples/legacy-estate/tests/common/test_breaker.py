import pytest

from estate.common.resilience.breaker import CircuitBreaker, CircuitOpenError


def fail():
    raise RuntimeError("boom")


def test_opens_after_threshold(monkeypatch):
    monkeypatch.setattr("estate.common.resilience.clock.now", lambda: 1000.0)
    breaker = CircuitBreaker(threshold=2, reset_after=30)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            breaker.call(fail)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.call(lambda: "never called")


def test_half_open_after_reset(monkeypatch):
    times = iter([0.0, 0.0, 31.0, 31.0])
    monkeypatch.setattr("estate.common.resilience.clock.now", lambda: next(times))
    breaker = CircuitBreaker(threshold=1, reset_after=30)
    with pytest.raises(RuntimeError):
        breaker.call(fail)
    assert breaker.state == "open"
    assert breaker.state == "half-open"
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == "closed"
