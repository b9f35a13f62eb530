"""The legacy tests that come along: test files that import SOURCE, their conftest.py files, and the
helper modules they import from their own tests folders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import ImportKind, ModuleImports
from .crossings import Crossing, find_crossings, test_helper_file
from .layout import TEST_DIRS, PlannedFile, Role, conftests_for, is_test_file, test_candidates, test_destination, walk_files
from .roots import SourceLocation, module_name

Analyse = Callable[[dict[Path, str]], list[ModuleImports]]


@dataclass
class CarriedTests:
    modules: list[ModuleImports] = field(default_factory=list)
    files: list[PlannedFile] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)  # into legacy code, not test helpers


def find_tests(location: SourceLocation, analyse: Analyse, warnings: list[str], *, keep_crossing: bool) -> CarriedTests:
    """Tests importing SOURCE; one that imports other legacy code is left out unless ``keep_crossing``."""
    root = location.root
    needle = location.dotted_name.rsplit(".", 1)[-1].encode()
    candidates = test_candidates(root, location.source, needle, warnings)
    analysed = [m for m in analyse({p: module_name(p, root) for p in candidates}) if m.error is None]
    chosen = [m for m in analysed if any(r.kind is ImportKind.INTERNAL for r in m.imports)]
    destinations: dict[Path, str] = {}
    for module in chosen:
        for path, destination in conftests_for(root / module.file, root):
            destinations.setdefault(path, destination)
    modules = chosen + analyse({p: module_name(p, root) for p in destinations if p not in {root / m.file for m in chosen}})
    modules += _helpers(modules, location, analyse, destinations)
    carried = CarriedTests()
    refused: dict[str, str] = {}
    for module in modules:
        crossings = find_crossings([module], location, [], test_helpers=False)
        if module.error is not None or (crossings and not keep_crossing):
            refused[module.file] = module.error.message if module.error else f"imports {crossings[0].module} (line {crossings[0].line})"
    # the tests below a conftest.py that stays behind would miss its fixtures: they stay behind too
    orphaned = {(root / file).parent: file for file in refused if Path(file).name == "conftest.py"}
    for module in modules:
        path = root / module.file
        conftest = next((file for folder, file in orphaned.items() if folder in path.parents), None)
        if module.file in refused or conftest is not None:
            reason = refused.get(module.file) or f"needs {conftest}, which was left out"
            warnings.append(f"{module.file}: test file left out: {reason}")
            continue
        carried.modules.append(module)
        carried.crossings += crossings
        carried.files.append(PlannedFile(path, destinations.get(path) or test_destination(path, root), Role.TEST, module.module))
    carried.files += _test_data(carried.files, root, warnings)
    return carried


def _test_data(files: list[PlannedFile], root: Path, warnings: list[str]) -> list[PlannedFile]:
    """What else lives in the tests folders the carried tests are in: data (certificates, samples)
    and modules that are not tests themselves (sample apps a test puts on sys.path)."""
    folders = {
        f.source.parent for f in files
        if f.source.name != "conftest.py" and any(p in TEST_DIRS for p in f.source.parent.relative_to(root).parts)
    }
    outermost = [f for f in folders if not any(other in f.parents for other in folders)]
    taken = {f.source for f in files}
    return [
        PlannedFile(path, test_destination(path, root), Role.TEST)
        for folder in sorted(outermost)
        for path in walk_files(folder, root, warnings)
        if path not in taken and not is_test_file(path) and path.name != "conftest.py"
    ]


def _helpers(modules: list[ModuleImports], location: SourceLocation, analyse: Analyse, destinations: dict[Path, str]) -> list[ModuleImports]:
    """Helper modules of the tests folders that ``modules`` import, transitively, with their packages' __init__.py."""
    root = location.root
    seen = {root / m.file for m in modules}
    found: list[ModuleImports] = []
    pending = modules
    while pending:
        batch: dict[Path, str] = {}
        for module in pending:
            for record in module.imports:
                path = _helper_path(record.module, list(record.names), location) if record.kind is ImportKind.LEGACY else None
                for file in _with_packages(path, root) if path else []:
                    if file not in seen:
                        seen.add(file)
                        batch[file] = module_name(file, root)
        pending = analyse(batch) if batch else []
        found += pending
    return found


def _helper_path(module: str, names: list[str], location: SourceLocation) -> Path | None:
    for candidate in [f"{module}.{name}" for name in names] + [module]:
        path = test_helper_file(candidate, location)
        if path is not None:
            return path
    return None


def _with_packages(path: Path, root: Path) -> list[Path]:
    """The helper and the ``__init__.py`` of each package above it, so ``import tests.x`` still works."""
    files = [path]
    folder = path.parent
    while folder != root:
        if (folder / "__init__.py").is_file():
            files.append(folder / "__init__.py")
        folder = folder.parent
    return files
