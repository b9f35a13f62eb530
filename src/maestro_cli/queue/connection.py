"""The queue's address: a ``redis://`` or ``rediss://`` URL, its password kept secret, and the client.

The ``redis`` package comes with the ``redis`` extra and is imported only here, only when a queue is
used, so that ``maestro --help`` never loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .. import redaction
from ..errors import RemoteError, UsageError

if TYPE_CHECKING:
    import redis

SCHEMES = ("redis", "rediss")
DEFAULT_PORT = 6379
# Connecting to a live Redis takes milliseconds; ten seconds means it is not there.
CONNECT_TIMEOUT = 10.0
# A blocking read waits this long for news; the socket timeout must outlast it.
BLOCK_SECONDS = 1.0
SOCKET_TIMEOUT = BLOCK_SECONDS + 30.0
# Three quick reconnects ride out a restarting Redis; a Redis that is gone is reported within a second.
RECONNECT_RETRIES = 3
RECONNECT_BACKOFF_CAP = 0.5


@dataclass(frozen=True)
class QueueURL:
    """A parsed queue URL; :attr:`display` never contains the password."""

    url: str
    scheme: str
    host: str
    port: int
    db: int
    username: str | None = None
    password: str | None = None

    @property
    def display(self) -> str:
        user = f"{self.username or ''}:{redaction.MASK}@" if self.password else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}/{self.db}"

    @property
    def tls(self) -> bool:
        return self.scheme == "rediss"


def parse_queue_url(url: str) -> QueueURL:
    """Check a ``redis://[user:password@]host[:port][/db]`` URL; its password is registered as a secret."""
    parts = urlsplit(url.strip())
    password = unquote(parts.password) if parts.password else None
    redaction.register(password)
    if parts.scheme not in SCHEMES:
        raise UsageError(
            f"queue URL must start with redis:// or rediss://, not {redaction.scrub(url)!r}",
            hint="for example --queue redis://127.0.0.1:6379/0 (or set MAESTRO_QUEUE)",
        )
    if not parts.hostname:
        raise UsageError(f"queue URL has no host: {redaction.scrub(url)!r}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise UsageError(f"queue URL has an invalid port: {redaction.scrub(url)!r}") from None
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise UsageError(f"queue URL database must be a number, not {db_text!r}: {redaction.scrub(url)!r}")
    return QueueURL(
        url=url.strip(),
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        db=int(db_text),
        username=unquote(parts.username) if parts.username else None,
        password=password,
    )


def require_client() -> None:
    """One clear error naming the extra when the ``redis`` package is not installed."""
    try:
        import redis  # noqa: F401
    except ImportError:
        raise UsageError(
            "the distributed run-plan needs the redis client, which the 'redis' extra installs",
            hint="pip install 'maestro-cli[redis]'",
        ) from None


def connect(queue: QueueURL) -> redis.Redis:
    """A client for ``queue``, checked with PING; a Redis that cannot be reached is a RemoteError."""
    require_client()
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(
        queue.url,
        decode_responses=True,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        retry=Retry(ExponentialBackoff(cap=RECONNECT_BACKOFF_CAP), RECONNECT_RETRIES),
        client_name="maestro",
    )
    with talking_to(queue):
        client.ping()
    return client


def connection_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean Redis went away or cannot be reached (not a refused command)."""
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@contextmanager
def talking_to(queue: QueueURL) -> Iterator[None]:
    """Turn the client's errors into one clear line naming the queue (never its password)."""
    import redis

    try:
        yield
    except redis.exceptions.AuthenticationError as exc:
        raise RemoteError(f"Redis at {queue.display} refused the credentials: {exc}") from None
    except connection_errors() as exc:
        raise lost_queue(queue, exc) from None
    except redis.exceptions.ResponseError as exc:
        raise RemoteError(f"Redis at {queue.display} refused a command: {exc}") from None


def lost_queue(queue: QueueURL, exc: BaseException) -> RemoteError:
    reason = redaction.scrub(str(exc)) or type(exc).__name__
    return RemoteError(
        f"cannot reach Redis at {queue.display}: {reason}",
        hint="is redis-server running and the --queue URL (or MAESTRO_QUEUE) right?",
    )
