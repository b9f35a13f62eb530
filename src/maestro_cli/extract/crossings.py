"""Boundary crossings: imports from SOURCE (or its tests) into other modules of the legacy repo."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .analysis import ImportKind, ImportRecord, ModuleImports
from .layout import TEST_DIRS
from .roots import SourceLocation, module_file


@dataclass(frozen=True)
class Crossing:
    file: str
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.module}"


def find_crossings(
    modules: Iterable[ModuleImports], location: SourceLocation, warnings: list[str], *, test_helpers: bool = True
) -> list[Crossing]:
    """Run-time imports of other legacy modules; ``TYPE_CHECKING`` ones are only warned about.

    With ``test_helpers=False``, imports of helper modules inside a tests folder do not count: they
    travel with the tests.
    """
    found = []
    for module in modules:
        for record in module.imports:
            if record.kind is not ImportKind.LEGACY:
                continue
            for target in legacy_targets(record, location):
                crossing = Crossing(record.file, record.line, target)
                if not test_helpers and test_helper_file(crossing.module, location) is not None:
                    continue
                if record.type_checking:
                    warnings.append(f"{crossing} (only under TYPE_CHECKING, kept as it is)")
                else:
                    found.append(crossing)
    return found


def legacy_targets(record: ImportRecord, location: SourceLocation) -> list[str]:
    """Every legacy module an import needs.

    ``from shared import config, helpers, VERSION``: ``shared.config`` and ``shared.helpers`` when
    they are modules, and ``shared`` itself for ``VERSION`` (or when nothing named is a module).
    """
    submodules = [
        f"{record.module}.{name}"
        for name in record.names
        if module_file(f"{record.module}.{name}", location.import_roots) is not None
    ]
    if len(submodules) < len(record.names) or not submodules:
        return [record.module, *submodules]
    return submodules


def test_helper_file(module: str, location: SourceLocation) -> Path | None:
    """The file of ``module`` when it lives in a tests folder of the repo (``tests/testserver/server.py``)."""
    path = module_file(module, location.import_roots)
    if path is None:
        return None
    return path if any(part in TEST_DIRS for part in path.relative_to(location.root).parts[:-1]) else None
