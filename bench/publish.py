"""Benchmark: `maestro build` / `maestro publish` against `python -m build` / `twine upload`, one run.

    .venv/bin/python bench/publish.py [--repeat N]

Rows, side by side with ratios (competitor / maestro, so above 1 means maestro is faster):

* build one poetry-core project (sdist + wheel): ``maestro build`` vs ``python -m build`` (isolated,
  its default: it installs poetry-core into a fresh virtualenv each time) and
  ``python -m build --no-isolation`` (the same backend in the same environment: the build itself);
* upload 40 files (20 projects, sdist + wheel) to a fresh local pypiserver: ``maestro publish``
  (default --jobs 4, verification on) vs ``twine upload``, direct and through a loopback proxy
  that adds 50 ms to every request (a private index far away); also maestro without its check
  that the index lists each file (``--no-verify``, 20 fewer requests), and with ``--jobs 8``.
  pypiserver runs on paste's thread pool, as real indexes serve requests in parallel; the last row
  uses its default wsgiref server, which serves one request at a time;
* peak RSS of the uploading process while it sends a 200 MB wheel, maestro and twine.

maestro keeps start-up work in its cache folder (poetry-core's compiled schemas and parsers, files
that passed the checks); the rows marked "first run" give it an empty cache folder each time, as
on a fresh CI machine, so both sides of that trade are shown.

Every tool runs as a subprocess of this script, the way a user runs it. Wall time, CPU time (user +
system, the child and what it waited for) and max RSS come from ``os.wait4`` for that one child.
Each figure is the best of ``--repeat`` runs, tools taking turns (uploads go to a fresh server each
run): on a shared machine the best run is the one least disturbed by others, as with ``timeit``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from publish.projects import write_project  # noqa: E402
from publish.servers import PASSWORD, USER, running_pypiserver, running_proxy  # noqa: E402

BIN = Path(sys.executable).parent
MAESTRO = str(BIN / "maestro")
LATENCY = 0.050
PROJECTS = 20  # x (sdist + wheel) = 40 files
BIG_FILE_MB = 200


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mb: float


@dataclass(frozen=True)
class Row:
    what: str
    ours: Sample
    competitor: str
    theirs: Sample


def run(command: Sequence[str], *, cache: Path | None = None) -> Sample:
    """One run of a command that must succeed, measured by the kernel for exactly that child.

    ``cache`` gives maestro an empty cache folder of its own, as its first run on a machine has.
    """
    environ = None if cache is None else {**os.environ, "MAESTRO_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environ)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{errors[-3000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(samples: Sequence[Sample]) -> Sample:
    return Sample(min(s.wall for s in samples), min(s.cpu for s in samples), min(s.rss_mb for s in samples))


def publish_command(tool: str, url: str, files: Sequence[str], *maestro_options: str) -> list[str]:
    if tool == "maestro":
        return [MAESTRO, "publish", "--repository-url", url, "-u", USER, "-p", PASSWORD, *maestro_options, *files]
    return [str(BIN / "twine"), "upload", "--repository-url", url, "-u", USER, "-p", PASSWORD,
            "--disable-progress-bar", "--non-interactive", *files]  # fmt: skip


def bench_build(work: Path, repeat: int) -> list[Row]:
    project = write_project(work / "build-src", "bench-build", dependencies=("packaging>=20",))
    outs = iter(range(10_000))

    def maestro() -> list[str]:
        return [MAESTRO, "build", str(project), "--out", str(work / f"out-{next(outs)}")]

    def build(*extra: str) -> Callable[[], list[str]]:
        return lambda: [sys.executable, "-m", "build", *extra, "--outdir", str(work / f"out-{next(outs)}"), str(project)]

    competitors = {"python -m build": build(), "python -m build --no-isolation": build("--no-isolation")}
    samples: dict[str, list[Sample]] = {name: [] for name in ("maestro", "maestro, empty cache", *competitors)}
    for number in range(repeat):
        samples["maestro"].append(run(maestro()))
        samples["maestro, empty cache"].append(run(maestro(), cache=work / f"cache-{number}"))
        for name, command in competitors.items():
            samples[name].append(run(command()))
    ours, first = best(samples["maestro"]), best(samples["maestro, empty cache"])
    rows = [Row("build one project (sdist + wheel)", ours, name, best(samples[name])) for name in competitors]
    return rows + [Row("build one project, maestro's first run (empty cache)", first, "python -m build", best(samples["python -m build"]))]


def _forty_files(work: Path) -> list[str]:
    from maestro_cli.publish.build import build_project

    files = []
    for number in range(PROJECTS):
        project = write_project(work / "upload-src", f"bench-upload-{number:02d}")
        files += [str(f.path) for f in build_project(project, work / "upload-dist").files]
    return files


def bench_upload(work: Path, repeat: int) -> list[Row]:
    files = _forty_files(work)
    proxied = f"+{LATENCY * 1000:.0f} ms/request proxy"
    first = "maestro's first run (empty cache: every file checked)"
    setups = (  # label, latency, server, maestro's options, whether maestro starts with an empty cache folder
        ("direct", 0.0, "paste", (), False),
        (f"direct, {first}", 0.0, "paste", (), True),
        ("direct, maestro --no-verify", 0.0, "paste", ("--no-verify",), False),
        (proxied, LATENCY, "paste", (), False),
        (f"{proxied}, {first}", LATENCY, "paste", (), True),
        (f"{proxied}, maestro --jobs 8", LATENCY, "paste", ("--jobs", "8"), False),
        (f"{proxied}, wsgiref server", LATENCY, "wsgiref", (), False),
    )
    rows = []
    for number, (label, latency, wsgi_server, options, empty_cache) in enumerate(setups):
        samples: dict[str, list[Sample]] = {"maestro": [], "twine": []}
        for turn in range(repeat):
            for tool, runs in samples.items():
                with running_pypiserver(work / f"server-{number}-{tool}-{turn}", server=wsgi_server) as server:
                    with running_proxy(server.url, latency=latency) as proxy:
                        cache = work / f"cache-{number}-{turn}" if empty_cache and tool == "maestro" else None
                        runs.append(run(publish_command(tool, proxy.url if latency else server.url, files, *options), cache=cache))
                    if len(server.stored()) != len(files):
                        raise SystemExit(f"{tool} stored {len(server.stored())} of {len(files)} files")
        rows.append(Row(f"upload 40 files, {label}", best(samples["maestro"]), "twine upload", best(samples["twine"])))
    return rows


def _big_wheel(work: Path) -> Path:
    """A valid wheel holding 200 MB of incompressible data, written without holding it in memory."""
    name, version = "bench_big", "1.0.0"
    path = work / f"{name}-{version}-py3-none-any.whl"
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: bench-big\nVersion: {version}\nSummary: big\n"
    metadata += "Description-Content-Type: text/markdown\n\n# A big wheel\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open(f"{name}/blob.bin", "w", force_zip64=True) as blob:
            for _ in range(BIG_FILE_MB):
                blob.write(os.urandom(1 << 20))
        archive.writestr(f"{dist_info}/METADATA", metadata)
        archive.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{dist_info}/RECORD", "")
    return path


def bench_big_upload(work: Path) -> list[Row]:
    wheel = str(_big_wheel(work))
    samples = {}
    for tool in ("maestro", "twine"):
        with running_pypiserver(work / f"server-big-{tool}", server="paste") as server:
            samples[tool] = run(publish_command(tool, server.url, [wheel]))
    return [Row(f"upload one {BIG_FILE_MB} MB wheel", samples["maestro"], "twine upload", samples["twine"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maestro-bench-publish-") as scratch:
        work = Path(scratch)
        rows = bench_build(work, args.repeat) + bench_upload(work, args.repeat) + bench_big_upload(work)
    print(f"Best of {args.repeat} runs; ratio = competitor / maestro, above 1 means maestro is faster or smaller.\n")
    print("| measurement | competitor | maestro wall s | theirs wall s | wall ratio | maestro CPU s | theirs CPU s | CPU ratio | maestro RSS MB | theirs RSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        ours, theirs = row.ours, row.theirs
        print(
            f"| {row.what} | {row.competitor} | {ours.wall:.2f} | {theirs.wall:.2f} | {theirs.wall / ours.wall:.1f}× "
            f"| {ours.cpu:.2f} | {theirs.cpu:.2f} | {theirs.cpu / ours.cpu:.1f}× | {ours.rss_mb:.0f} | {theirs.rss_mb:.0f} |"
        )


if __name__ == "__main__":
    main()
