"""``maestro extract``'s core: analyse SOURCE, plan the package, write it atomically, optionally verify it.

The legacy repo is only ever read. Output is staged beside OUT and renamed into place at the end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .. import __version__, events, fsutil
from ..errors import InputError, Location, OutputExistsError, UsageError
from .analysis import ImportContext, ModuleImports, analyse_modules
from .crossings import Crossing, find_crossings
from .declared import read_declarations
from .distributions import DistributionResolver
from .inference import Requirements, infer_requirements
from .layout import (
    TEST_DIRS,
    PlannedFile,
    Role,
    docstring_summary,
    internal_destination,
    is_test_file,
    package_destination,
    walk_files,
)
from .names import check_import_name, check_version, new_import_name, normalise_dist_name
from .rewrite import Renames
from .roots import SourceLocation, head_commit, locate, module_file, module_name, top_level_modules
from .testfiles import CarriedTests, find_tests
from .verify import Verification

LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")
INTERNAL_PACKAGE = "_legacy"  # where --with-internal puts copied legacy modules inside the new package


class InternalPolicy(StrEnum):
    STOP = "stop"  # a boundary crossing stops the extraction (the default)
    COPY = "copy"  # --with-internal
    ALLOW = "allow"  # --allow-internal


@dataclass(frozen=True)
class ExtractRequest:
    source: Path
    dist_name: str
    import_name: str | None = None
    out: Path = Path("extracted")
    repo: Path | None = None
    version: str = "0.1.0"
    description: str | None = None
    internal: InternalPolicy = InternalPolicy.STOP
    keep_history: bool = False
    include_tests: bool = True
    rewrite: bool = True
    template_dir: Path | None = None
    verify: bool = False
    dry_run: bool = False
    force: bool = False
    skip_unparsable: bool = False
    cache_dir: Path | None = None
    jobs: int = 2


@dataclass
class ExtractResult:
    source: str
    root: str
    dotted_name: str
    dist_name: str
    import_name: str
    version: str
    commit: str | None
    files: list[PlannedFile]
    internal_modules: list[str]
    requirements: Requirements
    internal_imports: list[Crossing]
    warnings: list[str]
    blocked: bool  # crossings stopped the extraction
    out: Path | None = None  # OUT/DIST once written
    history_commits: int | None = None
    verification: Verification | None = None

    @property
    def failed(self) -> bool:
        return self.blocked or (self.verification is not None and not self.verification.passed)

    def to_json(self) -> dict[str, Any]:
        """The analysis as one JSON-ready document (also the core of maestro-extract.json)."""
        needs = self.requirements
        return {
            "source": self.source,
            "root": self.root,
            "dotted_name": self.dotted_name,
            "dist_name": self.dist_name,
            "import_name": self.import_name,
            "version": self.version,
            "commit": self.commit,
            "files": [
                {"source": _shown(f.source, Path(self.root)), "destination": f.destination, "role": f.role.value}
                for f in self.files
            ],
            "dependencies": needs.dependencies,
            "optional_dependencies": needs.optional_dependencies,
            "test_dependencies": needs.test_dependencies,
            "requires_python": needs.requires_python,
            "ambiguous": [asdict(a) for a in needs.ambiguous],
            "internal_imports": [asdict(c) for c in self.internal_imports],
            "internal_modules": self.internal_modules,
            "warnings": [*needs.warnings, *self.warnings],
            "blocked": self.blocked,
            "out": str(self.out) if self.out else None,
            "history_commits": self.history_commits,
            "verification": asdict(self.verification) if self.verification else None,
        }


def extract(request: ExtractRequest, step: Callable[[str], None] = lambda _: None) -> ExtractResult:
    """Carve SOURCE out into OUT/DIST; crossings under the default policy return a blocked result."""
    dist_name = normalise_dist_name(request.dist_name)
    if request.import_name and not request.rewrite:
        raise UsageError("--import-name and --no-rewrite contradict each other", hint="--no-rewrite keeps the original import name")
    version = check_version(request.version)
    if request.template_dir is not None and not request.template_dir.is_dir():
        raise InputError(f"--template {request.template_dir}: not a directory")
    location = locate(request.source, request.repo)
    import_name = new_import_name(dist_name, request.import_name) if request.rewrite else check_import_name(location.dotted_name)
    target = request.out / dist_name
    resolved_out = request.out.resolve()
    if resolved_out == location.root or location.root in resolved_out.parents:
        raise InputError(
            f"--out {request.out} is inside the legacy repo {location.root}, which maestro never writes to",
            hint="pass --out with a folder outside the repo",
        )
    if location.root == target.resolve() or target.resolve() in location.root.parents:
        raise InputError(
            f"--out {request.out}: {target} holds the legacy repo {location.root}, which maestro never writes to",
            hint="pass another --out or --name",
        )
    if request.out.exists() and not request.out.is_dir():
        raise InputError(f"--out {request.out}: not a folder")
    if target.exists() and not request.force and not request.dry_run:
        raise OutputExistsError.for_path(target)

    warnings: list[str] = []
    context = ImportContext(location.dotted_name, frozenset(top_level_modules(location.import_roots)))

    def analyse(paths: dict[Path, str]) -> list[ModuleImports]:
        return analyse_modules(paths, context, root=location.root, cache_dir=request.cache_dir, jobs=request.jobs)

    step("analysing SOURCE")
    files = _source_files(location, "src/" + import_name.replace(".", "/"), warnings)
    code = _readable(analyse({f.source: f.module for f in files if f.role is Role.CODE}), request.skip_unparsable, warnings)
    files = [f for f in files if f.role is not Role.CODE or f.module in {m.module for m in code}]
    crossings = find_crossings(code, location, warnings)

    tests = CarriedTests()
    if request.include_tests:
        step("finding tests")
        tests = find_tests(location, analyse, warnings, keep_crossing=request.internal is not InternalPolicy.STOP)
        files += tests.files

    internal_modules: dict[str, Path] = {}
    internal_code: list[ModuleImports] = []
    if request.internal is InternalPolicy.COPY and (crossings or tests.crossings):
        step("copying legacy modules")
        internal_modules, internal_code = _closure([*crossings, *tests.crossings], location, analyse, request.skip_unparsable, warnings)
        base = f"src/{import_name}/{INTERNAL_PACKAGE}" if request.rewrite else "src"
        for module, path in internal_modules.items():
            files.append(PlannedFile(path, internal_destination(path, _import_root_of(path, module), base), Role.INTERNAL, module))

    step("inferring dependencies")
    declared = read_declarations(location.root, location.source)
    warnings += declared.warnings
    legacy_dist: list[str] = []
    if request.internal is InternalPolicy.ALLOW and crossings:
        if declared.project_name:
            legacy_dist = [declared.project_name]
        else:
            warnings.append("--allow-internal: the repo declares no distribution name, so the legacy imports need it on the path")
    # tests that live inside SOURCE travel with the package, but what they import is for testing only
    inner = {m.file for m in code if location.is_package and _is_test_module(Path(m.file).relative_to(location.relative_source))}
    inner_tests = [m for m in code if m.file in inner]
    runtime = [m for m in code if m.file not in inner]
    requirements = infer_requirements(
        [*runtime, *internal_code], [*tests.modules, *inner_tests], declared, DistributionResolver(cache_dir=request.cache_dir), extra_hard=legacy_dist
    )
    license_file = next((location.root / n for n in LICENSE_NAMES if (location.root / n).is_file()), None)
    if license_file is not None:
        files.append(PlannedFile(license_file, license_file.name, Role.LICENSE))

    result = ExtractResult(
        source=location.relative_source,
        root=str(location.root),
        dotted_name=location.dotted_name,
        dist_name=dist_name,
        import_name=import_name,
        version=version,
        commit=head_commit(location.root),
        files=_unique_destinations(files, location.root, warnings),
        internal_modules=sorted(internal_modules),
        requirements=requirements,
        internal_imports=crossings if request.internal is not InternalPolicy.COPY else [*crossings, *tests.crossings],
        warnings=warnings,
        blocked=request.internal is InternalPolicy.STOP and bool(crossings),
    )
    if result.blocked or request.dry_run:
        return result
    _write(result, request, location, target, internal_modules, declared.project_name, step)
    if request.verify:
        from .verify import verify_package

        step("verifying: build, install, test")
        result.verification = verify_package(target, import_name, run_tests=any(f.role is Role.TEST for f in result.files))
    return result


def _source_files(location: SourceLocation, package_dir: str, warnings: list[str]) -> list[PlannedFile]:
    """SOURCE's modules and data files with their places in the new package."""
    paths = walk_files(location.source, location.root, warnings) if location.is_package else [location.source]
    return [
        PlannedFile(
            path,
            package_destination(path, location.source, location.is_package, package_dir),
            Role.CODE if path.suffix == ".py" else Role.DATA,
            module_name(path, location.import_root) if path.suffix == ".py" else "",
        )
        for path in paths
    ]


def _is_test_module(path: Path) -> bool:
    return is_test_file(path) or path.name == "conftest.py" or any(part in TEST_DIRS for part in path.parts[:-1])


def _readable(modules: list[ModuleImports], skip: bool, warnings: list[str]) -> list[ModuleImports]:
    """Modules that parsed; unparsable ones are an error naming each, or with ``skip`` a warning."""
    failures = [m.error for m in modules if m.error is not None]
    if failures and not skip:
        first = failures[0]
        message = "\n".join(f"{f.file}:{f.line}:{f.column}: cannot parse: {f.message}" for f in failures[1:])
        raise InputError(
            f"cannot parse: {first.message}" + (f"\n{message}" if message else ""),
            location=Location(first.file, first.line, first.column),
            hint="Python 2 code? port it, or pass --skip-unparsable to leave such files out",
        )
    for failure in failures:
        warnings.append(f"{failure.file}:{failure.line}:{failure.column}: cannot parse ({failure.message}); left out")
    return [m for m in modules if m.error is None]


def _closure(
    crossings: list[Crossing],
    location: SourceLocation,
    analyse: Callable[[dict[Path, str]], list[ModuleImports]],
    skip: bool,
    warnings: list[str],
) -> tuple[dict[str, Path], list[ModuleImports]]:
    """Every legacy module the crossings reach, transitively, with its file."""
    found: dict[str, Path] = {}
    analysed: list[ModuleImports] = []
    pending = list(dict.fromkeys(c.module for c in crossings))
    while pending:
        batch: dict[Path, str] = {}
        for module in pending:
            path = module_file(module, location.import_roots)
            if path is None:
                warnings.append(f"legacy module {module} not found in the repo; its imports stay as they are")
            elif module not in found:
                found[module] = path
                batch[path] = module
        modules = _readable(analyse(batch), skip, warnings)
        analysed += modules
        pending = [c.module for c in find_crossings(modules, location, warnings) if c.module not in found]
    return found, analysed


def _import_root_of(path: Path, module: str) -> Path:
    depth = module.count(".") + (1 if path.name == "__init__.py" else 0)
    return path.parents[depth]


def _unique_destinations(files: list[PlannedFile], root: Path, warnings: list[str]) -> list[PlannedFile]:
    taken: dict[str, PlannedFile] = {}
    for planned in files:
        if planned.destination in taken:
            warnings.append(f"{_shown(planned.source, root)}: would overwrite {planned.destination}; left out")
        else:
            taken[planned.destination] = planned
    return list(taken.values())


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _write(
    result: ExtractResult,
    request: ExtractRequest,
    location: SourceLocation,
    target: Path,
    internal_modules: dict[str, Path],
    legacy_dist: str | None,
    step: Callable[[str], None],
) -> None:
    from .writer import MANIFEST, render_skeleton, write_package

    step("writing the package")
    renames: dict[str, str] = {}
    if request.rewrite:
        renames[location.dotted_name] = result.import_name
        for top in {m.split(".")[0] for m in internal_modules}:
            renames.setdefault(top, f"{result.import_name}.{INTERNAL_PACKAGE}.{top}")
    packages = sorted({Path(f.destination).parts[1] for f in result.files if f.destination.startswith("src/")})
    summary = docstring_summary(location.source / "__init__.py" if location.is_package else location.source)
    needs = result.requirements
    context = {
        "dist_name": result.dist_name,
        "import_name": result.import_name,
        "version": result.version,
        "description": request.description or summary or f"{location.dotted_name}, extracted from {location.root.name}",
        "requires_python": needs.requires_python,
        "dependencies": needs.dependencies,
        "optional_dependencies": needs.optional_dependencies,
        "test_dependencies": needs.test_dependencies,
        "packages": packages,
        "source_path": result.source,
        "repo_name": location.root.name,
        "commit": result.commit or "",
        "date": date.today().isoformat(),
        "maestro_version": __version__,
    }
    skeleton = render_skeleton(context, request.template_dir)
    staging = _staging_for(target, request.out)
    try:
        # the code asking for its own distribution's metadata (click's __version__) asks for the new one
        distributions = {canonicalize_name(legacy_dist): result.dist_name} if legacy_dist and request.rewrite else {}
        write_package(staging, result.files, Renames(renames, distributions), skeleton, result.to_json(), result.warnings)
        if request.keep_history:
            from .history import carry_history

            step("carrying git history")
            package_dir = "src/" + result.import_name.replace(".", "/")
            destination = package_dir if location.is_package else f"{package_dir}/__init__.py"
            result.history_commits = carry_history(
                location.root, result.source, destination, staging,
                f"Extract {result.dist_name} from {location.root.name} with maestro {__version__}",
                is_dir=location.is_package,
            )
        fsutil.replace_dir(staging, target, force=request.force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.out = target
    events.emit(
        "extract.written",
        artifacts=[events.Artifact.from_file(target / "pyproject.toml"), events.Artifact.from_file(target / MANIFEST)],
        read_only=[location.root],
        source=result.source,
        dist_name=result.dist_name,
        files=len(result.files),
    )


def _staging_for(target: Path, out: Path) -> Path:
    """The staging folder, with the mode a folder the user makes would have (a temporary folder is
    private, and it becomes OUT/DIST by renaming)."""
    try:
        staging = fsutil.staging_dir_beside(target)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create it ({exc.strerror})") from None
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    return staging
