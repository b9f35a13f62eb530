"""Benchmark: `maestro build` / `maestro publish` against `python -m build` / `twine upload`, one run.

    .venv/bin/python bench/publish.py [--repeat N]

Rows, side by side with ratios (competitor time / maestro time, so > 1 means maestro is faster):

* build one poetry-core project (sdist + wheel): ``maestro build`` vs ``python -m build`` (isolated,
  its default: it installs poetry-core from PyPI into a fresh virtualenv each time) and
  ``python -m build --no-isolation`` (the fairest comparison of the build itself);
* upload 40 files (20 projects, sdist + wheel) to a fresh local pypiserver: ``maestro publish``
  (default --jobs 4, verification on) vs ``twine upload``, direct and through a loopback proxy
  that adds 50 ms to every request (a private index far away). pypiserver runs on paste's thread
  pool, as real indexes serve requests in parallel; the last row uses its default wsgiref server,
  which serves one request at a time, so parallel uploads cannot help there;
* peak RSS of the uploading process while it sends a 200 MB wheel (``os.wait4`` gives each child's
  own max RSS), maestro and twine.

Every tool runs as a subprocess of this script, the way a user runs it; times are the best
wall-clock time of ``--repeat`` runs, tools taking turns (uploads go to a fresh server each run):
on a shared machine the best run is the one least disturbed by others, as with ``timeit``.
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


def _run(command: Sequence[str]) -> float:
    """Wall time of one command, which must succeed."""
    started = time.perf_counter()
    completed = subprocess.run(list(command), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"failed ({completed.returncode}): {' '.join(command)}\n{completed.stdout}{completed.stderr}")
    return elapsed


def _rss_of(command: Sequence[str]) -> int:
    """Max RSS (KiB) of exactly this child: os.wait4 reports the one process it reaps."""
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode() if process.stderr else ''}")
    return int(usage.ru_maxrss)


def _best(repeat: int, once: Callable[[], float]) -> float:
    return min(once() for _ in range(repeat))


def bench_build(work: Path, repeat: int) -> list[tuple[str, float, str, float]]:
    project = write_project(work / "build-src", "bench-build", dependencies=("packaging>=20",))
    outs = iter(range(1000))

    def maestro() -> float:
        return _run([MAESTRO, "build", str(project), "--out", str(work / f"m{next(outs)}")])

    def build(*extra: str) -> Callable[[], float]:
        return lambda: _run([sys.executable, "-m", "build", *extra, "--outdir", str(work / f"b{next(outs)}"), str(project)])

    ours = _best(repeat, maestro)
    return [
        ("build (sdist + wheel)", ours, "python -m build", _best(repeat, build())),
        ("build (sdist + wheel)", ours, "python -m build --no-isolation", _best(repeat, build("--no-isolation"))),
    ]


def _forty_files(work: Path) -> list[Path]:
    from maestro_cli.publish.build import build_project

    files = []
    for number in range(PROJECTS):
        project = write_project(work / "upload-src", f"bench-upload-{number:02d}")
        files += [f.path for f in build_project(project, work / "upload-dist").files]
    return files


def bench_upload(work: Path, repeat: int) -> list[tuple[str, float, str, float]]:
    files = [str(f) for f in _forty_files(work)]
    rows = []
    proxied = f"+{LATENCY * 1000:.0f} ms/request proxy"
    setups = (("direct", 0.0, "paste"), (proxied, LATENCY, "paste"), (f"{proxied}, wsgiref", LATENCY, "wsgiref"))
    for number, (label, latency, wsgi_server) in enumerate(setups):
        times: dict[str, list[float]] = {"maestro": [], "twine": []}
        for run in range(repeat):
            for tool in times:
                with running_pypiserver(work / f"server-{number}-{tool}-{run}", server=wsgi_server) as server:
                    with running_proxy(server.url, latency=latency) as proxy:
                        url = proxy.url if latency else server.url
                        if tool == "maestro":
                            command = [MAESTRO, "publish", "--repository-url", url, "-u", USER, "-p", PASSWORD, *files]
                        else:
                            command = [str(BIN / "twine"), "upload", "--repository-url", url, "-u", USER, "-p", PASSWORD,
                                       "--disable-progress-bar", "--non-interactive", *files]  # fmt: skip
                        times[tool].append(_run(command))
                        assert len(server.stored()) == len(files), f"{tool} stored {len(server.stored())} files"
        rows.append((f"upload 40 files, {label}", min(times["maestro"]), "twine upload", min(times["twine"])))
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


def bench_rss(work: Path) -> list[tuple[str, float, str, float]]:
    wheel = str(_big_wheel(work))
    rss = {}
    for tool in ("maestro", "twine"):
        with running_pypiserver(work / f"server-big-{tool}") as server:
            if tool == "maestro":
                command = [MAESTRO, "publish", "--repository-url", server.url, "-u", USER, "-p", PASSWORD, wheel]
            else:
                command = [str(BIN / "twine"), "upload", "--repository-url", server.url, "-u", USER, "-p", PASSWORD,
                           "--disable-progress-bar", "--non-interactive", wheel]  # fmt: skip
            rss[tool] = _rss_of(command) / 1024
    return [(f"peak RSS uploading a {BIG_FILE_MB} MB wheel (MB)", rss["maestro"], "twine upload", rss["twine"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maestro-bench-publish-") as scratch:
        work = Path(scratch)
        rows = bench_build(work, args.repeat) + bench_upload(work, args.repeat) + bench_rss(work)
    print(f"{'measurement':<50} {'maestro':>9}  {'competitor':<31} {'theirs':>9} {'ratio':>7}")
    for what, ours, competitor, theirs in rows:
        unit = "M" if "RSS" in what else "s"
        ratio = theirs / ours if ours else float("inf")
        print(f"{what:<50} {ours:>8.2f}{unit}  {competitor:<31} {theirs:>8.2f}{unit} {ratio:>6.1f}x")
    print("ratio = competitor / maestro: above 1 means maestro is faster (or, for RSS, smaller)")


if __name__ == "__main__":
    main()
