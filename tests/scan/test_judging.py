"""Work done beside the scan in a forked child comes back as if it had been done in the scan."""

from __future__ import annotations

import os

import pytest

from maestro_cli.scan.judging import _beside


@pytest.mark.parametrize("fork", [True, False])
def test_the_result_comes_back(fork: bool) -> None:
    assert _beside(divmod, 7, 2, fork=fork)() == (3, 1)


def test_the_work_runs_in_another_process() -> None:
    assert _beside(os.getpid, fork=True)() != os.getpid()


@pytest.mark.parametrize("fork", [True, False])
def test_an_error_is_raised_where_the_result_is_asked_for(fork: bool) -> None:
    waiting = _beside(int, "not a number", fork=fork)
    with pytest.raises(ValueError, match="not a number"):
        waiting()
