"""Distribution files: finding them, reading their core metadata, and checking it before any upload.

Metadata is read with pkginfo (the archive walking twine relies on) and validated with
``packaging.metadata``; the long description is rendered with readme-renderer. Together they are
``twine check --strict``: a file that would be rejected or render badly on an index never leaves.
"""

from __future__ import annotations

import email.message
import hashlib
import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError
from .cachefile import CacheFile

WHEEL_SUFFIX = ".whl"
SDIST_SUFFIXES = (".tar.gz", ".zip")
PROJECT_MARKERS = ("pyproject.toml", "setup.py")
# Chunk size for hashing and streaming: big enough for disk throughput, small enough for memory.
CHUNK_SIZE = 1 << 20
# Files remembered as checked, the oldest forgotten first: a few hundred releases' worth.
CHECKED_MAX = 2000

# Core-metadata fields as the upload form names them (warehouse's parse_form_metadata, reversed).
_FORM_FIELDS = {
    "metadata_version": "metadata_version",
    "name": "name",
    "version": "version",
    "platforms": "platform",
    "summary": "summary",
    "description": "description",
    "keywords": "keywords",
    "home_page": "home_page",
    "author": "author",
    "author_email": "author_email",
    "license": "license",
    "supported_platforms": "supported_platform",
    "download_url": "download_url",
    "classifiers": "classifiers",
    "requires": "requires",
    "provides": "provides",
    "obsoletes": "obsoletes",
    "maintainer": "maintainer",
    "maintainer_email": "maintainer_email",
    "requires_dist": "requires_dist",
    "provides_dist": "provides_dist",
    "obsoletes_dist": "obsoletes_dist",
    "requires_python": "requires_python",
    "requires_external": "requires_external",
    "project_urls": "project_urls",
    "description_content_type": "description_content_type",
    "provides_extra": "provides_extra",
    "dynamic": "dynamic",
    "license_expression": "license_expression",
    "license_files": "license_file",
}


@dataclass(frozen=True)
class FileDigest:
    """A file's size and the two digests the upload form sends, from one pass over it."""

    size: int
    sha256: str
    blake2_256: str


@dataclass(frozen=True)
class Distribution:
    """One checked distribution file, with what an upload needs to say about it."""

    path: Path
    filetype: str  # "bdist_wheel" or "sdist", the upload API's names
    pyversion: str  # a wheel's python tag, or "source"
    digest: FileDigest
    project: str  # the normalised project name (PEP 503), as indexes file it
    requires: frozenset[str]  # normalised names of every project it requires (any extra, any marker)
    metadata: dict[str, Any] = field(repr=False)  # packaging's RawMetadata

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def size(self) -> int:
        return self.digest.size

    @property
    def sha256(self) -> str:
        return self.digest.sha256

    def dependencies(self) -> set[str]:
        return set(self.requires)


@dataclass
class Inputs:
    """What the user pointed at: project folders to build first, and distribution files."""

    projects: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def is_distribution_file(path: Path) -> bool:
    return path.name.endswith((WHEEL_SUFFIX, *SDIST_SUFFIXES))


def is_project(path: Path) -> bool:
    return any((path / marker).is_file() for marker in PROJECT_MARKERS)


def collect_inputs(paths: Iterable[Path]) -> Inputs:
    """Sort PATH arguments into projects and distribution files; anything else is bad input."""
    inputs = Inputs()
    for path in paths:
        if path.is_dir():
            if is_project(path):
                inputs.projects.append(path)
                continue
            found = sorted(p for p in path.iterdir() if p.is_file() and is_distribution_file(p))
            if not found:
                raise InputError(
                    f"{path}: no distributions (.whl, .tar.gz) and no pyproject.toml in this folder",
                    hint="point at a project folder, its dist/ folder, or distribution files",
                )
            inputs.files.extend(found)
        elif path.is_file():
            if not is_distribution_file(path):
                raise InputError(f"{path}: not a distribution file (expected .whl, .tar.gz or .zip)")
            inputs.files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return inputs


def digest_file(path: Path) -> FileDigest:
    """sha256 and blake2b-256 in one pass over the file, never holding more than one chunk."""
    sha256 = hashlib.sha256()
    blake2 = hashlib.blake2b(digest_size=32)
    size = 0
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(CHUNK_SIZE), b""):
            sha256.update(block)
            blake2.update(block)
            size += len(block)
    return FileDigest(size, sha256.hexdigest(), blake2.hexdigest())


def read_distribution(path: Path, checked: CacheFile | None = None) -> Distribution:
    """Read and check one file; every problem is an :class:`InputError` naming the file.

    A file ``checked`` holds, by name and sha256, passed before: it is not read or checked again.
    """
    digest = digest_file(path)
    key = f"{__version__} {path.name} {digest.sha256}"  # another maestro may check otherwise
    known = checked.get(key) if checked is not None else None
    if isinstance(known, dict):
        try:
            return Distribution(
                path, known["filetype"], known["pyversion"], digest, known["project"], frozenset(known["requires"]), known["metadata"]
            )
        except (KeyError, TypeError):
            pass  # an entry of another shape: check the file again
    metadata = _parsed_metadata(path, _metadata_bytes(path))
    filetype, pyversion, project = _check_filename(path, metadata)
    _check_description(path, metadata)
    requires = _required_projects(metadata)
    if checked is not None:
        checked.put(key, {"filetype": filetype, "pyversion": pyversion, "project": project, "requires": sorted(requires), "metadata": metadata})
    return Distribution(path, filetype, pyversion, digest, project, requires, metadata)


def read_distributions(paths: Iterable[Path], *, cache_dir: Path | None = None) -> list[Distribution]:
    """Every file read and checked.

    The checks (archive, metadata validation, rendering) and their imports cost more than uploading a
    small file, and their verdict depends only on the file's bytes and name: with ``cache_dir``, a
    file published again (a rerun CI job, TestPyPI then PyPI) is checked once. Only passes are kept.
    """
    checked = CacheFile(cache_dir / "publish" / "checked.json" if cache_dir is not None else None, max_entries=CHECKED_MAX)
    distributions: dict[str, Distribution] = {}
    for path in paths:
        dist = read_distribution(path, checked)
        earlier = distributions.get(dist.filename)
        if earlier is not None and earlier.path.resolve() != path.resolve():
            raise InputError(f"{dist.filename} is given twice: {earlier.path} and {path}")
        distributions[dist.filename] = dist
    checked.save()
    return list(distributions.values())


def _required_projects(metadata: dict[str, Any]) -> frozenset[str]:
    lines = metadata.get("requires_dist", [])
    if not lines:
        return frozenset()  # without importing packaging's requirement parser
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    # every line parses: _parsed_metadata validated requires_dist
    return frozenset(str(canonicalize_name(Requirement(line).name)) for line in lines)


def _metadata_bytes(path: Path) -> bytes:
    import pkginfo

    reader = pkginfo.Wheel if path.name.endswith(WHEEL_SUFFIX) else pkginfo.SDist
    # pkginfo's constructor reads and parses the metadata, and read() reads it again; packaging
    # parses it here, so only read() is wanted: it needs nothing but the file name
    archive = reader.__new__(reader)
    archive.filename = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkginfo warns about metadata versions it does not know
            data: bytes = archive.read()
    except (ValueError, OSError, EOFError, KeyError) as exc:
        raise InputError(f"{path}: not a readable distribution ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile, tarfile.ReadError and friends
        raise InputError(f"{path}: not a readable distribution ({type(exc).__name__}: {exc})") from None
    return data


def _parsed_metadata(path: Path, raw: bytes) -> dict[str, Any]:
    from packaging import metadata as pkg_metadata
    from packaging.version import InvalidVersion, Version

    parsed, unparsed = pkg_metadata.parse_email(raw)
    try:
        old_format = Version(str(parsed.get("metadata_version", "0"))) < Version("2.4")
    except InvalidVersion:
        old_format = False  # from_raw below names the bad Metadata-Version
    if old_format:
        # setuptools writes License-File under Metadata-Version 2.1; indexes ignore it (as twine does)
        parsed.pop("license_files", None)
        unparsed.pop("license-file", None)
    problems = [f"unrecognised or malformed field '{key}'" for key in unparsed]
    try:
        pkg_metadata.Metadata.from_raw(parsed)
    except pkg_metadata.ExceptionGroup as group:
        problems += sorted(str(error) for error in group.exceptions)
    if problems:
        raise InputError(f"{path}: invalid metadata: {'; '.join(problems)}")
    return dict(parsed)


def _check_filename(path: Path, metadata: dict[str, Any]) -> tuple[str, str, str]:
    """The file name must name the same project and version as the metadata inside it.

    Returns the upload API's file type, the python tag, and the normalised project name.
    """
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version

    try:
        if path.name.endswith(WHEEL_SUFFIX):
            name, version, _build, tags = parse_wheel_filename(path.name)
            pyversion = ".".join(sorted({tag.interpreter for tag in tags}))
            filetype = "bdist_wheel"
        else:
            name, version = parse_sdist_filename(path.name)
            pyversion, filetype = "source", "sdist"
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise InputError(f"{path}: {exc}") from None
    meta_name = canonicalize_name(str(metadata["name"]))
    meta_version = Version(str(metadata["version"]))
    if name != meta_name or version != meta_version:
        raise InputError(
            f"{path}: the file name says {name} {version} but its metadata says {meta_name} {meta_version}",
            hint="rebuild the distribution instead of renaming it",
        )
    return filetype, pyversion, str(name)


def _check_description(path: Path, metadata: dict[str, Any]) -> None:
    """``twine check --strict``: a description that is present, typed and renders."""
    description = str(metadata.get("description") or "")
    content_type = metadata.get("description_content_type")
    if not description.strip() or description.strip() == "UNKNOWN":
        raise InputError(f"{path}: the long description is missing", hint="set readme in pyproject.toml")
    if not content_type:
        raise InputError(
            f"{path}: the long description has no content type",
            hint="set readme to a .md or .rst file, or readme.content-type in pyproject.toml",
        )
    message = email.message.EmailMessage()
    message["content-type"] = content_type
    if message.get_content_type() not in ("text/x-rst", ""):
        return  # Markdown and plain text always render
    import readme_renderer.rst

    warnings_stream = io.StringIO()
    if readme_renderer.rst.render(description, stream=warnings_stream) is None:
        detail = " ".join(warnings_stream.getvalue().split())
        raise InputError(f"{path}: the reStructuredText long description does not render: {detail}")


def form_fields(dist: Distribution) -> list[tuple[str, str]]:
    """Every metadata field as upload-form parts, lists as one part per value (twine's encoding)."""
    fields: list[tuple[str, str]] = []
    for key, value in dist.metadata.items():
        name = _FORM_FIELDS.get(key)
        if name is None:
            continue
        if key == "name":
            value = re.sub(r"[^A-Za-z0-9.]+", "-", str(value))  # warehouse's safe name, as twine sends
        if key == "project_urls":
            fields += [(name, f"{label}, {url}") for label, url in value.items()]
        elif key == "keywords":
            fields.append((name, ", ".join(value)))
        elif isinstance(value, list | tuple):
            fields += [(name, str(item)) for item in value]
        else:
            fields.append((name, str(value)))
    if "requires_python" not in dist.metadata:
        fields.append(("requires_python", ""))  # GitLab rejects an upload without the field
    fields += [
        ("pyversion", dist.pyversion),
        ("filetype", dist.filetype),
        ("sha256_digest", dist.sha256),
        ("blake2_256_digest", dist.digest.blake2_256),
    ]
    return fields
