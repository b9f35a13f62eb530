"""`make demo`: the whole journey on the bundled legacy estate, as a user would run it.

1. start a real pypiserver on a free loopback port as the team's private index (uploads need a
   password generated for this run; the index starts empty every run);
2. `maestro extract` two copied-around helpers out of examples/legacy-estate, each with --verify;
3. `maestro build` and `maestro publish` them to the index, then publish again with
   --skip-existing, which finds every file already there (same name, same sha256) and sends nothing;
4. `maestro run-plan examples/plan.yaml`: installs the published packages from the index into a
   fresh venv, runs the tests they carried with the pytest adapter, checks a legacy service over HTTP;
5. `maestro report`: the terminal report, and demo-report.html.

The index is stopped when the demo ends, also on failure or Ctrl-C. Exit status: the first failing
step's. Usage: python examples/demo.py [--keep-index]
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ESTATE = ROOT / "examples" / "legacy-estate"
WORK = ROOT / ".maestro" / "demo"
BIN = Path(sys.executable).parent
MAESTRO = str(BIN / "maestro")
PACKAGES = {  # what the demo carves out: the folder in the estate -> the distribution's name
    "estate/common/resilience": "estate-resilience",
    "estate/common/registry": "estate-registry",
}


class StepFailed(Exception):
    def __init__(self, command: list[str], code: int) -> None:
        super().__init__(f"`{shlex.join(command)}` exited {code}")
        self.code = code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def banner(text: str) -> None:
    print(f"\n\033[1m==> {text}\033[0m" if sys.stdout.isatty() else f"\n==> {text}", flush=True)


def maestro(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> int:
    command = [MAESTRO, *args]
    print("$ " + shlex.join(["maestro", *args]), flush=True)
    code = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}).returncode
    if code not in ok:
        raise StepFailed(command, code)
    return code


@contextmanager
def package_index(password: str) -> Iterator[str]:
    """A real pypiserver: anyone may download, uploads need user `demo` and the password."""
    from passlib.apache import HtpasswdFile

    packages = WORK / "index"
    shutil.rmtree(packages, ignore_errors=True)
    packages.mkdir(parents=True)
    htpasswd = WORK / "htpasswd"
    passwords = HtpasswdFile(str(htpasswd), new=True)
    passwords.set_password("demo", password)
    passwords.save()
    port = free_port()
    log = open(WORK / "index.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port), "-a", "update",
         "-P", str(htpasswd), "--disable-fallback", "--backend", "simple-dir", str(packages)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}health", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pypiserver did not start; see {WORK / 'index.log'}") from None
                time.sleep(0.2)
        print(f"package index: {url} (packages in {packages.relative_to(ROOT)})", flush=True)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print("package index stopped", flush=True)


def run_demo() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)  # only the index and this process know it
    with package_index(password) as index_url:
        extracted = WORK / "extracted"
        for source, dist in PACKAGES.items():
            banner(f"extract {source} -> {dist}")
            maestro("extract", str(ESTATE / source), "--name", dist, "--repo", str(ESTATE),
                    "--out", str(extracted), "--verify", "--force")  # fmt: skip

        banner("build and publish to the local index")
        dist_dir = WORK / "dist"
        maestro("build", *(str(extracted / d) for d in PACKAGES.values()), "--out", str(dist_dir), "--force")
        credentials = {"MAESTRO_USERNAME": "demo", "MAESTRO_PASSWORD": password}
        maestro("publish", str(dist_dir), "--repository-url", index_url, env=credentials)
        banner("publish again: --skip-existing checks the index by sha256 and re-sends nothing")
        maestro("publish", str(dist_dir), "--repository-url", index_url, "--skip-existing", env=credentials)

        banner("run the test plan: install from the index, run the carried tests, check a service")
        results = WORK / "run"
        plan_code = maestro(
            "run-plan", "examples/plan.yaml", "--results", str(results), "--force",
            "--var", f"index={index_url}simple/", "--var", f"port={free_port()}", "--var", f"out={WORK}",
            ok=(0, 1),
        )  # fmt: skip

    banner("report")
    maestro("report", str(results), "--title", "estate demo", ok=(0, 1))
    maestro("report", str(results), "--format", "html", "--output", "demo-report.html", "--force", "--title", "estate demo", ok=(0, 1))
    print(f"\nHTML report: {ROOT / 'demo-report.html'}", flush=True)
    return plan_code


def main() -> int:
    # SIGTERM (CI cancelling the job) unwinds like Ctrl-C, so the index is stopped either way
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return run_demo()
    except StepFailed as failure:
        print(f"\ndemo failed: {failure}", file=sys.stderr)
        return failure.code or 1
    except KeyboardInterrupt:
        print("\ndemo interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
