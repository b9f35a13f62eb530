"""Checking and normalising what the user names: the distribution, the import name, the version."""

from __future__ import annotations

import keyword
import re

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


def check_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        raise InputError(f"--version '{version}' is not a PEP 440 version", hint="e.g. 0.1.0") from None
