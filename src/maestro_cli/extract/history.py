"""``--keep-history``: the new package's git history holds only the commits that touched SOURCE.

git-filter-repo (the tool git itself recommends over ``filter-branch``) rewrites a temporary clone, so
the legacy repo is only ever read. Its ``.git`` then moves into the staged package, and one more
commit records the extraction itself (rewritten imports, skeleton files).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import InputError, JobFailedError

FALLBACK_IDENTITY = {"user.name": "maestro", "user.email": "maestro@localhost"}


def carry_history(root: Path, source: str, destination: str, into: Path, message: str, *, is_dir: bool) -> int:
    """Give ``into`` the history of ``source`` (relative to ``root``) moved to ``destination``; returns the commit count."""
    # trailing slashes keep ``pkg`` from also renaming a sibling ``pkg_extra``
    rename = f"{source}/:{destination}/" if is_dir else f"{source}:{destination}"
    if _git(root, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise InputError(f"--keep-history: {root} is not a git repository")
    with tempfile.TemporaryDirectory(prefix="maestro-history-") as scratch:
        clone = Path(scratch) / "clone"
        _git(Path(scratch), "clone", "--quiet", "--no-local", str(root), str(clone))
        if _git(clone, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0:
            filter_repo = [sys.executable, "-c", "import sys, git_filter_repo; sys.exit(git_filter_repo.main())"]
            done = subprocess.run(
                [*filter_repo, "--force", "--quiet", "--path", source, "--path-rename", rename],
                cwd=clone, capture_output=True, text=True, check=False,
            )
            if done.returncode != 0:
                raise JobFailedError(f"git-filter-repo failed: {_last_line(done.stderr)}")
        shutil.move(str(clone / ".git"), str(into / ".git"))
    identity = [arg for key, value in _identity(root).items() for arg in ("-c", f"{key}={value}")]
    _git(into, "add", "--all")
    _git(into, *identity, "commit", "--quiet", "--allow-empty", "-m", message)
    count = _git(into, "rev-list", "--count", "HEAD").stdout.strip()
    return int(count or 0)


def _identity(root: Path) -> dict[str, str]:
    """The user's own git identity when they have one; maestro's otherwise, so the commit never fails."""
    found = {key: _git(root, "config", key, check=False).stdout.strip() for key in FALLBACK_IDENTITY}
    return {key: value or FALLBACK_IDENTITY[key] for key, value in found.items()}


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)
    if check and done.returncode != 0:
        raise JobFailedError(f"git {args[0]} failed: {_last_line(done.stderr)}")
    return done


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
