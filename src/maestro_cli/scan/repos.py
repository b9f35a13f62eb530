"""Which folders are legacy repos, which Python files each holds, and the dotted name of each file.

Names come from ``maestro extract``'s own rules (``extract.roots``): a repo's import roots are the
repo, its ``src/`` and the project folders inside it, and a file's dotted name is counted from the
import root that its chain of ``__init__.py`` files reaches. So a candidate's name here is the name
``maestro extract`` will give it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from ..errors import InputError
from ..extract.layout import is_test_file
from ..extract.roots import PROJECT_FILES, SKIPPED_DIRS, find_import_root, legacy_import_roots, module_name

# entry points and tool configuration, not code anyone would carve out
NOT_CANDIDATES = frozenset({"setup", "conftest", "noxfile", "fabfile", "manage"})


@dataclass(frozen=True)
class LegacyRepo:
    name: str
    root: Path  # resolved
    shown: str  # the path as the user gave it, for the commands scan suggests
    import_roots: tuple[Path, ...]
    files: tuple[Path, ...]  # every Python file, resolved
    modules: dict[Path, str]  # importable files and their dotted names
    relative_paths: dict[Path, str]  # every file and candidate folder, relative to root, POSIX separators

    def relative(self, path: Path) -> str:
        return self.relative_paths.get(path) or path.relative_to(self.root).as_posix()

    def is_test(self, path: Path) -> bool:
        """Test files, and files below a ``tests`` folder or a top-level ``test`` folder (a ``test``
        package inside a library, such as ``django.test``, is code for others to test with)."""
        folders = self.relative(path).split("/")[:-1]
        return is_test_file(path) or "tests" in folders or folders[:1] == ["test"]


def find_repos(paths: Sequence[Path], warnings: list[str]) -> list[LegacyRepo]:
    """Each PATH is a repo (it has .git or a project file) or a folder of repos; a bad PATH is an InputError."""
    roots: list[tuple[Path, str]] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such directory")
        if not path.is_dir():
            raise InputError(f"{path}: not a directory", hint="give the folder of a legacy repo, or a folder of repos")
        children = [] if _is_repo(path) else sorted(c for c in path.iterdir() if c.is_dir() and _is_repo(c) and not c.name.startswith("."))
        roots += [(child, str(Path(path, child.name))) for child in children] or [(path, str(path))]
    repos = []
    seen: dict[Path, str] = {}
    for folder, shown in roots:
        root = folder.resolve()
        if root in seen:
            continue
        name = root.name if root.name not in seen.values() else f"{root.parent.name}/{root.name}"
        seen[root] = name
        repo = _load(root, name, shown, warnings)
        if not repo.files:
            raise InputError(f"{shown}: no Python files found", hint="give the folder of a legacy repo, or a folder of repos")
        repos.append(repo)
    return repos


def _is_repo(folder: Path) -> bool:
    return (folder / ".git").exists() or any((folder / name).is_file() for name in PROJECT_FILES)


def _load(root: Path, name: str, shown: str, warnings: list[str]) -> LegacyRepo:
    import_roots = tuple(legacy_import_roots(root))
    files: list[Path] = []
    modules: dict[Path, str] = {}
    relative_paths: dict[Path, str] = {}
    packages = _PackageNames(root)
    for folder, names in python_files(root, warnings):
        relative = folder.relative_to(root).as_posix()
        package = packages.dotted(folder)
        for file_name in names:
            path = folder / file_name
            files.append(path)
            relative_paths[path] = f"{relative}/{file_name}" if relative != "." else file_name
            stem = file_name[:-3]
            dotted = package if stem == "__init__" else f"{package}.{stem}" if package else stem
            if dotted and all(part.isidentifier() for part in dotted.split(".")):
                modules[path] = dotted
    return LegacyRepo(name, root, shown, import_roots, tuple(files), modules, relative_paths)


class _PackageNames:
    """The dotted name of the package in each folder, by extract's rules (``find_import_root``), with
    each folder's ``__init__.py`` looked up once, not again for every folder below it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.import_roots: dict[Path, Path] = {}

    def dotted(self, folder: Path) -> str:
        return module_name(folder / "__init__.py", self.import_root(folder))

    def import_root(self, folder: Path) -> Path:
        """``find_import_root(folder / "__init__.py", root)``: a package's is its parent's."""
        found = self.import_roots.get(folder)
        if found is None:
            if folder != self.root and (folder / "__init__.py").exists():
                found = self.import_root(folder.parent)
            else:
                found = find_import_root(folder / "__init__.py", self.root)
            self.import_roots[folder] = found
        return found


def python_files(root: Path, warnings: list[str]) -> Iterator[tuple[Path, list[str]]]:
    """Each folder below ``root`` with the names of its Python files, skipping what extract's
    ``walk_files`` skips (virtualenvs, caches, build output, hidden folders, links out of ``root``),
    with one ``scandir`` per folder and no path object per file: a scan lists every file of every repo.
    """
    pending = [str(root)]  # folders as strings: a Path for each of thousands of folders costs more than listing it
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=attrgetter("name"))
        except OSError as exc:
            warnings.append(f"{folder}: cannot list: {exc.strerror}")
            continue
        names = []
        for entry in entries:
            if entry.is_symlink() and not _inside(Path(entry.path).resolve(), root):
                warnings.append(f"{Path(entry.path).relative_to(root).as_posix()}: link outside the repo, not followed")
            elif entry.is_dir():
                # a linked folder inside the repo holds files the scan reads where they are (and a
                # link to a parent would never end)
                if not entry.is_symlink() and entry.name not in SKIPPED_DIRS and not entry.name.startswith(".") and not entry.name.endswith(".egg-info"):
                    pending.append(entry.path)
            elif entry.name.endswith(".py") and entry.is_file():
                names.append(entry.name)
        if names:
            yield Path(folder), names


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def regular_package_root(folder: Path, root: Path) -> Path:
    """The folder above ``folder``'s chain of ``__init__.py`` files: where its dotted name starts."""
    while folder != root and (folder / "__init__.py").is_file():
        folder = folder.parent
    return folder


def candidate_units(repo: LegacyRepo) -> list[tuple[str, str, Path]]:
    """(dotted name, kind, path) of every regular package, subpackage and top-level module of the repo.

    Tests, namespace folders (docs/, scripts/) and entry points such as setup.py are not candidates.
    """
    found = []
    for path, dotted in repo.modules.items():
        if repo.is_test(path):
            continue
        if path.name == "__init__.py":
            if regular_package_root(path.parent, repo.root) in repo.import_roots:
                found.append((dotted, "subpackage" if "." in dotted else "package", path.parent))
        elif path.parent in repo.import_roots and path.stem not in NOT_CANDIDATES:
            found.append((dotted, "module", path))
    return sorted(found)
