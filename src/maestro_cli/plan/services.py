"""Services: started before the first step that needs them, health-checked, stopped after the last.

Each service runs in its own process group (see :mod:`process`), logs to ``logs/service-<name>.log``
and is shared by the steps that list it: a counter of steps still to come decides when it stops.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from . import process
from .model import HealthCheck, Service

SHELL = ["bash", "--noprofile", "--norc", "-c"]
_TAIL_LINES = 20


class ServiceError(Exception):
    """A service that could not start or never became healthy; the message is one line."""


class _Running:
    def __init__(self, service: Service, users: set[str]) -> None:
        self.service = service
        self.users = users  # steps still to come that need it
        self.lock = threading.Lock()
        self.handle: process.Background | None = None
        self.log: TextIO | None = None
        self.error: str | None = None


class Services:
    """The services of one run, started on demand and stopped when no step needs them any more."""

    def __init__(self, services: dict[str, Service], users: dict[str, set[str]], logs_dir: Path, cancel: threading.Event) -> None:
        self._services = {name: _Running(services[name], set(ids)) for name, ids in users.items() if ids}
        self._logs_dir = logs_dir
        self._cancel = cancel

    def log_path(self, name: str) -> Path:
        return self._logs_dir / f"service-{name}.log"

    def acquire(self, names: Iterable[str], step_log: TextIO) -> None:
        """Make sure the services are up and healthy; raises ServiceError (tail of its log in ``step_log``)."""
        for name in names:
            running = self._services[name]
            with running.lock:
                if running.error is None and running.handle is None:
                    try:
                        self._start(running)
                    except ServiceError as exc:
                        running.error = str(exc)
                        self._stop(running)
                if running.error is not None:  # every step that needed it says why, with its output
                    step_log.write(f"maestro: {running.error}\nlast output of service {name}:\n{tail(self.log_path(name))}")
                    step_log.flush()
                    raise ServiceError(running.error)

    def release(self, step_id: str) -> None:
        """The step is done (run or skipped): stop each service no later step needs."""
        for running in self._services.values():
            with running.lock:
                running.users.discard(step_id)
                if not running.users:
                    self._stop(running)

    def stop_all(self) -> None:
        for running in self._services.values():
            with running.lock:
                self._stop(running)

    def _start(self, running: _Running) -> None:
        service = running.service
        command = [*SHELL, service.run] if isinstance(service.run, str) else service.run
        self._logs_dir.mkdir(parents=True, exist_ok=True)
        running.log = open(self.log_path(service.name), "a", encoding="utf-8")  # noqa: SIM115 - closed in _stop
        try:
            running.handle = process.start_background(command, cwd=service.cwd, env={**os.environ, **service.env}, log=running.log)
        except OSError as exc:
            raise ServiceError(f"service '{service.name}' could not start: {exc.strerror or exc}") from None
        if service.health is not None:
            self._await_health(service, service.health, running.handle)

    def _await_health(self, service: Service, check: HealthCheck, handle: process.Background) -> None:
        until = time.monotonic() + check.timeout
        while True:
            if not handle.alive:
                raise ServiceError(f"service '{service.name}' exited with code {handle.exit_code} before it was healthy")
            if is_healthy(check):
                return
            if time.monotonic() >= until:
                raise ServiceError(f"service '{service.name}' was not healthy within {check.timeout:g}s ({check.describe()})")
            if self._cancel.wait(check.interval):
                raise ServiceError(f"service '{service.name}': cancelled while waiting for it to be healthy")

    def _stop(self, running: _Running) -> None:
        if running.handle is not None:
            running.handle.stop()
            running.handle = None
        if running.log is not None:
            running.log.close()
            running.log = None


def is_healthy(check: HealthCheck) -> bool:
    """One probe: an HTTP answer below 500, an accepted TCP connection, or a command exiting 0."""
    wait = max(check.interval, 1.0)
    if check.kind == "http":
        import httpx

        try:
            return httpx.get(check.target, timeout=wait).status_code < 500
        except httpx.HTTPError:
            return False
    if check.kind == "tcp":
        import socket  # here: most plans have no tcp check, and its import costs a no-op step's time

        host, _, port = check.target.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=wait):
                return True
        except OSError:
            return False
    return process.run([*SHELL, check.target], deadline=time.monotonic() + max(check.interval, 5.0)).ok


def tail(path: Path, lines: int = _TAIL_LINES) -> str:
    """The last lines of a log, for the summary of a failed step or service."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(size - 16384, 0))
            text = stream.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    kept = text.splitlines()[-lines:]
    return "".join(f"  {line}\n" for line in kept)
