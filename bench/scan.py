"""Benchmark: ``maestro scan`` of the Django, Flask and requests sdists together, cold and warm, side by
side in one run with a bare single-process ``ast.parse`` loop over the same files.

    .venv/bin/python bench/scan.py [--repeat 3]

The sdists are downloaded once into bench/.cache/ (git-ignored) with
``pip download --no-deps --no-binary :all:`` (bench/extract.py's ``sdist_tree`` and ``Timing``).
maestro runs as a user runs it, the installed command in its own process; "cold" runs start with an
empty cache folder, "warm" ones reuse the caches the cold run filled (each repo's file index, the parse
cache shared with extract, the duplicate groups). Every tool lists its files inside
the timed part. The runs are interleaved round by round and each timing is the best of --repeat
rounds, wall and CPU (the machine is shared, so both are shown). Targets (issue 10): cold at most 1x
the bare loop, warm at most 0.2x.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from extract import Timing, sdist_tree  # bench/extract.py: download and unpack, best-of timing

MAESTRO = Path(sys.executable).parent / "maestro"
PROJECTS = ("django", "flask", "requests")


def bare_loop(trees: list[Path]) -> int:
    """The pure-Python floor: one process finds, reads and parses every file, nothing else."""
    parsed = 0
    for path in (path for tree in trees for path in tree.rglob("*.py")):
        try:
            ast.parse(path.read_bytes())
            parsed += 1
        except (SyntaxError, ValueError):
            pass
    return parsed


def maestro_scan(trees: list[Path], cache_dir: Path) -> dict:
    done = subprocess.run(
        [str(MAESTRO), "scan", *map(str, trees), "--json"],
        capture_output=True, text=True, check=True, env={**os.environ, "MAESTRO_CACHE_DIR": str(cache_dir)},
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trees = [sdist_tree(project) for project in PROJECTS]
    scratch = Path(tempfile.mkdtemp(prefix="maestro-bench-scan-"))
    cache_dir = scratch / "cache"
    bare, cold, warm = Timing(), Timing(), Timing()
    for _ in range(args.repeat):
        bare.measure(lambda: bare_loop(trees))
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold.measure(lambda: maestro_scan(trees, cache_dir))
        warm.measure(lambda: maestro_scan(trees, cache_dir))
    shutil.rmtree(scratch, ignore_errors=True)
    report: dict = warm.result  # type: ignore[assignment]
    summary = report["summary"]

    names = " + ".join(tree.name for tree in trees)
    print(f"{names}: {summary['files']} files, {summary['lines']} lines; best of {args.repeat}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'run':<44}{'wall s':>8}{'ratio':>8}{'cpu s':>8}{'ratio':>8}{'target':>8}")
    rows = [
        ("bare ast.parse loop (1 process)", bare, ""),
        (f"maestro scan, cold ({os.cpu_count()} processes)", cold, "<=1x"),
        ("maestro scan, warm (caches filled)", warm, "<=0.2x"),
    ]
    for label, timing, target in rows:
        print(f"{label:<44}{timing.wall:>8.2f}{timing.wall / bare.wall:>7.2f}x{timing.cpu:>8.2f}{timing.cpu / bare.cpu:>7.2f}x{target:>8}")
    print()
    verdicts: dict[str, int] = {}
    for candidate in report["candidates"]:
        verdicts[candidate["verdict"]] = verdicts.get(candidate["verdict"], 0) + 1
    print(
        f"top {len(report['candidates'])} candidates: "
        + ", ".join(f"{count} {verdict}" for verdict, count in sorted(verdicts.items()))
        + f"; {len(report['duplicates'])} duplicate groups; {summary['duplicated_share']:.1%} duplicated across repos"
    )
    for candidate in report["candidates"][:5]:
        print(f"  {candidate['repo']}: {candidate['module']} ({candidate['verdict_label']}, {candidate['loc']} loc, {len(candidate['dependents'])} dependents)")
    for group in report["duplicates"][:3]:
        members = " ~ ".join(f"{m['path']}:{m['start']}-{m['end']}" for m in group["members"][:3])
        print(f"  {group['kind']} x{len(group['members'])} at {group['similarity']:.2f}: {members}")


if __name__ == "__main__":
    main()
