from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maestro_cli import redaction
from maestro_cli.errors import RemoteError, UsageError
from maestro_cli.queue.connection import connect, parse_queue_url


def test_a_password_in_the_url_is_registered_and_never_displayed() -> None:
    queue = parse_queue_url("rediss://worker:p%40ss-w0rd@redis.example:6380/3")
    assert (queue.scheme, queue.host, queue.port, queue.db, queue.username, queue.password) == (
        "rediss", "redis.example", 6380, 3, "worker", "p@ss-w0rd"
    )
    assert queue.tls
    assert queue.display == "rediss://worker:****@redis.example:6380/3"
    assert redaction.scrub("auth p@ss-w0rd failed") == "auth **** failed"


def test_defaults_port_6379_and_database_0() -> None:
    queue = parse_queue_url("redis://127.0.0.1")
    assert (queue.port, queue.db, queue.display) == (6379, 0, "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379/0", "queue URL must start with redis:// or rediss://"),
        ("redis:///0", "queue URL has no host"),
        ("redis://127.0.0.1:port/0", "invalid port"),
        ("redis://127.0.0.1/zero", "database must be a number"),
    ],
)
def test_bad_urls_are_usage_errors(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_queue_url(url)


def test_an_unreachable_redis_is_one_line_without_the_password(unused_port: int) -> None:
    queue = parse_queue_url(f"redis://:hunter22@127.0.0.1:{unused_port}/0")
    with pytest.raises(RemoteError) as caught:
        connect(queue)
    text = str(caught.value)
    assert text.startswith(f"cannot reach Redis at redis://:****@127.0.0.1:{queue.port}/0: ")
    assert "hunter22" not in text and "\n" not in text


def test_a_wrong_password_is_reported_as_refused_credentials(redis_url: str) -> None:
    import redis

    admin = redis.Redis.from_url(redis_url)
    admin.config_set("requirepass", "right-one")
    try:
        with pytest.raises(RemoteError, match="refused the credentials"):
            connect(parse_queue_url(redis_url.replace("redis://", "redis://:wrong-one@")))
        assert connect(parse_queue_url(redis_url.replace("redis://", "redis://:right-one@"))).ping()
    finally:
        admin = redis.Redis.from_url(redis_url, password="right-one")
        admin.config_set("requirepass", "")


def test_without_the_redis_package_the_error_names_the_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "redis"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no redis here')\n")
    code = (
        "from maestro_cli.queue.connection import connect, parse_queue_url\n"
        "from maestro_cli.errors import UsageError\n"
        "try:\n"
        "    connect(parse_queue_url('redis://127.0.0.1:1/0'))\n"
        "except UsageError as exc:\n"
        "    print(exc, '|', exc.hint)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}, check=True)
    assert done.stdout.strip() == (
        "the distributed run-plan needs the redis client, which the 'redis' extra installs | pip install 'maestro-cli[redis]'"
    )
