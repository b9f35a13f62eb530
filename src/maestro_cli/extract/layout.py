"""Which legacy files go where in the new package: SOURCE's code and data, its tests, their conftests."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .roots import SKIPPED_DIRS

JUNK_SUFFIXES = (".pyc", ".pyo", ".swp")
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db"})
TEST_DIRS = frozenset({"tests", "test"})


class Role(StrEnum):
    CODE = "code"
    DATA = "data"  # package data: copied as bytes, never parsed
    TEST = "test"
    INTERNAL = "internal"  # a legacy module copied in by --with-internal
    LICENSE = "license"


@dataclass(frozen=True)
class PlannedFile:
    source: Path
    destination: str  # relative to OUT/DIST, POSIX separators
    role: Role
    module: str = ""  # dotted name in the legacy repo, for Python files

    @property
    def is_python(self) -> bool:
        return self.role is not Role.DATA and self.role is not Role.LICENSE and self.source.suffix == ".py"


def walk_files(folder: Path, root: Path, warnings: list[str]) -> Iterator[Path]:
    """Files below ``folder``; links are followed only while they stay inside ``root``."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        warnings.append(f"{folder}: cannot list: {exc.strerror}")
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            shown = path.relative_to(root).as_posix()
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a dangling link, or one that loops on itself
                warnings.append(f"{shown}: link that cannot be resolved (a loop?), not followed")
                continue
            if target != root and root not in target.parents:
                warnings.append(f"{shown}: link to {target} outside the repo, not followed")
                continue
            here = path.parent.resolve()
            if target == here or target in here.parents:  # following it would walk the same files for ever
                warnings.append(f"{shown}: link back to {target}, a folder it is inside, not followed")
                continue
        if entry.is_dir():
            if entry.name not in SKIPPED_DIRS and not entry.name.startswith(".") and not entry.name.endswith(".egg-info"):
                yield from walk_files(path, root, warnings)
        elif entry.is_file() and entry.name not in JUNK_NAMES and not entry.name.endswith(JUNK_SUFFIXES):
            yield path


def is_test_file(path: Path) -> bool:
    name = path.name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def test_candidates(root: Path, source: Path, needle: bytes, warnings: list[str]) -> list[Path]:
    """Test files outside SOURCE whose text mentions ``needle``: only those are worth parsing."""
    found = []
    for path in walk_files(root, root, warnings):
        if not is_test_file(path) or path == source or source in path.parents:
            continue
        try:
            if needle in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


def test_destination(path: Path, root: Path) -> str:
    """Relative to the outermost ``tests``/``test`` folder above the file, under the package's ``tests/``."""
    relative = path.relative_to(root).parts
    base = next((i for i, part in enumerate(relative[:-1]) if part in TEST_DIRS), None)
    tail = relative[base + 1 :] if base is not None else relative[-1:]
    return "/".join(("tests", *tail))


def conftests_for(path: Path, root: Path) -> list[tuple[Path, str]]:
    """The conftest.py files pytest would load for a test file, nearest first, with their destinations."""
    found = []
    relative = path.relative_to(root).parts
    base = next((i for i, part in enumerate(relative[:-1]) if part in TEST_DIRS), None)
    folder = path.parent
    while True:
        candidate = folder / "conftest.py"
        if candidate.is_file():
            depth = len(folder.relative_to(root).parts)
            if base is not None and depth > base:
                found.append((candidate, "/".join(("tests", *folder.relative_to(root).parts[base + 1 :], "conftest.py"))))
            elif folder == root:  # the repo's root conftest: at the package root it serves every carried test
                found.append((candidate, "conftest.py"))
            else:  # between the repo root and the tests folder
                found.append((candidate, "tests/conftest.py"))
        if folder == root:
            return found
        folder = folder.parent


def package_destination(path: Path, source: Path, is_package: bool, package_dir: str) -> str:
    """Where a file of SOURCE lands: a package's files keep their place, a lone module becomes ``__init__.py``."""
    if not is_package:
        return f"{package_dir}/__init__.py"
    return f"{package_dir}/{path.relative_to(source).as_posix()}"


def internal_destination(path: Path, import_root: Path, base_dir: str) -> str:
    """A legacy module copied by --with-internal keeps its dotted place under ``base_dir``."""
    return f"{base_dir}/{path.relative_to(import_root).as_posix()}"


def docstring_summary(path: Path) -> str:
    """The first paragraph of a module's docstring, on one line; empty when it has none."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return ""
    text = ast.get_docstring(tree) or ""
    return " ".join(text.strip().split("\n\n")[0].split())
