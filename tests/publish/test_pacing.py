"""Parallel uploads start spread over a round trip: the pacer's guarantees."""

from __future__ import annotations

import threading

from maestro_cli.publish.pacing import MAX_SPACING, Pacer


def _starts(pacer: Pacer, threads: int) -> list[float]:
    starts: list[float] = []
    lock = threading.Lock()

    def start() -> None:
        at = pacer.wait_turn()
        with lock:
            starts.append(at)

    workers = [threading.Thread(target=start) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return sorted(starts)


def test_parallel_starts_are_spaced_and_the_spacing_follows_the_shortest_round_trip():
    pacer = Pacer(4, first_spacing=0.02)
    starts = _starts(pacer, 4)
    assert len(starts) == 4
    assert all(later - earlier >= 0.02 for earlier, later in zip(starts, starts[1:]))

    pacer.round_trip(0.1)
    assert pacer.spacing == 0.1 / 5  # one more than the uploads in flight: a little faster than they finish
    pacer.round_trip(3.0)  # a large file's long upload says nothing about the network
    assert pacer.spacing == 0.1 / 5
    pacer.round_trip(0.05)
    assert pacer.spacing == 0.05 / 5


def test_a_batch_of_large_files_is_spaced_no_more_than_an_index_needs():
    pacer = Pacer(4)
    pacer.round_trip(30.0)  # the shortest upload took half a minute: the network, not the index
    assert pacer.spacing == MAX_SPACING


def test_a_waiting_upload_goes_as_soon_as_a_round_trip_allows_it():
    pacer = Pacer(2, first_spacing=3600.0)  # a guess no upload should ever wait out
    pacer.wait_turn()
    waiter = threading.Thread(target=pacer.wait_turn, daemon=True)
    waiter.start()
    pacer.round_trip(0.004)
    waiter.join(timeout=5)
    assert not waiter.is_alive()


def test_one_upload_at_a_time_is_never_held_back():
    pacer = Pacer(1)
    assert pacer.spacing == 0.0
    pacer.round_trip(0.5)
    assert pacer.spacing == 0.0
    starts = _starts(pacer, 3)
    assert len(starts) == 3
