"""Configuration: every key declared once, loaded in one function with one documented precedence.

Precedence, highest first (like twine's ``get_userpass_value``):

1. a command-line flag,
2. the environment variable ``MAESTRO_<KEY>`` (``repository-url`` -> ``MAESTRO_REPOSITORY_URL``),
3. the project file: ``maestro.toml``, or ``[tool.maestro]`` in ``pyproject.toml``, whichever is
   found first walking up from the working directory,
4. the user file ``$XDG_CONFIG_HOME/maestro/config.toml`` (``~/.config/maestro/config.toml``),
5. the defaults below.

Unknown keys and wrong types are errors that name the file, the key and the expected type.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import redaction
from .errors import ConfigError, Location, did_you_mean

PROJECT_FILE = "maestro.toml"


# only __init__ generated: nothing prints, compares or assigns to these (see errors.Location)
@dataclass(repr=False, eq=False)
class ConfigItem:
    """One configuration key: its name, type, default, environment variable and whether it is secret."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False

    @property
    def env_var(self) -> str:
        return "MAESTRO_" + self.name.upper().replace("-", "_")


def _user_cache_dir() -> str:
    if sys.platform == "linux":  # platformdirs' rule there, without its import at every start (4 ms)
        folder = os.environ.get("XDG_CACHE_HOME", "")
        return os.path.join(folder if folder.strip() else os.path.expanduser("~/.cache"), "maestro")
    from platformdirs import user_cache_dir

    return user_cache_dir("maestro")


ITEMS: tuple[ConfigItem, ...] = (
    ConfigItem("audit", bool, True, "write an audit record for every action that changes something"),
    ConfigItem("audit-log", Path, Path(".maestro/audit.jsonl"), "audit file, relative to the project root"),
    ConfigItem("cache-dir", Path, None, "cache of parse results (default: the user cache dir)"),
    ConfigItem("results-dir", Path, Path(".maestro/runs"), "where run-plan writes a folder per run"),
    ConfigItem("jobs", int, 0, "parallel jobs for run-plan (0: one per CPU)"),
    ConfigItem("extract-out", Path, Path("extracted"), "where extract writes packages"),
    ConfigItem("repository", str, "pypi", "the ~/.pypirc section publish uses by default"),
    ConfigItem("repository-url", str, None, "upload URL of the package index"),
    ConfigItem("index-url", str, None, "simple-index URL, when it cannot be derived from the upload URL"),
    ConfigItem("username", str, None, "user name for the package index"),
    ConfigItem("password", str, None, "password for the package index", secret=True),
    ConfigItem("token", str, None, "API token for the package index (user __token__)", secret=True),
    ConfigItem("publish-jobs", int, 4, "parallel uploads"),
    ConfigItem("chromium", Path, None, "Chromium executable for the browser adapters"),
    ConfigItem("chromedriver", Path, None, "chromedriver for the selenium adapter"),
    ConfigItem("queue", str, None, "redis:// URL of the distributed run-plan queue"),
    ConfigItem("queue-secret", str, None, "HMAC key that signs queued jobs", secret=True),
)
ITEMS_BY_NAME: dict[str, ConfigItem] = {item.name: item for item in ITEMS}


@dataclass(repr=False, eq=False)
class Value:
    """A key's value and where it came from (default, file, environment, flag)."""

    item: ConfigItem
    value: Any
    origin: str  # "default", "flag", "env MAESTRO_X", or "path/to/file.toml"

    @property
    def display(self) -> str:
        if self.value is None:
            return ""
        if self.item.secret:
            return redaction.MASK
        return redaction.scrub(str(self.value))


@dataclass(repr=False, eq=False)
class Settings:
    """Every key's value for one invocation, flags on top."""

    values: dict[str, Value]
    project_root: Path
    files: list[Path] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def origin(self, name: str) -> str:
        return self.values[name].origin

    @property
    def audit_path(self) -> Path:
        path = Path(self["audit-log"]).expanduser()
        return path if path.is_absolute() else self.project_root / path

    def with_flags(self, flags: Mapping[str, Any]) -> Settings:
        """These settings with a command's flags on top, the highest layer; None is a flag not given."""
        given = {name: raw for name, raw in flags.items() if raw is not None}
        if not given:
            return self
        values = dict(self.values)
        for name, raw in given.items():
            item = ITEMS_BY_NAME[name]
            values[name] = Value(item, raw, "flag")
            if item.secret:
                redaction.register(raw)
        return replace(self, values=values)

    @property
    def cache_dir(self) -> Path:
        configured = self["cache-dir"]
        return Path(configured).expanduser() if configured else Path(_user_cache_dir())


def find_project_file(start: Path) -> tuple[Path, Path | None]:
    """The project root and its configuration file (None when it has none)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder, folder / PROJECT_FILE
        if (folder / "pyproject.toml").is_file():
            return folder, folder / "pyproject.toml"
    return start, None


def user_config_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "maestro" / "config.toml"


def load_settings(
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve every key by the precedence in this module's docstring."""
    env = os.environ if environ is None else environ
    root, project_file = find_project_file(cwd or Path.cwd())
    layers: list[tuple[str, dict[str, Any]]] = []
    files: list[Path] = []

    user_file = user_config_path(env)
    if user_file.is_file():
        layers.append((str(user_file), _read_file(user_file, table=None)))
        files.append(user_file)
    if project_file is not None:
        table = None if project_file.name == PROJECT_FILE else ("tool", "maestro")
        data = _read_file(project_file, table=table)
        if data or table is None:
            layers.append((str(project_file), data))
            files.append(project_file)

    resolved: dict[str, Value] = {item.name: Value(item, item.default, "default") for item in ITEMS}
    for origin, data in layers:
        for key, raw in data.items():
            item = ITEMS_BY_NAME[key]
            resolved[key] = Value(item, raw, origin)
    for item in ITEMS:
        if item.env_var in env and env[item.env_var] != "":
            resolved[item.name] = Value(item, _from_string(item, env[item.env_var], item.env_var), f"env {item.env_var}")
    for value in resolved.values():
        if value.item.secret:
            redaction.register(value.value)
    return Settings(values=resolved, project_root=root, files=files).with_flags(flags or {})


def _read_file(path: Path, table: tuple[str, ...] | None) -> dict[str, Any]:
    import tomllib  # only where a configuration file exists: most starts read none

    try:
        text = path.read_text(encoding="utf-8")
        data: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's tomllib puts the position only in the message: "... (at line 2, column 8)"
        found = re.search(r"^(?P<msg>.*?)(?: \(at line (?P<line>\d+), column (?P<col>\d+)\))?$", str(exc))
        assert found is not None  # the pattern matches any message
        line, column = found["line"], found["col"]
        raise ConfigError(
            f"invalid TOML: {found['msg']}",
            location=Location(str(path), int(line) if line else None, int(column) if column else None),
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", location=Location(str(path))) from None
    prefix = ""
    for part in table or ():
        data = data.get(part, {})
        prefix += f"{part}."
        if not isinstance(data, dict):
            raise ConfigError(f"'{prefix.rstrip('.')}' must be a table", location=Location(str(path)))
    checked: dict[str, Any] = {}
    for raw_key, raw in data.items():
        key = raw_key.replace("_", "-")
        location = Location(str(path), _line_of(text, raw_key))
        item = ITEMS_BY_NAME.get(key)
        if item is None:
            raise ConfigError(
                f"unknown key '{prefix}{raw_key}'{did_you_mean(key, ITEMS_BY_NAME)}",
                location=location,
                hint="`maestro config show` lists every key",
            )
        checked[key] = _from_toml(item, raw, f"{prefix}{raw_key}", location)
    return checked


def _line_of(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


_TYPE_NAMES = {bool: "a boolean", int: "an integer", str: "a string", Path: "a path (string)"}


def _from_toml(item: ConfigItem, raw: Any, key_path: str, location: Location) -> Any:
    expected = str if item.type is Path else item.type
    # bool is an int in Python; a TOML `true` is not a valid job count
    if not isinstance(raw, expected) or (expected is int and isinstance(raw, bool)):
        raise ConfigError(
            f"'{key_path}' must be {_TYPE_NAMES[item.type]}, not {type(raw).__name__} {raw!r}",
            location=location,
        )
    return Path(raw) if item.type is Path else raw


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _from_string(item: ConfigItem, raw: str, source: str) -> Any:
    if item.type is bool:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
    elif item.type is int:
        try:
            return int(raw)
        except ValueError:
            pass
    elif item.type is Path:
        return Path(raw)
    else:
        return raw
    shown = redaction.MASK if item.secret else repr(raw)
    raise ConfigError(f"environment variable {source} must be {_TYPE_NAMES[item.type]}, not {shown}")
