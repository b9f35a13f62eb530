"""Building sdists and wheels through a project's PEP 517 backend.

When maestro's own environment satisfies the project's ``build-system.requires`` (always the case for
poetry-core, which maestro depends on), the backend is imported and called in this process: no
virtualenv to create, no interpreter to start, no backend to import again. That is what makes a build
an order of magnitude faster than ``python -m build``. Any other backend is built the way ``build``
does it: a fresh virtualenv, its requirements installed with pip, the hooks called through
``pyproject_hooks`` in a subprocess.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import events, fsutil
from ..errors import BuildError, InputError, Location, OutputExistsError
from ..events import Artifact
from .distfiles import digest_file, is_project
from .environment import satisfied

# PEP 517: a project without [build-system] is built with setuptools' legacy backend.
FALLBACK_REQUIRES = ["setuptools>=40.8.0"]
FALLBACK_BACKEND = "setuptools.build_meta:__legacy__"
# How much of a failed backend's output an error quotes: the end is where the reason is.
OUTPUT_TAIL = 2000
KINDS = ("sdist", "wheel")

# A backend run in-process reads the working directory; one build at a time may change it.
_cwd_lock = threading.Lock()


@dataclass(frozen=True)
class BuildSystem:
    """A project's ``[build-system]`` table, with PEP 517's defaults filled in."""

    requires: list[str]
    backend: str
    backend_path: list[str]


@dataclass(frozen=True)
class BuiltFile:
    """One sdist or wheel written to the output folder."""

    path: Path
    size: int
    sha256: str


@dataclass
class ProjectBuild:
    """The files built from one project, and by which backend, where."""

    project: Path
    backend: str
    isolated: bool  # True: a fresh virtualenv; False: in maestro's process
    files: list[BuiltFile]


@dataclass(frozen=True)
class BuildRequest:
    """Everything ``maestro build`` was asked: which projects, where to, which kinds."""

    projects: list[Path]
    out: Path | None = None  # None: each project's own dist/
    sdist: bool = True
    wheel: bool = True
    force: bool = False
    cache_dir: Path | None = None  # where in-process backends keep their start-up work (poetry_cache)


def build_projects(request: BuildRequest, *, on_project: Callable[[Path], None] | None = None) -> list[ProjectBuild]:
    """Build every project in turn; ``on_project(path)`` is called as each one starts."""
    kinds = [kind for kind, wanted in zip(KINDS, (request.sdist, request.wheel), strict=True) if wanted]
    if not kinds:
        raise InputError("nothing to build: --no-sdist and --no-wheel together leave nothing")
    for project in request.projects:
        if not project.is_dir() or not is_project(project):
            raise InputError(f"{project}: not a project folder (no pyproject.toml or setup.py)")
    builds = []
    for project in request.projects:
        if on_project is not None:
            on_project(project)
        out = request.out or project / "dist"
        builds.append(build_project(project, out, kinds=kinds, force=request.force, cache_dir=request.cache_dir))
    return builds


def build_project(
    project: Path, out: Path, *, kinds: Sequence[str] = KINDS, force: bool = False, cache_dir: Path | None = None
) -> ProjectBuild:
    """Build into a staging folder beside ``out``, then move the files in (never over one without force)."""
    system = read_build_system(project)
    backend = in_process_backend(system, cache_dir=cache_dir)
    if backend is not None and system.backend.startswith("poetry.core."):
        from . import poetry_cache

        poetry_cache.prepare(cache_dir)
    if backend is not None and not _hook_requirements_met(project, backend, system.backend, kinds, cache_dir):
        backend = None  # e.g. setuptools without the wheel package: a fresh environment gets it
    staging = fsutil.staging_dir_beside(out / ".build")
    try:
        if backend is not None:
            names = [_call_in_process(project, backend, system.backend, kind, staging) for kind in kinds]
        else:
            names = _build_isolated(project, system, kinds, staging)
        produced = [staging / name for name in names]
        clashes = [out / path.name for path in produced if (out / path.name).exists()]
        if clashes and not force:
            raise OutputExistsError.for_path(clashes[0])
        files = []
        for path in produced:
            target = out / path.name
            os.replace(path, target)
            digest = digest_file(target)
            files.append(BuiltFile(target, digest.size, digest.sha256))
            events.emit("build.built", artifacts=[Artifact(path=target.name, sha256=digest.sha256)], project=str(project))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ProjectBuild(project, system.backend, backend is None, files)


def read_build_system(project: Path) -> BuildSystem:
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return BuildSystem(FALLBACK_REQUIRES, FALLBACK_BACKEND, [])
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", location=Location(str(pyproject), getattr(exc, "lineno", None))) from None
    table = data.get("build-system")
    if table is None:
        return BuildSystem(FALLBACK_REQUIRES, FALLBACK_BACKEND, [])
    requires = table.get("requires")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise InputError("build-system.requires must be a list of strings", location=Location(str(pyproject)))
    backend = table.get("build-backend", FALLBACK_BACKEND)
    backend_path = table.get("backend-path", [])
    if not isinstance(backend, str) or not isinstance(backend_path, list):
        raise InputError("build-system.build-backend must be a string, backend-path a list", location=Location(str(pyproject)))
    return BuildSystem(requires, backend, backend_path)


def in_process_backend(system: BuildSystem, *, cache_dir: Path | None = None) -> Any | None:
    """The backend object when this environment can run it as the project asks, else None.

    An in-tree backend (``backend-path``) is project code with its own expectations: isolated.
    """
    if system.backend_path or not satisfied(system.requires, cache_dir=cache_dir):
        return None
    module_name, _, attribute = system.backend.partition(":")
    try:
        backend: Any = importlib.import_module(module_name)
        for part in filter(None, attribute.split(".")):
            backend = getattr(backend, part)
    except (ImportError, AttributeError):
        return None
    return backend


@contextlib.contextmanager
def _inside(project: Path) -> Iterator[io.StringIO]:
    """The project as working directory, the backend's chatter captured (stdout belongs to --json)."""
    output = io.StringIO()
    with _cwd_lock:
        previous = Path.cwd()
        os.chdir(project)
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                yield output
        finally:
            os.chdir(previous)


def _hook_requirements_met(
    project: Path, backend: Any, backend_name: str, kinds: Sequence[str], cache_dir: Path | None
) -> bool:
    """What the backend asks for at build time (PEP 517 ``get_requires_for_build_*``) is installed here."""
    for kind in kinds:
        hook = getattr(backend, f"get_requires_for_build_{kind}", None)
        if hook is not None:
            requirements = _call_hook(project, backend_name, f"get the requirements of a {kind}", hook, {})
            if not satisfied(requirements, cache_dir=cache_dir):
                return False
    return True


def _call_in_process(project: Path, backend: Any, backend_name: str, kind: str, staging: Path) -> str:
    hook = getattr(backend, f"build_{kind}", None)
    if hook is None:
        raise BuildError(f"{project}: the build backend {backend_name} cannot build a {kind}")
    return str(_call_hook(project, backend_name, f"build a {kind}", hook, str(staging.resolve()), {}))


def _call_hook(project: Path, backend_name: str, doing: str, hook: Callable[..., Any], *args: Any) -> Any:
    with _inside(project.resolve()) as output:
        try:
            return hook(*args)
        # the backend's own errors (bad metadata, missing files), and distutils' habit of exiting
        except (Exception, SystemExit) as exc:
            detail = output.getvalue()[-OUTPUT_TAIL:].strip()
            raise BuildError(f"{project}: {backend_name} failed to {doing}: {exc}" + (f"\n{detail}" if detail else "")) from None


def _build_isolated(project: Path, system: BuildSystem, kinds: Sequence[str], staging: Path) -> list[str]:
    import venv

    from pyproject_hooks import BackendUnavailable, BuildBackendHookCaller, HookMissing

    with tempfile.TemporaryDirectory(prefix="maestro-build-env-") as env_dir:
        venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
        python = str(Path(env_dir) / "bin" / "python")
        _pip_install(python, system.requires, project)
        hooks = BuildBackendHookCaller(
            str(project.resolve()),
            system.backend,
            backend_path=system.backend_path or None,
            python_executable=python,
            runner=lambda cmd, cwd=None, extra_environ=None: _run_hook(project, cmd, cwd, extra_environ),
        )
        names = []
        for kind in kinds:
            try:
                _pip_install(python, getattr(hooks, f"get_requires_for_build_{kind}")({}), project)
                names.append(getattr(hooks, f"build_{kind}")(str(staging.resolve()), {}))
            except (BackendUnavailable, HookMissing) as exc:
                raise BuildError(f"{project}: the build backend {system.backend} cannot build a {kind}: {exc}") from None
        return names


def _pip_install(python: str, requirements: Sequence[str], project: Path) -> None:
    if not requirements:
        return
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check", *requirements]
    _run(project, command, None, None, what=f"installing the build requirements {', '.join(requirements)}")


def _run_hook(project: Path, command: Sequence[str], cwd: str | None, extra_environ: Mapping[str, str] | None) -> None:
    _run(project, command, cwd, extra_environ, what="running the build backend")


def _run(project: Path, command: Sequence[str], cwd: str | None, extra_environ: Mapping[str, str] | None, *, what: str) -> None:
    environment = {**os.environ, **(extra_environ or {})}
    completed = subprocess.run(list(command), cwd=cwd, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stdout + completed.stderr)[-OUTPUT_TAIL:].strip()
        raise BuildError(f"{project}: {what} failed (exit {completed.returncode})" + (f"\n{detail}" if detail else ""))


def builds_document(builds: Sequence[ProjectBuild]) -> list[dict[str, Any]]:
    """The ``--json`` form of builds: plain values only."""
    return [
        {
            "project": str(build.project),
            "backend": build.backend,
            "isolated": build.isolated,
            "files": [{"path": str(f.path), "size": f.size, "sha256": f.sha256} for f in build.files],
        }
        for build in builds
    ]
