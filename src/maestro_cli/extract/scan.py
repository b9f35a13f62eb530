"""Reading the imports out of Python files: one pure function per file, a content-keyed cache, two cores.

A file's scan depends only on its bytes (and the Python that parses it), so results are cached under
the hash of the content and survive renames, checkouts and other repos holding the same file.
Scans are plain tuples so that ``marshal`` stores them and worker processes return them cheaply.
"""

from __future__ import annotations

import ast
import hashlib
import marshal
import multiprocessing
import re
import sqlite3
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# bump when the shape or meaning of a scan changes: old cache rows are then simply never matched
SCAN_VERSION = 4
# below this much uncached source, starting a worker costs more than it saves
PARALLEL_THRESHOLD_BYTES = 256 * 1024

ROLE_NONE, ROLE_PREFERRED, ROLE_FALLBACK, ROLE_ELSE = 0, 1, 2, 3
GUARD_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
# ``except:`` and ``except Exception:`` guard an import too, but only a ``try:`` holding nothing but
# imports (Python 2 era ``try: import json / except: import simplejson as json``): around other code
# they catch that code's errors
BROAD_ERRORS = frozenset({None, "Exception", "BaseException"})
# "import" first: a pattern that starts with a literal is searched for with a fast scan, one that
# starts with an alternation is tried at every byte (ten times slower over a whole repo)
DYNAMIC_CALL = re.compile(rb"import(?:(?<=__import)__|_module)\s*\(")

# (module, names, level, line, guard_line, role, type_checking)
RawImport = tuple[str, tuple[str, ...], int, int, int, int, bool]
# (error or None, imports, dynamic imports, minimum (major, minor))
Scan = tuple[tuple[int, int, str] | None, list[RawImport], list[tuple[str, int]], tuple[int, int]]


def scan_source(data: bytes) -> Scan:
    """The imports, literal dynamic imports and newest syntax of one file's bytes."""
    try:
        tree = ast.parse(data)
    except SyntaxError as exc:
        return ((exc.lineno or 1, exc.offset or 1, exc.msg or "invalid syntax"), [], [], (3, 0))
    except (ValueError, UnicodeDecodeError) as exc:  # null bytes, a wrong coding cookie
        return ((1, 1, str(exc)), [], [], (3, 0))
    walker = _Walker()
    walker.walk(tree.body, 0, ROLE_NONE, False)
    # expressions are never walked whole: only the statements on lines where the text shows a
    # dynamic import. (Walrus operators are not searched either: 3.8 is maestro's floor anyway.)
    lines = {data.count(b"\n", 0, match.start()) + 1 for match in DYNAMIC_CALL.finditer(data)}
    dynamic = _dynamic_imports(tree, lines) if lines else []
    return (None, walker.imports, dynamic, walker.minimum)


# the statements the walker looks at: imports, and those with statements inside
_VISITED = frozenset(
    {
        ast.Import, ast.ImportFrom, ast.Try, getattr(ast, "TryStar", ast.Try), ast.If, ast.FunctionDef,
        ast.AsyncFunctionDef, ast.Match, ast.ClassDef, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
    }
)


class _Walker:
    """Statements only: imports are statements, so expressions need not be visited."""

    def __init__(self) -> None:
        self.imports: list[RawImport] = []
        self.minimum = (3, 0)

    def needs(self, version: tuple[int, int]) -> None:
        self.minimum = max(self.minimum, version)

    def walk(self, body: list[ast.stmt], guard: int, role: int, type_checking: bool) -> None:
        for node in body:
            kind = type(node)
            if kind not in _VISITED:  # most statements (assignments, calls, returns) hold no statement
                continue
            if kind is ast.Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    self.imports.append((alias.name, (), 0, node.lineno, guard, role, type_checking))
            elif kind is ast.ImportFrom:
                names = tuple(alias.name for alias in node.names)  # type: ignore[attr-defined]
                self.imports.append(
                    (node.module or "", names, node.level, node.lineno, guard, role, type_checking)  # type: ignore[attr-defined]
                )
            elif kind is ast.Try or kind is getattr(ast, "TryStar", None):
                self._try(node, guard, role, type_checking)  # type: ignore[arg-type]
            elif kind is ast.If:
                self._if(node, guard, role, type_checking)  # type: ignore[arg-type]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                if node.args.posonlyargs:  # type: ignore[attr-defined]
                    self.needs((3, 8))
                self.walk(node.body, guard, role, type_checking)  # type: ignore[attr-defined]
            elif kind is ast.Match:
                self.needs((3, 10))
                for case in node.cases:  # type: ignore[attr-defined]
                    self.walk(case.body, guard, role, type_checking)
            elif kind in (ast.ClassDef, ast.With, ast.AsyncWith):
                self.walk(node.body, guard, role, type_checking)  # type: ignore[attr-defined]
            elif kind in (ast.For, ast.AsyncFor, ast.While):
                self.walk(node.body, guard, role, type_checking)  # type: ignore[attr-defined]
                self.walk(node.orelse, guard, role, type_checking)  # type: ignore[attr-defined]

    def _if(self, node: ast.If, guard: int, role: int, type_checking: bool) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            self.walk(node.body, guard, role, True)
            self.walk(node.orelse, guard, role, type_checking)
        elif _imports_directly(node.body) and _imports_directly(node.orelse):
            # ``if sys.version_info >= (3, 10): from importlib import metadata`` / ``else: import
            # importlib_metadata``: alternatives, like a try/except ImportError
            self.walk(node.body, node.lineno, ROLE_PREFERRED, type_checking)
            self.walk(node.orelse, node.lineno, ROLE_FALLBACK, type_checking)
        else:
            self.walk(node.body, guard, role, type_checking)
            self.walk(node.orelse, guard, role, type_checking)

    def _try(self, node: ast.Try, guard: int, role: int, type_checking: bool) -> None:
        if type(node) is not ast.Try:
            self.needs((3, 11))  # except*
        only_imports = all(type(n) is ast.Import or type(n) is ast.ImportFrom for n in node.body)
        if any(_catches_import_error(h.type) or (only_imports and _name_of(h.type) in BROAD_ERRORS) for h in node.handlers):
            line = node.lineno
            self.walk(node.body, line, ROLE_PREFERRED, type_checking)
            for handler in node.handlers:
                self.walk(handler.body, line, ROLE_FALLBACK, type_checking)
            self.walk(node.orelse, line, ROLE_ELSE, type_checking)
        else:
            self.walk(node.body, guard, role, type_checking)
            for handler in node.handlers:
                self.walk(handler.body, guard, role, type_checking)
            self.walk(node.orelse, guard, role, type_checking)
        self.walk(node.finalbody, guard, role, type_checking)


def _imports_directly(body: list[ast.stmt]) -> bool:
    return any(type(node) is ast.Import or type(node) is ast.ImportFrom for node in body)


def _catches_import_error(expression: ast.expr | None) -> bool:
    if isinstance(expression, ast.Tuple):
        return any(_catches_import_error(item) for item in expression.elts)
    return _name_of(expression) in GUARD_ERRORS


def _name_of(expression: ast.expr | None) -> str | None:
    return expression.id if isinstance(expression, ast.Name) else getattr(expression, "attr", None)


def _dynamic_imports(tree: ast.Module, lines: set[int]) -> list[tuple[str, int]]:
    found = []
    statements = _statements_on(tree.body, lines)
    for node in (n for statement in statements for n in ast.walk(statement)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if not first.value.startswith("."):
                    found.append((first.value, node.lineno))
    return found


def _statements_on(body: list[ast.stmt], lines: set[int]) -> list[ast.stmt]:
    """The innermost simple statements spanning any of ``lines``, found without visiting the rest."""
    found: list[ast.stmt] = []
    for node in body:
        if not any(node.lineno <= line <= (node.end_lineno or node.lineno) for line in lines):
            continue
        inner = [
            child
            for name in ("body", "orelse", "finalbody", "handlers", "cases")
            for child in getattr(node, name, ())
        ]
        nested = _statements_on([c for c in inner if isinstance(c, ast.stmt)], lines) + [
            s for c in inner if not isinstance(c, ast.stmt) for s in _statements_on(c.body, lines)
        ]
        found += nested or [node]
    return found


# -- many files -------------------------------------------------------------------------------------


def scan_files(paths: Sequence[Path], *, cache_dir: Path | None = None, jobs: int = 2) -> list[tuple[Scan, str]]:
    """Each file's scan and content hash, in order: from the cache when known, else parsed on ``jobs`` cores."""
    contents = [path.read_bytes() for path in paths]
    keys = [content_key(data) for data in contents]
    cache = ScanCache.open(cache_dir) if cache_dir is not None else None
    found = cache.get_many(keys) if cache is not None else {}
    missing = [i for i, key in enumerate(keys) if key not in found]
    fresh = _scan_many([contents[i] for i in missing], jobs)
    for i, scan in zip(missing, fresh, strict=True):
        found[keys[i]] = scan
    if cache is not None:
        cache.put_many({keys[i]: found[keys[i]] for i in missing})
        cache.close()
    return [(found[key], key) for key in keys]


def content_key(data: bytes) -> str:
    """The cache key of a file's bytes (``maestro scan`` keys its fingerprints on it too)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _scan_many(contents: list[bytes], jobs: int) -> list[Scan]:
    total = sum(len(data) for data in contents)
    if jobs <= 1 or total < PARALLEL_THRESHOLD_BYTES:
        return [scan_source(data) for data in contents]
    shards = _shard(contents, jobs)
    context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    results: dict[int, Scan] = {}
    # this process takes the first shard itself, so only jobs-1 workers start
    with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=context) as pool:
        futures = [pool.submit(_scan_shard, [(i, contents[i]) for i in shard]) for shard in shards[1:]]
        results.update(_scan_shard([(i, contents[i]) for i in shards[0]]))
        for future in futures:
            results.update(future.result())
    return [results[i] for i in range(len(contents))]


def _shard(contents: list[bytes], count: int) -> list[list[int]]:
    """Indexes split into ``count`` shards of about equal size, largest files dealt first."""
    shards: list[list[int]] = [[] for _ in range(count)]
    sizes = [0] * count
    for index in sorted(range(len(contents)), key=lambda i: -len(contents[i])):
        smallest = sizes.index(min(sizes))
        shards[smallest].append(index)
        sizes[smallest] += len(contents[index])
    return shards


def _scan_shard(items: list[tuple[int, bytes]]) -> dict[int, Scan]:
    return {index: scan_source(data) for index, data in items}


class ScanCache:
    """Scans keyed by content hash in one SQLite file; any trouble with it just means no cache."""

    def __init__(self, connection: sqlite3.Connection | None) -> None:
        self.connection = connection

    @classmethod
    def open(cls, cache_dir: Path) -> ScanCache:
        folder = cache_dir / "extract"
        name = f"scans-v{SCAN_VERSION}-py{sys.version_info.major}{sys.version_info.minor}.sqlite"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(folder / name, timeout=10)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE IF NOT EXISTS scans (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        except (OSError, sqlite3.Error):
            return cls(None)
        return cls(connection)

    def get_many(self, keys: list[str]) -> dict[str, Scan]:
        found: dict[str, Scan] = {}
        if self.connection is None:
            return found
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), 500):
                batch = unique[start : start + 500]
                rows = self.connection.execute(
                    f"SELECT key, value FROM scans WHERE key IN ({','.join('?' * len(batch))})", batch
                )
                for key, value in rows:
                    found[key] = marshal.loads(value)
        except (sqlite3.Error, ValueError, EOFError, TypeError):
            return {}
        return found

    def put_many(self, scans: dict[str, Scan]) -> None:
        if self.connection is None or not scans:
            return
        try:
            with self.connection:
                self.connection.executemany(
                    "INSERT OR REPLACE INTO scans (key, value) VALUES (?, ?)",
                    [(key, marshal.dumps(scan)) for key, scan in scans.items()],
                )
        except sqlite3.Error:
            pass  # a read-only or locked cache costs speed, never correctness

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

