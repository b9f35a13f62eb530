"""Secrets never leave the process: every line maestro prints, logs or writes passes through here.

Cores register secret values as soon as they learn them (a password flag, a token from the
environment, a plan's ``secrets:``); the console, the audit log and error rendering call :func:`scrub`.
"""

from __future__ import annotations

import os
import re
import threading

MASK = "****"

# Environment variables whose values are secrets wherever they come from.
SECRET_ENV_VARS = (
    "MAESTRO_PASSWORD",
    "MAESTRO_TOKEN",
    "MAESTRO_QUEUE_SECRET",
    "TWINE_PASSWORD",
)
# Command-line options whose following value is a secret.
SECRET_OPTIONS = ("-p", "--password", "--token")

# Bounded scheme length and a word boundary keep this linear on long lines without URLs. A pattern,
# compiled (and kept by `re`) on first use: most starts meet no URL, and its compilation costs more
# than the rest of this module's import.
_URL_PASSWORD = r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@"

_lock = threading.Lock()
_secrets: set[str] = set()


def register(value: str | None) -> None:
    """Remember a secret so that it is masked everywhere from now on.

    Very short values are masked too: a one-character password is still a password.
    """
    if value:
        with _lock:
            _secrets.add(value)


def register_from_environment(environ: dict[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    for name in SECRET_ENV_VARS:
        register(env.get(name))
    for name in ("MAESTRO_QUEUE", "MAESTRO_REPOSITORY_URL", "TWINE_REPOSITORY_URL"):
        url = env.get(name, "")
        match = re.search(_URL_PASSWORD, url) if "://" in url else None
        if match:
            register(match.group("pw"))


def scrub(text: str) -> str:
    """Mask registered secrets and the password part of any ``scheme://user:password@`` URL."""
    if not text:
        return text
    if "://" in text:
        text = re.sub(_URL_PASSWORD, lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    with _lock:
        # longest first, so a secret containing another one is masked whole
        for secret in sorted(_secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
    return text


def scrub_argv(argv: list[str]) -> list[str]:
    """The command line as it may be recorded: values of secret options masked."""
    scrubbed: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            scrubbed.append(MASK)
            hide_next = False
            continue
        name, sep, _value = arg.partition("=")
        if arg in SECRET_OPTIONS:
            hide_next = True
            scrubbed.append(arg)
        elif sep and name in SECRET_OPTIONS:
            scrubbed.append(f"{name}={MASK}")
        elif arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--"):
            scrubbed.append(f"-p{MASK}")
        else:
            scrubbed.append(scrub(arg))
    return scrubbed


def register_argv(argv: list[str]) -> None:
    """Register the values of secret options given on the command line."""
    for index, arg in enumerate(argv):
        name, sep, value = arg.partition("=")
        if arg in SECRET_OPTIONS and index + 1 < len(argv):
            register(argv[index + 1])
        elif sep and name in SECRET_OPTIONS:
            register(value)
        elif arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--"):
            register(arg[2:])
