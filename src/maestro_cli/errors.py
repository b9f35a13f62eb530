"""Every failure a user can meet, and the one table that maps them to exit codes.

Cores raise these; only :func:`maestro_cli.cli.main` turns them into output and an exit code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURES = 1  # the job ran and found failures (tests failed, an upload failed, ...)
    BAD_INPUT = 2  # bad usage, bad input, bad configuration
    INTERNAL = 70  # a bug in maestro (EX_SOFTWARE): never confused with the job's own failures
    OUTPUT_LOST = 74  # stdout or stderr could not be written at exit, e.g. a full disk (EX_IOERR)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


# Maestro's internal dataclasses that nothing prints, compares or assigns to are built without
# __repr__, __eq__ and frozen's __setattr__/__delattr__: each method a dataclass generates is
# compiled when its module is imported, at every start (0.1-0.2 ms each).
@dataclass(repr=False, eq=False)
class Location:
    """Where in a user's file a problem is: rendered as ``file:line:col``."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class MaestroError(Exception):
    """Base of every expected failure: one line for the user, an optional hint, an exit code."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(
        self, message: str, *, hint: str | None = None, location: Location | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class UsageError(MaestroError):
    """Options that contradict each other or are out of range."""


class InputError(MaestroError):
    """A file or argument the user gave is missing, unreadable or malformed."""


class ConfigError(MaestroError):
    """A configuration file or environment variable holds an unknown key or a wrong type."""


class PlanError(InputError):
    """A test plan that cannot run; carries every problem found, one per line."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = problems
        super().__init__("\n".join(problems), hint=hint)


class OutputExistsError(MaestroError):
    """Refusing to overwrite something the user owns."""

    @classmethod
    def for_path(cls, path: object) -> OutputExistsError:
        return cls(f"{path} already exists", hint="pass --force to replace it")


class JobFailedError(MaestroError):
    """The job ran but could not do what it was asked (a crossing, a failed upload, ...)."""

    exit_code = ExitCode.FAILURES


class RemoteError(JobFailedError):
    """A server (package index, Redis) refused or failed; the message is the server's own."""


class CircuitOpenError(RemoteError):
    """Too many consecutive failures against one server: the bulk operation stops."""


class BuildError(InputError):
    """A project's build backend failed; the message quotes the end of the backend's own output."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string (pip's suggestion)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
