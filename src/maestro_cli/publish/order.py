"""Upload order inside one batch: a project's dependencies go up before it does.

Otherwise a CI job that installs ``acme-app`` the moment it appears can find ``acme-core`` missing.
Projects that do not depend on each other share a wave and upload in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from graphlib import CycleError, TopologicalSorter
from typing import Protocol, TypeVar


class Orderable(Protocol):
    @property
    def project(self) -> str: ...

    def dependencies(self) -> set[str]: ...


T = TypeVar("T", bound=Orderable)


def upload_waves(items: Sequence[T]) -> list[list[T]]:
    """Items in waves: every project in a wave depends only on projects of earlier waves.

    A dependency cycle inside the batch (rare, but legal in metadata) has no right order: the whole
    batch then goes up as one wave rather than not at all.
    """
    by_project: dict[str, list[T]] = {}
    for item in items:
        by_project.setdefault(item.project, []).append(item)
    graph: TopologicalSorter[str] = TopologicalSorter()
    for project, members in by_project.items():
        needs = set().union(*(member.dependencies() for member in members)) & by_project.keys()
        graph.add(project, *(needs - {project}))
    waves: list[list[T]] = []
    try:
        graph.prepare()
    except CycleError:
        return [list(items)]
    while graph.is_active():
        ready = sorted(graph.get_ready())
        waves.append([item for project in ready for item in by_project[project]])
        graph.done(*ready)
    return waves
