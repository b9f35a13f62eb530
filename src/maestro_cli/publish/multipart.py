"""A multipart/form-data body streamed from disk, with an exact Content-Length.

An HTTP client chunks a streamed body of unknown length (``Transfer-Encoding: chunked``), which several
indexes (pypiserver's WSGI servers among them) cannot read; and httpx's multipart encoder gives no progress.
Here the form fields and the part headers are encoded up front (a few KiB), the file is read chunk by
chunk as the socket takes it, and the length is known before the first byte is sent. Each attempt
calls :meth:`MultipartBody.chunks` again, so a retry re-reads the file from its start.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .distfiles import CHUNK_SIZE


def _quote(value: str) -> str:
    # the HTML form encoding of names in Content-Disposition, as browsers and httpx do it
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True)
class MultipartBody:
    """An upload form: the fields encoded up front, the file read from disk as it is sent."""

    boundary: str
    head: bytes  # every field, then the file part's headers
    tail: bytes  # the end of the file part and the closing boundary
    path: Path
    file_size: int

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self.head) + self.file_size + len(self.tail)

    def chunks(self, on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The body, read from disk as it is sent; ``on_bytes(n)`` after each chunk of the file."""
        yield self.head
        with open(self.path, "rb") as stream:
            for block in iter(lambda: stream.read(CHUNK_SIZE), b""):
                yield block
                if on_bytes is not None:
                    on_bytes(len(block))
        yield self.tail


def encode(fields: list[tuple[str, str]], *, file_field: str, path: Path, file_size: int) -> MultipartBody:
    boundary = secrets.token_hex(16)
    delimiter = f"--{boundary}\r\n".encode()
    parts = [
        delimiter
        + f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
        + value.encode("utf-8")
        + b"\r\n"
        for name, value in fields
    ]
    parts.append(
        delimiter
        + f'Content-Disposition: form-data; name="{_quote(file_field)}"; filename="{_quote(path.name)}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
    )
    return MultipartBody(boundary, b"".join(parts), f"\r\n--{boundary}--\r\n".encode(), path, file_size)
