import pytest


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("estate.common.resilience.backoff.time.sleep", slept.append)
    return slept
