"""Start-up time: `maestro --version` and `--help` beside `python -c pass` and `twine --version`.

Prints a Markdown table: median of N runs each, and each command's ratio to twine's.
Target: `maestro --version` <= 0.5x `twine --version`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=True)  # warm the file cache once
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    twine = shutil.which("twine", path=str(BIN)) or shutil.which("twine")
    if twine is None:
        print("twine is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "maestro --version": [str(BIN / "maestro"), "--version"],
        "maestro --help": [str(BIN / "maestro"), "--help"],
        "twine --version": [twine, "--version"],
    }
    times = {name: median_seconds(command, args.runs) for name, command in commands.items()}
    reference = times["twine --version"]
    print(f"### Start-up (median of {args.runs} runs)\n")
    print("| command | median ms | × twine --version |")
    print("| --- | ---: | ---: |")
    for name, seconds in times.items():
        print(f"| `{name}` | {seconds * 1000:.0f} | {seconds / reference:.2f} |")
    verdict = "met" if times["maestro --version"] <= 0.5 * reference else "MISSED"
    print(f"\nTarget `maestro --version` ≤ 0.5× `twine --version`: {verdict}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
