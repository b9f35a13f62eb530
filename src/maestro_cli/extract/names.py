"""Checking and normalising what the user names: the distribution, the import name, the version."""

from __future__ import annotations

import keyword
import re
import sys

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InputError

# PEP 508's name grammar: letters and digits at both ends, '-', '_' and '.' inside
DIST_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def normalise_dist_name(name: str) -> str:
    """PEP 503 form: lower case, runs of ``-_.`` as one ``-``."""
    if not DIST_NAME.match(name):
        raise InputError(
            f"--name '{name}' is not a valid distribution name",
            hint="use letters, digits and '-', '_' or '.' inside, e.g. acme-resilience",
        )
    return canonicalize_name(name)


def check_import_name(name: str, option: str = "--import-name") -> str:
    parts = name.split(".")
    bad = [p for p in parts if not p.isidentifier() or keyword.iskeyword(p)]
    if bad:
        raise InputError(f"{option} '{name}' is not a valid Python import name", hint="e.g. acme_resilience")
    return name


def new_import_name(dist_name: str, import_name: str | None) -> str:
    """The new package's import name (``--import-name``, else DIST with ``-`` as ``_``), checked.

    Installed, a package named like a standard-library module would hide it from every program in
    that environment.
    """
    option = "--import-name" if import_name else "--name"
    name = check_import_name(import_name or dist_name.replace("-", "_").replace(".", "_"), option)
    if name.split(".")[0] in sys.stdlib_module_names:
        shown = import_name or dist_name
        raise InputError(
            f"{option} '{shown}' gives the import name {name}, which would shadow the standard library's",
            hint="pass --import-name with another name, e.g. acme_" + name.replace(".", "_"),
        )
    return name


def check_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        raise InputError(f"--version '{version}' is not a PEP 440 version", hint="e.g. 0.1.0") from None
