"""A working copy of the fixture legacy monorepo, with a git history made on the spot."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "legacy_monorepo"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Legacy Dev", "GIT_AUTHOR_EMAIL": "dev@acme.invalid",
    "GIT_COMMITTER_NAME": "Legacy Dev", "GIT_COMMITTER_EMAIL": "dev@acme.invalid",
}


def make_legacy_repo(target: Path) -> Path:
    """Copy the fixture (without the conftest that hides it from maestro's own pytest) and commit it in three steps."""
    shutil.copytree(FIXTURE, target, ignore=lambda folder, names: ["conftest.py"] if Path(folder) == FIXTURE else [])
    git(target, "init", "--quiet", "--initial-branch=main")
    git(target, "add", "shared", "LICENSE", "README.md", "setup.py", "requirements.txt", "requirements-dev.txt")
    git(target, "commit", "--quiet", "-m", "Shared helpers")
    git(target, "add", "billing", "inventory", "tools")
    git(target, "commit", "--quiet", "-m", "Billing and inventory services")
    (target / "shared" / "resilience" / "clock.py").write_text(
        (target / "shared" / "resilience" / "clock.py").read_text() + "\n\ndef today():\n    return time.strftime('%Y-%m-%d')\n"
    )
    git(target, "add", "--all")
    git(target, "commit", "--quiet", "-m", "Add clock.today and the tests")
    return target


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_IDENTITY}, capture_output=True, text=True, check=True)
    return done.stdout


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file (git metadata included) and the target of every link below ``root``."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            hashes[key] = "link:" + os.readlink(path)
        elif path.is_file():
            hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes
