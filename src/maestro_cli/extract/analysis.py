"""What each module imports, classified: standard library, inside SOURCE, elsewhere in the repo, third party.

The public entry point, :func:`analyse_modules`, writes nothing and knows nothing about extraction, so
other commands (a repo-wide ``maestro scan``) can use it as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .scan import ROLE_ELSE, ROLE_FALLBACK, ROLE_PREFERRED, RawImport, Scan, scan_files

# modules that left the standard library (PEP 594, Python 2 names, distutils): importing one never
# makes a dependency, it makes code that needs porting
FORMER_STDLIB = frozenset(
    {
        "aifc", "asynchat", "asyncore", "audioop", "cgi", "cgitb", "chunk", "crypt", "distutils",
        "dummy_threading", "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nis", "nntplib",
        "ossaudiodev", "pipes", "smtpd", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
        "__builtin__", "ConfigParser", "Cookie", "HTMLParser", "Queue", "SocketServer", "StringIO",
        "Tkinter", "UserDict", "UserList", "UserString", "anydbm", "cPickle", "cStringIO", "commands",
        "cookielib", "copy_reg", "dbhash", "dircache", "dummy_thread", "exceptions", "htmlentitydefs",
        "httplib", "md5", "mimetools", "new", "popen2", "repr", "rfc822", "sets", "sha", "thread",
        "urllib2", "urlparse", "xmlrpclib", "posixfile", "sgmllib", "htmllib", "mhlib", "multifile",
        "BaseHTTPServer", "SimpleHTTPServer", "CGIHTTPServer", "DocXMLRPCServer", "SimpleXMLRPCServer",
        "Tix", "ttk", "tkMessageBox", "tkFileDialog", "robotparser", "dummy_threading", "future_builtins",
    }
)
# modules newer than the Python maestro runs on: sys.stdlib_module_names does not know them yet
NEWER_STDLIB = frozenset({"tomllib", "zoneinfo", "graphlib", "annotationlib", "compression", "_interpreters"})
# platform-only standard modules are in sys.stdlib_module_names already; listed for the reader
PLATFORM_ONLY = frozenset({"winreg", "_winreg", "msvcrt", "winsound", "_winapi", "posix", "nt", "pwd", "grp", "termios"})
# the running program itself (Django's shell imports it): in no list, and never a distribution
RUNTIME_ONLY = frozenset({"__main__"})
STDLIB = frozenset(sys.stdlib_module_names) | FORMER_STDLIB | PLATFORM_ONLY | NEWER_STDLIB | RUNTIME_ONLY


class ImportKind(StrEnum):
    STDLIB = "stdlib"
    INTERNAL = "internal"  # inside the code being analysed (SOURCE)
    LEGACY = "legacy"  # elsewhere in the same repo: a boundary crossing
    THIRD_PARTY = "third-party"


@dataclass(frozen=True)
class ImportRecord:
    """One imported module, as one line of one file names it."""

    file: str
    line: int
    module: str  # absolute: relative imports are resolved against the file's package
    names: tuple[str, ...]  # what ``from module import ...`` takes; empty for ``import module``
    kind: ImportKind
    relative: bool = False
    optional: bool = False  # inside ``try: ... except ImportError`` (or that try's ``else:``)
    fallback: bool = False  # in the ``except ImportError:`` branch: the alternative to a preferred import
    guard_line: int | None = None  # line of the guarding ``try``, which ties alternatives together
    type_checking: bool = False  # under ``if TYPE_CHECKING:``: not needed at run time

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


@dataclass(frozen=True)
class DynamicImport:
    file: str
    line: int
    module: str


@dataclass(frozen=True)
class ParseFailure:
    file: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class ModuleImports:
    """Everything one file imports, or why it could not be read."""

    file: str
    module: str
    content_hash: str  # blake2b-128 of the bytes read: the parse cache's key
    imports: tuple[ImportRecord, ...] = ()
    dynamic: tuple[DynamicImport, ...] = ()
    min_python: tuple[int, int] = (3, 0)
    error: ParseFailure | None = None


@dataclass(frozen=True)
class ImportContext:
    """How to tell the kinds apart: the analysed package's dotted name and the repo's other top-level names."""

    internal_prefix: str
    legacy_names: frozenset[str] = field(default_factory=frozenset)

    def kind_of(self, module: str) -> ImportKind:
        prefix = self.internal_prefix
        if prefix and (module == prefix or module.startswith(prefix + ".")):
            return ImportKind.INTERNAL
        top = module.split(".")[0]
        # a name the legacy repo defines wins over the standard library only at the top level of
        # the repo; a nested file such as django/template/backends/jinja2.py never shadows anything
        if top in self.legacy_names:
            return ImportKind.LEGACY
        if top in STDLIB:
            return ImportKind.STDLIB
        return ImportKind.THIRD_PARTY


def analyse_modules(
    modules: Mapping[Path, str],
    context: ImportContext,
    *,
    root: Path | None = None,
    cache_dir: Path | None = None,
    jobs: int = 2,
) -> list[ModuleImports]:
    """Classify every import of ``modules`` (file -> dotted module name); reads files, writes only the cache.

    File names in the result are relative to ``root`` when given.
    """
    paths = list(modules)
    scans = scan_files(paths, cache_dir=cache_dir, jobs=jobs)
    results = []
    for path, (scan, key) in zip(paths, scans, strict=True):
        shown = path.relative_to(root).as_posix() if root is not None and path.is_relative_to(root) else str(path)
        results.append(classify_scan(scan, key, shown, modules[path], is_package=path.name == "__init__.py", context=context))
    return results


def classify_scan(scan: Scan, key: str, file: str, module: str, *, is_package: bool, context: ImportContext) -> ModuleImports:
    error, raw_imports, dynamic, minimum = scan
    if error is not None:
        line, column, message = error
        return ModuleImports(file, module, key, error=ParseFailure(file, line, column, message))
    package = module if is_package else module.rpartition(".")[0]
    records: list[ImportRecord] = []
    for raw in raw_imports:
        records.extend(_records_for(raw, file, package, context))
    return ModuleImports(
        file=file,
        module=module,
        content_hash=key,
        imports=tuple(records),
        dynamic=tuple(DynamicImport(file, line, name) for name, line in dynamic),
        min_python=tuple(minimum),  # type: ignore[arg-type]
    )


def _records_for(raw: RawImport, file: str, package: str, context: ImportContext) -> list[ImportRecord]:
    name, names, level, line, guard, role, type_checking = raw
    absolute = resolve_relative(name, level, package) if level else name
    if absolute is None:  # ``from .... import x`` climbing above the top package
        absolute = name or "."
    common = {
        "file": file,
        "line": line,
        "relative": level > 0,
        "optional": role in (ROLE_PREFERRED, ROLE_ELSE),
        "fallback": role == ROLE_FALLBACK,
        "guard_line": guard or None,
        "type_checking": type_checking,
    }
    kind = context.kind_of(absolute)
    if kind is not ImportKind.INTERNAL and names and context.internal_prefix:
        # ``from shared import resilience`` reaches into SOURCE even though ``shared`` is outside it
        inside = tuple(n for n in names if context.kind_of(f"{absolute}.{n}") is ImportKind.INTERNAL)
        if inside:
            records = [ImportRecord(module=f"{absolute}.{n}", names=(), kind=ImportKind.INTERNAL, **common) for n in inside]
            rest = tuple(n for n in names if n not in inside)
            if rest:
                records.append(ImportRecord(module=absolute, names=rest, kind=kind, **common))
            return records
    return [ImportRecord(module=absolute, names=tuple(names), kind=kind, **common)]


def resolve_relative(name: str, level: int, package: str) -> str | None:
    """``from ..x import y`` inside ``a.b.c`` (package ``a.b``) is ``a.x``; None when it climbs too high."""
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level - 1 == len(parts) and not name):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)

