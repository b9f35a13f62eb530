"""A real redis-server for the queue tests: one per test session (per xdist worker), no persistence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_server import RedisServer, free_port


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on: a Redis that is not there."""
    return free_port()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an empty Redis: every test starts from a flushed database."""
    if redis_server.process is None:  # a test that pulled Redis away leaves it to be started again
        redis_server.start()
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
