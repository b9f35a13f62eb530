"""A validated test plan: steps after matrix expansion, services, and the graph between them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location

DEFAULT_ADAPTER = "shell"
# A step that hangs must not hold CI for ever; GitHub Actions allows 6 hours, a test gate far less.
DEFAULT_TIMEOUT = 3600.0
DEFAULT_CONDITION = "success()"
# A service answering nothing in 30 s is broken, not slow to boot.
DEFAULT_HEALTH_TIMEOUT = 30.0
DEFAULT_HEALTH_INTERVAL = 0.2


# only __init__ generated: nothing prints, compares or assigns to a plan's parts (see errors.Location)
@dataclass(repr=False, eq=False)
class HealthCheck:
    """How a service is known to be up: an HTTP answer, an open TCP port or a command's exit 0."""

    kind: str  # "http", "tcp" or "cmd"
    target: str  # URL, host:port, or a shell command
    timeout: float = DEFAULT_HEALTH_TIMEOUT
    interval: float = DEFAULT_HEALTH_INTERVAL

    def describe(self) -> str:
        return f"{self.kind} {self.target}"


@dataclass(repr=False, eq=False)
class Service:
    """A long-running process started for the steps that list it."""

    name: str
    run: str | list[str]
    env: dict[str, str]
    cwd: Path
    health: HealthCheck | None
    location: Location


@dataclass(repr=False, eq=False)
class Step:
    """One step after matrix expansion; strings reading ``steps.*`` are still templates (Deferred)."""

    id: str
    adapter: str
    location: Location
    run: str | list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    needs: tuple[str, ...] = ()
    condition: str = DEFAULT_CONDITION  # a bare jinja expression
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 0
    continue_on_error: bool = False
    services: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # distributed run-plan (issue 8): ("local",) keeps the step on the coordinator; tags pick workers
    runs_on: tuple[str, ...] = ()
    matrix: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def required(self) -> bool:
        """Whether the run fails when this step fails."""
        return not self.continue_on_error


@dataclass(repr=False, eq=False)
class Plan:
    """A validated plan: its steps after matrix expansion, its services, env, vars and secrets."""

    name: str
    file: str  # as the user named it
    workdir: Path  # the plan's folder: steps run there unless they set cwd
    env: dict[str, str]
    vars: dict[str, Any]
    secrets: dict[str, str]  # name -> value, all registered with redaction
    services: dict[str, Service]
    steps: list[Step]
    shareable_secrets: tuple[str, ...] = ()  # distributed run-plan (issue 8): may travel to workers

    def step(self, step_id: str) -> Step:
        return self._by_id[step_id]

    @property
    def _by_id(self) -> dict[str, Step]:
        return {step.id: step for step in self.steps}

    def levels(self, selected: set[str] | None = None) -> list[list[str]]:
        """Steps grouped by depth in the graph: a level's steps can all run once the earlier levels ran."""
        depth: dict[str, int] = {}
        by_id = self._by_id

        def depth_of(step_id: str) -> int:
            if step_id not in depth:
                depth[step_id] = 1 + max((depth_of(need) for need in by_id[step_id].needs), default=-1)
            return depth[step_id]

        levels: list[list[str]] = []
        for step in self.steps:
            if selected is not None and step.id not in selected:
                continue
            level = depth_of(step.id)
            while len(levels) <= level:
                levels.append([])
            levels[level].append(step.id)
        return [level for level in levels if level]

    def template_context(self) -> dict[str, Any]:
        """What ``${{ }}`` sees before any step ran: env, vars, secrets (steps come at run time)."""
        return {"env": {**os.environ, **self.env}, "vars": self.vars, "secrets": self.secrets}
