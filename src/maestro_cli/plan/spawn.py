"""Starting a command in a session of its own, its output (stdout and stderr) on one pipe.

:func:`start` uses ``os.posix_spawn`` where it gives the same child as ``subprocess.Popen``, and
Popen everywhere else. Popen's Python side (its handles, its environment encoding, its error pipe)
is about as much CPU as all the rest maestro does for a no-op step; posix_spawn is one C call.
The two children are alike: a new session (so a new process group), stdin on /dev/null, SIGPIPE
and SIGXFSZ back to their default action, and no descriptor of maestro's beyond the three. (glibc's
posix_spawn leaves its two internal signals, 32 and 33, ignored in the child; a program linked
with glibc sets them up again at its start.)

posix_spawn cannot change the child's folder, nor close descriptors that are not close-on-exec:
so it is used only for a command that runs in maestro's own folder, with a program found on the
PATH, while maestro holds no inheritable descriptor beyond 0, 1 and 2 (Python opens none itself;
one can only come from whoever started maestro).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol

# What Popen's restore_signals puts back to the default for the child: Python ignores SIGPIPE, and
# `yes | head` in a step must end as it does in a terminal, not with "Broken pipe" errors.
_DEFAULT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name))


class Child(Protocol):
    """What the supervisor needs of a started command: Popen's names for them."""

    pid: int
    stdout: IO[bytes] | None
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...


def start(argv: Sequence[str], cwd: Path | str | None, env: Mapping[str, str] | None) -> Child:
    """Start ``argv`` in a new session; raises ``OSError`` when it cannot be started."""
    environment = os.environ if env is None else env
    executable = program_path(argv[0], environment.get("PATH"))  # argv[0] stays as given
    if "/" in executable and _same_folder(cwd) and _no_inheritable_descriptors():
        return _Spawned.start(executable, argv, environment)
    return subprocess.Popen(
        list(argv),
        executable=executable,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own session and group: the terminal's Ctrl-C reaches only maestro
    )


class _Spawned:
    """A child started by posix_spawn, reaped as Popen reaps one (and safe to poll from two threads)."""

    def __init__(self, pid: int, stdout: IO[bytes]) -> None:
        self.pid = pid
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def start(cls, executable: str, argv: Sequence[str], env: Mapping[str, str]) -> _Spawned:
        read_end, write_end = os.pipe()
        try:
            pid = os.posix_spawn(
                executable,
                list(argv),
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_DUP2, write_end, 2),
                ],
                setsid=True,
                setsigdef=_DEFAULT_SIGNALS,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        return cls(pid, io.FileIO(read_end, "r"))

    def poll(self) -> int | None:
        if self.returncode is None and self._lock.acquire(blocking=False):
            try:
                self._reap(os.WNOHANG)
            finally:
                self._lock.release()
        return self.returncode

    def wait(self) -> int:
        with self._lock:
            while self.returncode is None:
                self._reap(0)
        return self.returncode

    def _reap(self, options: int) -> None:
        if self.returncode is not None:
            return
        try:
            pid, status = os.waitpid(self.pid, options)
        except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): Popen says 0 too
            self.returncode = 0
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)


def _same_folder(cwd: Path | str | None) -> bool:
    try:
        return cwd is None or os.fspath(cwd) == os.getcwd()
    except FileNotFoundError:  # maestro's own folder was removed: Popen still starts the command
        return False


@functools.cache
def _no_inheritable_descriptors() -> bool:
    """Whether maestro holds no inheritable descriptor beyond 0-2, which Popen would close; looked at
    once, at the first start (what Python opens later is close-on-exec)."""
    if not hasattr(os, "posix_spawn"):
        return False
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: no way to know
        return False
    for descriptor in descriptors:
        if descriptor > 2:
            try:
                if os.get_inheritable(descriptor):
                    return False
            except OSError:  # the listing's own descriptor, closed since
                continue
    return True


_found_programs: dict[tuple[str, str | None], str] = {}


def program_path(program: str, search_path: str | None) -> str:
    """``program`` as found on ``search_path``, remembered: Popen would search the PATH again for
    each of a plan's 500 ``bash`` steps, a tenth of a no-op step's own CPU time.

    Only absolute search paths are remembered (a relative entry depends on the step's folder), and
    only programs found (one may be installed while the plan runs); anything else is left to Popen.
    """
    key = (program, search_path)
    found = _found_programs.get(key)
    if found is None and "/" not in program and search_path and all(os.path.isabs(entry) for entry in search_path.split(os.pathsep)):
        found = shutil.which(program, path=search_path)
        if found is not None:
            _found_programs[key] = found
    return found or program
