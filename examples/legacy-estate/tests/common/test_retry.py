from unittest import mock

import pytest

from estate.common.resilience import RetryError, retry


def test_retries_then_succeeds(no_sleep):
    calls = []

    @retry(attempts=3, backoff=0.1)
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "ok"

    assert flaky() == "ok"
    assert len(no_sleep) == 2
    assert no_sleep[1] > no_sleep[0]


def test_gives_up_with_the_cause():
    @retry(attempts=2, backoff=0)
    def broken():
        raise ValueError("nope")

    with mock.patch("estate.common.resilience.backoff.time.sleep") as sleep:
        with pytest.raises(RetryError) as caught:
            broken()
    assert isinstance(caught.value.__cause__, ValueError)
    assert sleep.call_count == 1


@mock.patch("estate.common.resilience.clock.now", side_effect=[0.0, 100.0])
def test_deadline_stops_early(now):
    @retry(attempts=5, backoff=0, deadline=10)
    def broken():
        raise ValueError("nope")

    with pytest.raises(RetryError, match="after 1 attempts"):
        broken()
