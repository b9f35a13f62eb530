"""Running a command in its own process group, and stopping the whole group when it must stop.

Every step and service of a plan, and every adapter that starts processes (shell, pytest, the
browser adapters), goes through here, so that a timeout, a cancel or Ctrl-C leaves no orphan behind.

The API is three names:

- :func:`run` -- run a command to completion: output (stdout and stderr, merged) goes to ``log``
  with secrets scrubbed; on ``deadline`` or ``cancel`` the whole group gets SIGTERM, then SIGKILL
  after ``grace`` seconds. Processes the command left running in its group when it exits are
  stopped the same way. Returns a :class:`Completed`; never raises for the command's own failure.
- :func:`start_background` -- start a long-running command (a service, a driver) whose output is
  logged by a thread until :meth:`Background.stop` stops its group.
- :class:`Completed` -- exit code (negative: the signal that ended it), timed out, cancelled.

:func:`is_running` tells whether a pid still runs (a zombie does not), for checks that nothing
was left behind.

A child that calls ``setsid`` itself leaves the group and is out of reach: a process group is the
unit POSIX lets us signal as a whole without privileges.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .. import redaction
from . import spawn

# How long a group has to exit cleanly after SIGTERM before it gets SIGKILL: long enough for a
# test runner to write its report or a server to close its sockets, short enough for Ctrl-C.
GRACE_SECONDS = 5.0
# How often a waiting thread looks at its cancel event; process exit itself wakes it at once.
_CANCEL_POLL = 0.05
# After the command exited, how long to keep reading output that its last children still write.
_DRAIN_SECONDS = 1.0
_CHUNK = 65536
# looked up once, not for every step: getincrementaldecoder searches the codec registry each call
_UTF8_DECODER = codecs.getincrementaldecoder("utf-8")


@dataclass(frozen=True)
class Completed:
    """How a command ended."""

    exit_code: int | None  # None: it never started (see ``error``); negative: killed by that signal
    duration: float
    timed_out: bool = False
    cancelled: bool = False
    error: str | None = None  # why it could not start ("bash: no such file")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.cancelled)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    log: TextIO | None = None,
    deadline: float | None = None,
    cancel: threading.Event | None = None,
    grace: float = GRACE_SECONDS,
) -> Completed:
    """Run ``argv`` in a new process group until it exits, ``deadline`` passes or ``cancel`` is set.

    ``deadline`` is a :func:`time.monotonic` value. Only the group is waited for: the call returns
    once the command and every process left in its group are gone.
    """
    started = time.monotonic()
    try:
        process = spawn.start(argv, cwd, env)
    except OSError as exc:
        if cwd is not None and not Path(cwd).is_dir():  # Popen blames the program for a missing cwd
            message = f"cannot run {argv[0]!r}: no folder {cwd}"
        else:
            message = f"cannot run {argv[0]!r}: {exc.strerror or exc}"
        if log is not None:
            log.write(message + "\n")
            log.flush()
        return Completed(exit_code=None, duration=time.monotonic() - started, error=message)
    return _supervise(process, started, log, deadline, cancel, grace)


class Background:
    """A command running in its own group while its output is logged by a thread."""

    def __init__(self, process: spawn.Child, log: TextIO | None, grace: float) -> None:
        self.pid = process.pid
        self._process = process
        self._stop = threading.Event()
        self._completed: Completed | None = None
        started = time.monotonic()

        def supervise() -> None:
            self._completed = _supervise(process, started, log, None, self._stop, grace)

        self._thread = threading.Thread(target=supervise, name=f"process-{self.pid}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll()

    def stop(self) -> Completed:
        """Stop the whole group (SIGTERM, then SIGKILL after the grace period) and wait for it."""
        self._stop.set()
        self._thread.join()
        assert self._completed is not None
        return self._completed


def start_background(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    log: TextIO | None = None,
    grace: float = GRACE_SECONDS,
) -> Background:
    """Start ``argv`` in a new process group; raises ``OSError`` when it cannot be started."""
    return Background(spawn.start(argv, cwd, env), log, grace)


def _supervise(
    process: spawn.Child,
    started: float,
    log: TextIO | None,
    deadline: float | None,
    cancel: threading.Event | None,
    grace: float,
) -> Completed:
    """Copy output to the log while waiting; stop the group on deadline or cancel."""
    assert process.stdout is not None
    pipe = process.stdout.fileno()  # read only once select says it is readable: no read blocks
    sink = _LogSink(log)
    exit_watch = _exit_watch(process.pid)
    timed_out = cancelled = False
    pipe_open = True
    try:
        while True:
            wait = _CANCEL_POLL if cancel is not None else 1.0
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0.0))
            fds = [exit_watch] if exit_watch is not None else []
            if pipe_open:
                fds.append(pipe)
            ready, _, _ = select.select(fds, [], [], wait if exit_watch is not None or pipe_open else min(wait, 0.01))
            if pipe in ready:
                pipe_open = sink.read_from(pipe)
            # with a pidfd, reaping is tried only once it says the process exited
            if (exit_watch is None or exit_watch in ready) and process.poll() is not None:
                break
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if deadline is not None and time.monotonic() >= deadline and process.poll() is None:
                timed_out = True
                break
        stop_group(process, grace)
        _drain(pipe, sink, pipe_open)
    finally:
        if exit_watch is not None:
            os.close(exit_watch)
        process.stdout.close()
        sink.close()
    code = process.returncode
    if timed_out and log is not None:
        log.write(f"maestro: timed out, stopped process group {process.pid}\n")
    elif cancelled and log is not None:
        log.write(f"maestro: cancelled, stopped process group {process.pid}\n")
    if log is not None:
        log.flush()
    return Completed(exit_code=code, duration=time.monotonic() - started, timed_out=timed_out, cancelled=cancelled)


def _exit_watch(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (Linux pidfd), so exit wakes us at once."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _drain(pipe: int, sink: _LogSink, pipe_open: bool) -> None:
    """Read what is left in the pipe; a grandchild that escaped the group may hold it open."""
    until = time.monotonic() + _DRAIN_SECONDS
    while pipe_open and time.monotonic() < until:
        ready, _, _ = select.select([pipe], [], [], max(until - time.monotonic(), 0.0))
        if not ready:
            break
        pipe_open = sink.read_from(pipe)


def stop_group(process: spawn.Child, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the process's whole group, SIGKILL after ``grace`` seconds; reap the leader."""
    pgid = process.pid  # start_new_session made the process its group's leader
    if process.poll() is not None and not _group_alive(pgid):
        return
    _signal_group(pgid, signal.SIGTERM)
    until = time.monotonic() + grace
    while time.monotonic() < until:
        process.poll()
        if not _group_alive(pgid):
            process.wait()  # the leader may have died between poll() and the group check
            return
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    process.wait()
    until = time.monotonic() + 1.0
    while _group_alive(pgid) and time.monotonic() < until:
        time.sleep(0.01)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs; zombies waiting for a reaper do not count.

    Orphans are re-parented to PID 1, which in a container may never reap them, so a zombie is
    what a killed grandchild can stay as for ever.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def is_running(pid: int) -> bool:
    """Whether ``pid`` runs (Linux): a zombie nobody reaped has finished, so it does not count."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'
    return stat[stat.rfind(")") + 2 :].split()


class _LogSink:
    """Decodes output incrementally and writes whole lines, scrubbed of secrets, to the log."""

    def __init__(self, log: TextIO | None) -> None:
        self._log = log
        self._decoder = _UTF8_DECODER(errors="replace")
        self._partial = ""

    def read_from(self, fd: int) -> bool:
        """Read one chunk; False at end of file."""
        data = os.read(fd, _CHUNK)
        if not data:
            return False
        self._write(self._decoder.decode(data))
        return True

    def _write(self, text: str) -> None:
        if self._log is None:
            return
        text = self._partial + text
        # a secret split across two reads must still be masked: hold back the unfinished line
        cut = text.rfind("\n") + 1
        if cut == 0 and len(text) < _CHUNK:
            self._partial = text
            return
        if cut == 0:
            cut = len(text)
        self._partial = text[cut:]
        self._log.write(redaction.scrub(text[:cut]))
        self._log.flush()

    def close(self) -> None:
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        if rest and self._log is not None:
            self._log.write(redaction.scrub(rest) + "\n")
            self._log.flush()
