"""Writing the package: skeleton files from templates, the taken files (imports rewritten), the manifest.

Everything is written into a staging folder beside OUT and renamed into place by the caller, so
OUT/DIST is either absent, the old tree, or the complete new one.

Template variables (``--template DIR`` may override any of README.md.j2, CHANGELOG.md.j2,
pyproject.toml.j2 and gitignore): ``dist_name``, ``import_name``, ``version``, ``description``,
``requires_python``, ``dependencies`` (list of PEP 508 strings), ``optional_dependencies`` (extra ->
list), ``test_dependencies``, ``packages`` (top-level names under ``src/``), ``source_path``,
``repo_name``, ``commit`` (or empty), ``date`` (ISO date), ``maestro_version``, and ``toml(value)``,
which quotes a string for TOML.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import templating
from ..errors import InputError
from .layout import PlannedFile
from .rewrite import Renames, rewrite_source

SKELETON = {
    "README.md": "README.md.j2",
    "CHANGELOG.md": "CHANGELOG.md.j2",
    "pyproject.toml": "pyproject.toml.j2",
    ".gitignore": "gitignore",
}
MANIFEST = "maestro-extract.json"


def toml_string(value: str) -> str:
    # a JSON string is a valid TOML basic string: same quotes, same escapes
    return json.dumps(value, ensure_ascii=False)


def render_skeleton(context: Mapping[str, Any], template_dir: Path | None) -> dict[str, str]:
    """The skeleton files' text; a user's template folder is searched before maestro's own."""
    folders = ([template_dir] if template_dir is not None else []) + [templating.templates_dir() / "extract"]
    rendered = {
        name: templating.render(template, *folders, **context, toml=toml_string) for name, template in SKELETON.items()
    }
    try:
        tomllib.loads(rendered["pyproject.toml"])
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"pyproject.toml.j2 renders invalid TOML: {exc}", hint="check the template in --template") from None
    return rendered


def write_package(
    staging: Path,
    files: list[PlannedFile],
    renames: Renames,
    skeleton: Mapping[str, str],
    manifest: dict[str, Any],
    warnings: list[str],
) -> list[Path]:
    """Write everything into ``staging``; returns the paths written, manifest last.

    The manifest is the analysis with the sha256 of each file as it was taken from the legacy repo
    added to its entry in ``files``.
    """
    written: list[Path] = []
    digests: dict[str, str] = {}
    for planned in files:
        data = planned.source.read_bytes()
        digests[planned.destination] = hashlib.sha256(data).hexdigest()
        if planned.is_python and renames:
            data = _rewritten(data, renames, planned, warnings)
        written.append(_write(staging / planned.destination, data))
    for name, text in skeleton.items():
        written.append(_write(staging / name, text.encode("utf-8")))
    for package_dir in {Path(p.destination).parent for p in files if p.is_python and p.destination.startswith("src/")}:
        _fill_packages(staging, staging / package_dir, written)
    taken = [{**entry, "sha256": digests[entry["destination"]]} for entry in manifest["files"]]
    manifest = {**manifest, "files": taken}
    written.append(_write(staging / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")))
    return written


def _rewritten(data: bytes, renames: Renames, planned: PlannedFile, warnings: list[str]) -> bytes:
    import libcst

    # the file's package before the move (a module's parent, a package's own name) and after it
    package = planned.module if planned.source.name == "__init__.py" else planned.module.rpartition(".")[0]
    folders = Path(planned.destination).parent.parts
    new_package = ".".join(folders[1:] if folders[:1] == ("src",) else folders)
    try:
        return rewrite_source(data, renames, package=package, new_package=new_package)
    except libcst.ParserSyntaxError as exc:
        warnings.append(f"{planned.destination}: libcst cannot parse it ({exc.message}); copied without rewriting")
        return data


def _fill_packages(staging: Path, folder: Path, written: list[Path]) -> None:
    """Folders between ``src/`` and a copied module become packages: with --with-internal a module may come without its parents."""
    src = staging / "src"
    while folder != src and src in folder.parents:
        marker = folder / "__init__.py"
        if not marker.exists():
            written.append(_write(marker, b""))
        folder = folder.parent


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
