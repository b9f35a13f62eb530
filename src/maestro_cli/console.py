"""The one console: data to stdout, progress and messages to stderr, secrets scrubbed from both.

Nothing else in maestro prints. Rich is imported on first use so that ``maestro --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from . import redaction

if TYPE_CHECKING:
    from rich.console import Console as RichConsole
    from rich.progress import Progress


# only __init__ generated: the rest would be compiled at every start for nothing (see errors.Location)
@dataclass(repr=False, eq=False)
class Console:
    """Verbosity, colour and the two streams, decided once per invocation."""

    quiet: bool = False
    verbose: int = 0
    json_mode: bool = False
    color: bool | None = None  # None: decide from NO_COLOR and whether the stream is a terminal
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _out: RichConsole | None = field(default=None, init=False, repr=False)
    _err: RichConsole | None = field(default=None, init=False, repr=False)

    # -- streams -------------------------------------------------------------------------------
    def _colour_for(self, stream: TextIO) -> bool:
        if self.color is not None:
            return self.color
        if "NO_COLOR" in os.environ:
            return False
        return bool(getattr(stream, "isatty", lambda: False)())

    def _rich(self, stream: TextIO) -> RichConsole:
        from rich.console import Console as RichConsole

        colour = self._colour_for(stream)
        return RichConsole(
            file=_Scrubbed(stream),  # tables and other renderables are scrubbed as they are written
            no_color=not colour,
            color_system="auto" if colour else None,
            highlight=False,
            soft_wrap=not stream.isatty() if hasattr(stream, "isatty") else True,
            emoji=False,
        )

    @property
    def out(self) -> RichConsole:
        if self._out is None:
            self._out = self._rich(self.stdout)
        return self._out

    @property
    def err(self) -> RichConsole:
        if self._err is None:
            self._err = self._rich(self.stderr)
        return self._err

    @property
    def is_interactive(self) -> bool:
        return bool(getattr(self.stderr, "isatty", lambda: False)()) and not self.quiet

    # -- data: stdout ----------------------------------------------------------------------------
    def print_json(self, document: Any) -> None:
        """Exactly one JSON document on stdout; nothing else goes there in --json mode."""
        text = json.dumps(document, indent=2, sort_keys=False, default=str, ensure_ascii=False)
        self.stdout.write(redaction.scrub(text) + "\n")
        self.stdout.flush()

    def print(self, renderable: Any = "", **kwargs: Any) -> None:
        """Results for people, on stdout. Suppressed in --json mode, where stdout belongs to JSON."""
        if self.json_mode:
            return
        if isinstance(renderable, str):
            renderable = redaction.scrub(renderable)
        self.out.print(renderable, **kwargs)

    def write_raw(self, text: str) -> None:
        """Text that must reach stdout unchanged by rich (Markdown, HTML, XML)."""
        self.stdout.write(redaction.scrub(text))
        self.stdout.flush()

    # -- messages: stderr ------------------------------------------------------------------------
    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(redaction.scrub(message), markup=False)

    def success(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"[green]{_escape(redaction.scrub(message))}[/green]")

    def debug(self, message: str) -> None:
        if self.verbose:
            self.err.print(f"[dim]{_escape(redaction.scrub(message))}[/dim]")

    def warning(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {_escape(redaction.scrub(message))}")

    def error(self, message: str, hint: str | None = None) -> None:
        for line in redaction.scrub(message).splitlines() or [""]:
            self.err.print(f"[bold red]error:[/bold red] {_escape(line)}")
        if hint:
            self.err.print(f"[cyan]hint:[/cyan] {_escape(redaction.scrub(hint))}")

    @contextmanager
    def progress(self, *, transient: bool = True, bytes_columns: bool = False) -> Iterator[Progress]:
        """A rich progress display on stderr; silent (but usable) when quiet or not a terminal."""
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        columns += (
            [DownloadColumn(), TransferSpeedColumn()]
            if bytes_columns
            else [MofNCompleteColumn(), TimeElapsedColumn()]
        )
        progress = Progress(
            *columns, console=self.err, transient=transient, disable=not self.is_interactive
        )
        with progress:
            yield progress


class _Scrubbed:
    """A text stream that masks secrets in everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redaction.scrub(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
