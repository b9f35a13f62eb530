"""Where to upload and as whom, resolved in one place with one precedence (twine's, extended).

Highest first, for the URL, the user name and the password alike:

1. command-line flags (``--repository-url``, ``-u``, ``-p``, ``--token``),
2. ``MAESTRO_REPOSITORY_URL`` / ``MAESTRO_USERNAME`` / ``MAESTRO_PASSWORD`` / ``MAESTRO_TOKEN``
   (and maestro's config files; flags and these arrive together as settings),
3. ``TWINE_REPOSITORY_URL`` / ``TWINE_USERNAME`` / ``TWINE_PASSWORD``, so twine users' CI keeps working,
4. the ``--repository`` section of ``~/.pypirc`` (default ``pypi``),
5. the keyring, when installed, for the password,
6. a prompt, only when the caller can ask (a terminal).

Every password and token is registered with :mod:`maestro_cli.redaction` the moment it is known.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from .. import redaction
from ..errors import ConfigError, InputError, Location, UsageError, did_you_mean
from .index import PYPI_UPLOAD_URL, TESTPYPI_UPLOAD_URL, simple_url_candidates

TOKEN_USER = "__token__"
DEFAULT_REPOSITORY = "pypi"
_BUILTIN_REPOSITORIES = {"pypi": PYPI_UPLOAD_URL, "testpypi": TESTPYPI_UPLOAD_URL}

# prompt(label, secret) -> answer; given only when a person is at a terminal
Prompt = Callable[[str, bool], str]


@dataclass(frozen=True)
class RepositoryRequest:
    """What the user said about the target; None means "not given here, look further"."""

    repository: str | None = None
    repository_url: str | None = None
    index_url: str | None = None
    username: str | None = None
    password: str | None = None
    token: str | None = None
    allow_insecure: bool = False


@dataclass(frozen=True)
class Repository:
    """A resolved target: URLs never carry credentials, so they can be shown and audited."""

    upload_url: str
    index_urls: list[str]
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.username is None and self.password is None:
            return None
        return (self.username or "", self.password or "")


def pypirc_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME", "~")).expanduser() / ".pypirc"


def resolve_repository(
    request: RepositoryRequest,
    *,
    environ: Mapping[str, str] | None = None,
    prompt: Prompt | None = None,
    ask_password: bool = True,
) -> Repository:
    """The upload target and credentials, by the precedence in this module's docstring."""
    env = os.environ if environ is None else environ
    redaction.register(request.password)
    redaction.register(request.token)
    redaction.register(env.get("TWINE_PASSWORD"))
    name = request.repository or DEFAULT_REPOSITORY
    url_given = bool(request.repository_url or env.get("TWINE_REPOSITORY_URL"))
    # a URL given outright must not receive the credentials ~/.pypirc keeps for PyPI
    section = {} if url_given and request.repository is None else _pypirc_section(pypirc_path(env), name)

    raw_url = _first(
        request.repository_url, env.get("TWINE_REPOSITORY_URL"), section.get("repository"), _BUILTIN_REPOSITORIES.get(name)
    )
    upload_url, url_user, url_password = split_url(raw_url or "", allow_insecure=request.allow_insecure)
    redaction.register(url_password)

    if request.token:
        username, password = TOKEN_USER, request.token
    else:
        username = _first(request.username, url_user, env.get("TWINE_USERNAME"), section.get("username"))
        password = _first(request.password, url_password, env.get("TWINE_PASSWORD"), section.get("password"))
        redaction.register(password)
        if password is None and username and ask_password:
            password = _from_keyring(upload_url, username)
        if prompt is not None and ask_password:
            if username is None:
                username = prompt(f"User name for {upload_url}", False) or None
            if password is None and username:
                password = prompt(f"Password for {username} at {upload_url}", True)
                redaction.register(password)

    if request.index_url:
        index_urls = [split_url(request.index_url, allow_insecure=request.allow_insecure)[0]]
    else:
        index_urls = simple_url_candidates(upload_url)
    return Repository(upload_url, index_urls, username, password)


def _first(*values: str | None) -> str | None:
    return next((value for value in values if value), None)


def split_url(url: str, *, allow_insecure: bool = False) -> tuple[str, str | None, str | None]:
    """A checked URL without credentials, and the user and password it carried."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"'{redaction.scrub(url)}' is not an http(s) URL", hint="e.g. --repository-url https://upload.pypi.org/legacy/"
        )
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        raise UsageError(
            f"refusing to send credentials and packages in clear text to {parts.hostname} over http://",
            hint="use https://, or pass --allow-insecure for a trusted network",
        )
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port:
        netloc += f":{parts.port}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    clean = urlunsplit((parts.scheme, netloc, path, parts.query, ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return clean, user, password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pypirc_section(path: Path, name: str) -> dict[str, str]:
    """The ``[name]`` section of ``~/.pypirc``; unknown names other than pypi and testpypi are errors."""
    import configparser  # only when there is a ~/.pypirc to read, not for a URL given outright

    parser = configparser.RawConfigParser()
    if path.is_file():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            line = getattr(exc, "lineno", None)
            raise ConfigError(f"cannot parse: {exc.message.splitlines()[0]}", location=Location(str(path), line)) from None
    if parser.has_section(name):
        section = dict(parser.items(name))
        redaction.register(section.get("password"))
        return section
    if name not in _BUILTIN_REPOSITORIES:
        known = [s for s in parser.sections() if s != "distutils"]
        raise InputError(
            f"repository '{name}' is not in {path}{did_you_mean(name, known)}",
            hint="add a [" + name + "] section with repository = URL, or pass --repository-url",
        )
    return {}


def _from_keyring(url: str, username: str) -> str | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        password = keyring.get_password(url, username)
    except Exception:  # no backend, a locked backend, D-Bus missing: the keyring is optional
        return None
    redaction.register(password)
    return password
