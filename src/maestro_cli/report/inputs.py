"""Turning INPUT arguments (files, folders, globs) into the list of result files to read."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

from .model import Problem
from .results_json import RESULTS_NAME

# folders that hold tools, not results: searching them only finds other projects' XML
_SKIPPED_DIRS = frozenset((".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"))
_GLOB_CHARS = frozenset("*?[")


def input_format(path: Path) -> str:
    return "maestro-results" if path.suffix.lower() == ".json" else "junit"


def discover(specs: list[str]) -> tuple[list[Path], list[Problem]]:
    """Every result file named or found, each once, in a stable order; and what matched nothing."""
    found: list[Path] = []
    seen: set[Path] = set()
    problems: list[Problem] = []
    for spec in specs:
        matches = list(_expand(spec))
        if not matches:
            reason = "no files match" if _GLOB_CHARS & set(spec) else "no such file or folder"
            problems.append(Problem(spec, reason))
        elif matches == [None]:
            problems.append(Problem(spec, f"no *.xml or {RESULTS_NAME} files in this folder"))
        for match in matches:
            if match is None:
                continue
            path, real = match
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found, problems


Found = tuple[Path, Path]  # a file as found, and its real path (what tells two names of one file apart)


def _expand(spec: str) -> Iterator[Found | None]:
    """The files ``spec`` stands for; a lone None for a folder without any result file."""
    path = Path(spec)
    if path.is_dir():
        files = list(_search(path))
        yield from files or [None]
    elif path.is_file():
        yield path, path.resolve()
    elif _GLOB_CHARS & set(spec):
        for match in sorted(glob.glob(spec, recursive=True)):
            candidate = Path(match)
            if candidate.is_dir():
                yield from _search(candidate)
            elif candidate.is_file():
                yield candidate, candidate.resolve()


def _search(folder: Path) -> Iterator[Found]:
    for root, dirs, files in os.walk(folder):
        real_root = Path(os.path.realpath(root))
        if RESULTS_NAME in files:
            # a run-plan results folder: its junit.xml and the attachments' XML repeat what
            # results.json holds, and reading them too would count every test again
            dirs[:] = []
            yield _found(root, real_root, RESULTS_NAME)
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.lower().endswith(".xml") or name == RESULTS_NAME:
                yield _found(root, real_root, name)


def _found(root: str, real_root: Path, name: str) -> Found:
    """A file of a searched folder: the folder's real path is worked out once, not per file
    (resolving each of 500 files took longer than a tenth of reading them)."""
    path = Path(root, name)
    return path, path.resolve() if os.path.islink(path) else real_root / name
