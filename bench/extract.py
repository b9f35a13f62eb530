"""Benchmark: maestro's import analysis of the whole ``django`` package, side by side in one run with
pipreqs --use-local, grimp building its import graph, and a bare single-process ast.parse loop.

    .venv/bin/python bench/extract.py [--repeat 3] [--package django==5.2.19]

The sdist is downloaded once into bench/.cache/ (git-ignored) with
``pip download --no-deps --no-binary :all:``. Each timing is the best of --repeat runs; "cold" runs
start with an empty cache folder, "warm" ones reuse the parse cache the cold run filled.
Correctness is checked on the same tree: Django has local files named jinja2, redis, selenium and
geoip2 (which pipreqs mistakes for local modules) and imports MySQLdb (mysqlclient, not MySQL-python).
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maestro_cli.extract.analysis import ImportContext, ImportKind, analyse_modules
from maestro_cli.extract.distributions import DistributionResolver, installed_modules
from maestro_cli.extract.layout import walk_files
from maestro_cli.extract.roots import locate, module_name, top_level_modules

CACHE = Path(__file__).resolve().parent / ".cache"
CHECKED = {"jinja2": "Jinja2", "redis": "redis", "selenium": "selenium", "geoip2": "geoip2", "MySQLdb": "mysqlclient"}


def sdist_tree(requirement: str) -> Path:
    """The unpacked sdist of ``requirement``, downloaded on first use."""
    name = requirement.split("==")[0].lower()
    archives = sorted(CACHE.glob(f"{name}-*.tar.gz"))
    if not archives:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", str(CACHE), requirement],
            check=True,
        )
        archives = sorted(CACHE.glob(f"{name}-*.tar.gz"))
    archive = archives[-1]
    tree = CACHE / archive.name.removesuffix(".tar.gz")
    if not tree.is_dir():
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    return tree


def cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (workers, pipreqs)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class Timing:
    """Best wall and CPU time over the rounds, and the last result; the machine is shared, so both are shown."""

    wall: float = float("inf")
    cpu: float = float("inf")
    result: object = None

    def measure(self, run: Callable[[], object]) -> None:
        start, start_cpu = time.perf_counter(), cpu_seconds()
        self.result = run()
        self.wall = min(self.wall, time.perf_counter() - start)
        self.cpu = min(self.cpu, cpu_seconds() - start_cpu)


def bare_loop(package: Path) -> set[str]:
    """The pure-Python floor: one process, find the files, ast.parse each, walk it for imports."""
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def maestro_analysis(package: Path, root: Path, cache_dir: Path) -> dict[str, str | None]:
    """What ``maestro extract --dry-run`` computes for the imports: classify all, resolve third-party ones."""
    location = locate(package, root)
    files = [p for p in walk_files(package, root, []) if p.suffix == ".py"]
    modules = {p: module_name(p, location.import_root) for p in files}
    context = ImportContext(location.dotted_name, frozenset(top_level_modules(location.import_roots)))
    analysed = analyse_modules(modules, context, root=root, cache_dir=cache_dir, jobs=2)
    resolver = DistributionResolver(cache_dir=cache_dir)
    third_party = {r.top for m in analysed for r in m.imports if r.kind is ImportKind.THIRD_PARTY}
    return {top: resolver.resolve(top).distribution for top in sorted(third_party)}


def pipreqs(package: Path) -> set[str]:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pipreqs"), "--use-local", "--print", "--mode", "no-pin", str(package)],
        capture_output=True, text=True, check=False,
    )
    return {line.split("==")[0].strip() for line in done.stdout.splitlines() if line.strip()}


def grimp_graph(package: Path) -> int:
    import grimp

    sys.path.insert(0, str(package.parent))
    try:
        graph = grimp.build_graph(package.name, cache_dir=None)
    finally:
        sys.path.remove(str(package.parent))
    return len(graph.modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--package", default="django")
    args = parser.parse_args()
    root = sdist_tree(args.package)
    package = root / args.package.split("==")[0].lower()
    files = sorted(package.rglob("*.py"))
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    scratch = Path(tempfile.mkdtemp(prefix="maestro-bench-"))
    cache_dir = scratch / "cache"

    def empty_cache() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)
        installed_modules.cache_clear()

    def nothing() -> None:
        pass

    def forget_environment() -> None:
        installed_modules.cache_clear()  # a new process would not have it either

    def analysis() -> object:
        return maestro_analysis(package, root, cache_dir)

    runs: list[tuple[str, Callable[[], None], Callable[[], object]]] = [
        ("bare ast.parse loop (1 process)", nothing, lambda: bare_loop(package)),
        ("maestro analysis, cold (2 processes)", empty_cache, analysis),
        ("maestro analysis, warm (parse cache)", forget_environment, analysis),
        ("grimp build_graph (no cache)", nothing, lambda: grimp_graph(package)),
        ("pipreqs --use-local (own process)", nothing, lambda: pipreqs(package)),
    ]
    timings = {label: Timing() for label, _, _ in runs}
    # rounds interleave the tools, so that a burst of load from elsewhere hits them all alike
    for _ in range(args.repeat):
        for label, prepare, run in runs:
            prepare()
            timings[label].measure(run)
    shutil.rmtree(scratch, ignore_errors=True)
    bare = timings[runs[0][0]]
    resolved, pipreqs_found = timings[runs[2][0]].result, timings[runs[4][0]].result

    print(f"{args.package}: {len(files)} files, {lines} lines; best of {args.repeat}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'tool':<40}{'wall s':>8}{'ratio':>8}{'cpu s':>8}{'ratio':>8}")
    for label, timing in timings.items():
        print(f"{label:<40}{timing.wall:>8.2f}{timing.wall / bare.wall:>7.2f}x{timing.cpu:>8.2f}{timing.cpu / bare.cpu:>7.2f}x")
    print()
    pipreqs_names = {name.lower(): name for name in pipreqs_found}  # type: ignore[union-attr]
    print(f"{'module':<12}{'expected':<14}{'maestro':<14}{'pipreqs --use-local':<20}")
    for module, expected in CHECKED.items():
        ours = resolved.get(module) or "(dropped)"  # type: ignore[union-attr]
        theirs = next((pipreqs_names[n] for n in (expected.lower(), "mysql-python") if n in pipreqs_names), "(dropped)")
        print(f"{module:<12}{expected:<14}{ours:<14}{theirs:<20}")
    print(f"distributions found: maestro {len(set(resolved.values()))}, pipreqs {len(pipreqs_found)} ({', '.join(sorted(pipreqs_found))})")  # type: ignore[union-attr, arg-type]


if __name__ == "__main__":
    main()
