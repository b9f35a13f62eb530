"""`maestro report` reading 500 JUnit files × 200 cases, side by side in one run with junitparser
reading every case and a bare ``xml.etree.ElementTree.iterparse`` loop that only counts cases.

    .venv/bin/python bench/report.py [--repeat 5] [--files 500] [--cases 200]

The files are generated once into bench/.cache/ (git-ignored): 5 % failures with a message, a
stack trace and captured output, 3 % skipped, 40 % passes with system-out. maestro does its full
aggregation (totals, suites, classes, failures, slowest, flaky, the JSON document) on one process
and on both cores; junitparser and the floor run on one. Each timing is the best of --repeat runs,
interleaved so that load from other processes hits every tool alike; CPU seconds (this process
and its workers) are shown beside wall time. Peak RSS is measured at 1,000,000 cases in a fresh
process per tool. Targets: maestro ≤ 1.2× the floor, faster than junitparser, under 100 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def generate(folder: Path, files: int, cases: int) -> Path:
    """Surefire-like files, made once; a marker file says the set is complete."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(6)
    for f in range(files):
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<testsuite name="com.acme.pkg{f % 25}.Suite{f}" tests="{cases}" failures="0" errors="0" skipped="0" time="1.0">\n',
            '  <properties><property name="java.version" value="17.0.9"/></properties>\n',
        ]
        for c in range(cases):
            roll = rnd.random()
            head = f'  <testcase name="test_case_{c}" classname="com.acme.pkg{f % 25}.Class{f}" time="{rnd.random() * 2:.3f}"'
            if roll < 0.05:
                parts.append(
                    f'{head}>\n    <failure message="expected: &lt;{c}&gt; but was: &lt;{c + 1}&gt;" type="org.opentest4j.AssertionFailedError">'
                    f"org.opentest4j.AssertionFailedError: expected: &lt;{c}&gt; but was: &lt;{c + 1}&gt;\n"
                    f"\tat com.acme.Class{f}.test_case_{c}(Class{f}.java:{c + 10})\n\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n"
                    f"</failure>\n    <system-out>request {c} sent\nresponse {c} received\n</system-out>\n  </testcase>\n"
                )
            elif roll < 0.08:
                parts.append(f'{head}>\n    <skipped message="disabled on CI"/>\n  </testcase>\n')
            elif roll < 0.48:
                parts.append(f"{head}>\n    <system-out>started {c}\nfinished {c}\n</system-out>\n  </testcase>\n")
            else:
                parts.append(f"{head}/>\n")
        parts.append("  <system-out>suite output</system-out>\n</testsuite>\n")
        (folder / f"TEST-com.acme.Suite{f}.xml").write_text("".join(parts))
    done.touch()
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xml"))


def floor(folder: Path) -> int:
    count = 0
    for path in files_of(folder):
        for _, element in ET.iterparse(path):
            if element.tag == "testcase":
                count += 1
    return count


def junitparser_every_case(folder: Path) -> int:
    from junitparser import JUnitXml, TestSuite

    count = 0
    for path in files_of(folder):
        document = JUnitXml.fromfile(str(path))
        for suite in [document] if isinstance(document, TestSuite) else document:
            for case in suite:
                case.name, case.classname, case.time, case.result  # noqa: B018 - reading is the work
                count += 1
    return count


def maestro_report(folder: Path, jobs: int) -> int:
    from maestro_cli.report.aggregate import ReportRequest, build_report
    from maestro_cli.report.render_json import to_document

    with build_report(ReportRequest([str(folder)], jobs=jobs)) as report:
        document = to_document(report)
    return int(document["totals"]["tests"])


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(tools: dict[str, Callable[[], int]], repeat: int, expected: int) -> dict[str, tuple[float, float]]:
    """Best wall and CPU seconds of each tool over ``repeat`` interleaved rounds."""
    best: dict[str, tuple[float, float]] = {name: (float("inf"), float("inf")) for name in tools}
    for name, tool in tools.items():  # warm the page cache and the imports
        assert tool() == expected, name
    for _ in range(repeat):
        for name, tool in tools.items():
            cpu, start = cpu_seconds(), time.perf_counter()
            tool()
            wall, used = time.perf_counter() - start, cpu_seconds() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], used))
    return best


PEAK_SNIPPET = """
import json, resource, sys
sys.path.insert(0, {bench!r})
import report as bench
from pathlib import Path
count = {call}
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"count": count, "own_kib": own, "workers_kib": workers}}))
"""


def peak_rss(call: str) -> dict[str, int]:
    code = PEAK_SNIPPET.format(bench=str(Path(__file__).resolve().parent), call=call)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--million-files", type=int, default=1000, help="files of the 1,000,000-case set (× 1000 cases)")
    args = parser.parse_args()

    print("generating files (first run only)...", file=sys.stderr, flush=True)
    folder = generate(CACHE / f"report-{args.files}x{args.cases}", args.files, args.cases)
    million = generate(CACHE / f"report-{args.million_files}x1000", args.million_files, 1000)
    expected = args.files * args.cases
    tools: dict[str, Callable[[], int]] = {
        "ElementTree.iterparse, counting cases (floor)": lambda: floor(folder),
        "junitparser, reading every case": lambda: junitparser_every_case(folder),
        "maestro report, one process": lambda: maestro_report(folder, jobs=1),
        "maestro report, both cores": lambda: maestro_report(folder, jobs=0),
    }
    print("timing...", file=sys.stderr, flush=True)
    results = timed(tools, args.repeat, expected)
    floor_wall, floor_cpu = results["ElementTree.iterparse, counting cases (floor)"]
    size = sum(p.stat().st_size for p in files_of(folder)) / 1e6

    print(f"{args.files} JUnit files × {args.cases} cases = {expected:,} cases ({size:.0f} MB), best of {args.repeat}:\n")
    print("| tool | wall s | × floor | CPU s | × floor CPU |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (wall, cpu) in results.items():
        print(f"| {name} | {wall:.3f} | {wall / floor_wall:.2f}× | {cpu:.3f} | {cpu / floor_cpu:.2f}× |")
    junit_wall = results["junitparser, reading every case"][0]
    for name in ("maestro report, one process", "maestro report, both cores"):
        print(f"\n{name}: {junit_wall / results[name][0]:.2f}× faster than junitparser", end="")
    print("\n")

    print("generating the 1,000,000-case set done; measuring peak RSS...", file=sys.stderr, flush=True)
    print(f"Peak RSS at {args.million_files * 1000:,} cases ({args.million_files} files × 1000), each in a fresh process:\n")
    print("| tool | main process MB | largest worker MB |")
    print("| --- | ---: | ---: |")
    for name, call in (
        ("ElementTree.iterparse, counting cases (floor)", f"bench.floor(Path({str(million)!r}))"),
        ("maestro report, one process", f"bench.maestro_report(Path({str(million)!r}), jobs=1)"),
        ("maestro report, both cores", f"bench.maestro_report(Path({str(million)!r}), jobs=0)"),
    ):
        peak = peak_rss(call)
        assert peak["count"] == args.million_files * 1000, (name, peak)
        workers = f"{peak['workers_kib'] / 1024:.0f}" if peak["workers_kib"] else "-"
        print(f"| {name} | {peak['own_kib'] / 1024:.0f} | {workers} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
