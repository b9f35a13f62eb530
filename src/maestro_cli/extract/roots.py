"""Where SOURCE lives: the legacy repo (ROOT), the folder it is imported from, and its dotted name."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt")
# folders that are never legacy code: virtualenvs, caches, VCS metadata, build output
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", "__pycache__", "node_modules",
     "build", "dist", ".eggs", ".mypy_cache", ".pytest_cache", "site-packages"}
)
# a layout folder such as src/ holds packages but is not one itself, even without __init__.py
LAYOUT_DIRS = frozenset({"src", "lib", "python"})


@dataclass(frozen=True)
class SourceLocation:
    """SOURCE resolved inside its legacy repo."""

    root: Path  # the legacy repo
    source: Path  # the module file or package folder, resolved
    import_root: Path  # the folder on sys.path from which ``dotted_name`` imports
    dotted_name: str
    is_package: bool
    import_roots: tuple[Path, ...]  # every folder of the repo that holds top-level legacy modules

    @property
    def relative_source(self) -> str:
        return self.source.relative_to(self.root).as_posix()


def locate(source: Path, repo: Path | None = None) -> SourceLocation:
    """Resolve SOURCE, ROOT and the dotted name; bad input is an :class:`InputError`."""
    if not source.exists():
        raise InputError(f"SOURCE {source}: no such file or directory")
    resolved = source.resolve()
    if resolved.name == "__init__.py":  # the package's own file: its siblings are what it imports with ``from .``
        resolved = resolved.parent
    if resolved.is_file():
        if resolved.suffix != ".py":
            raise InputError(f"SOURCE {source}: not a Python module or package", hint="give a .py file or a package folder")
        is_package = False
    elif not any(resolved.glob("*.py")):
        raise InputError(f"SOURCE {source}: not a Python package (no .py files in it)")
    else:
        is_package = True
    if repo is not None:
        if not repo.is_dir():
            raise InputError(f"--repo {repo}: not a directory")
        root = repo.resolve()
    else:
        root = find_root(resolved)
    if resolved != root and root not in resolved.parents:
        raise InputError(f"SOURCE {source} is outside the repo {root}", hint="pass --repo with the folder that holds it")
    if resolved == root:
        raise InputError(f"SOURCE {source} is the whole repo", hint="point SOURCE at one module or package inside it")
    import_root = find_import_root(resolved, root)
    relative = resolved.relative_to(import_root).with_suffix("") if not is_package else resolved.relative_to(import_root)
    parts = [p for p in relative.parts if p != "__init__"]
    if not parts or not all(p.isidentifier() for p in parts):
        raise InputError(f"SOURCE {source}: '{'.'.join(relative.parts)}' is not an importable module name")
    dotted = ".".join(parts)
    return SourceLocation(
        root=root,
        source=resolved,
        import_root=import_root,
        dotted_name=dotted,
        is_package=is_package,
        import_roots=tuple(dict.fromkeys([import_root, *legacy_import_roots(root)])),
    )


def find_root(source: Path) -> Path:
    """The git top level, else the nearest folder with a project file, else the nearest non-package."""
    start = source if source.is_dir() else source.parent
    top = _git_toplevel(start)
    if top is not None:
        return top
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in PROJECT_FILES):
            return folder
    for folder in (start.parent, *start.parent.parents):
        if not (folder / "__init__.py").exists():
            return folder
    return start.parent


def _git_toplevel(folder: Path) -> Path | None:
    top = _rev_parse(folder, "--show-toplevel")
    return Path(top).resolve() if top else None


def _rev_parse(folder: Path, argument: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", argument], capture_output=True, text=True, check=False)
    except OSError:  # git is not installed: callers fall back to what the file system says
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def find_import_root(source: Path, root: Path) -> Path:
    """Walk up while ``__init__.py`` exists, then through namespace folders up to a layout boundary."""
    folder = source.parent
    while folder != root and (folder / "__init__.py").exists():
        folder = folder.parent
    # a folder without __init__.py may still be a namespace package (PEP 420); it ends at the repo,
    # at a layout folder such as src/, at a folder that is a project of its own, or at a name no
    # import statement could spell (``legacy-estate``)
    while folder != root and folder.name.isidentifier() and folder.name not in LAYOUT_DIRS and not _is_project(folder):
        folder = folder.parent
    return folder


def _is_project(folder: Path) -> bool:
    return any((folder / name).is_file() for name in PROJECT_FILES[:3])


def legacy_import_roots(root: Path) -> list[Path]:
    """ROOT, its src/, and each project folder (with its src/) a few levels down, as in a monorepo."""
    found = [root]
    for folder in _walk_dirs(root, depth=3):
        if folder == root or _is_project(folder):
            found.append(folder)
            if (folder / "src").is_dir():
                found.append(folder / "src")
    if (root / "src").is_dir():
        found.insert(1, root / "src")
    return list(dict.fromkeys(found))


def _walk_dirs(root: Path, depth: int) -> Iterator[Path]:
    yield root
    if depth == 0:
        return
    try:
        children = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in children:
        # a package holds modules, not projects: not descending into them keeps this walk short
        if (
            entry.is_dir(follow_symlinks=False)
            and entry.name not in SKIPPED_DIRS
            and not entry.name.startswith(".")
            and not os.path.exists(os.path.join(entry.path, "__init__.py"))
        ):
            yield from _walk_dirs(Path(entry.path), depth - 1)


def top_level_modules(import_roots: tuple[Path, ...]) -> dict[str, Path]:
    """Every top-level module or package name the legacy repo defines, with the folder it lives in."""
    names: dict[str, Path] = {}
    for folder in import_roots:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if entry.is_file() and name.endswith(".py") and name[:-3].isidentifier() and name != "setup.py":
                names.setdefault(name[:-3], folder)
            elif (
                entry.is_dir()
                and name.isidentifier()
                and name not in SKIPPED_DIRS
                and name not in LAYOUT_DIRS
                and (Path(entry.path, "__init__.py").exists() or any(Path(entry.path).glob("*.py")))
            ):
                names.setdefault(name, folder)
    return names


def module_file(dotted: str, import_roots: tuple[Path, ...]) -> Path | None:
    """The file that defines ``dotted`` (a module, or a package's ``__init__.py``), if the repo has it."""
    parts = dotted.split(".")
    for folder in import_roots:
        base = folder.joinpath(*parts)
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
    return None


def module_name(path: Path, import_root: Path) -> str:
    """The dotted name of a file below ``import_root`` (``pkg/__init__.py`` is ``pkg``)."""
    parts = list(path.relative_to(import_root).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def head_commit(root: Path) -> str | None:
    """The legacy repo's current commit, for provenance; None outside git."""
    return _rev_parse(root, "HEAD")
