"""The dependency graph of a plan's steps: cycles, ancestors, and the steps a selection needs.

Graphs are ``{step id: [ids it needs]}`` in plan order, so that results come out in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Graph = Mapping[str, Sequence[str]]


def find_cycles(needs: Graph) -> list[list[str]]:
    """Each cycle once, as ``[a, b, c, a]`` (a needs b needs c needs a), starting at its first step in plan order."""
    order = {node: position for position, node in enumerate(needs)}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for need in needs.get(node, ()):
            if state.get(need) == 1:
                loop = path[path.index(need) :]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    start = min(range(len(loop)), key=lambda i: order[loop[i]])
                    rotated = loop[start:] + loop[:start]
                    cycles.append([*rotated, rotated[0]])
            elif need not in state:
                visit(need, path)
        path.pop()
        state[node] = 2

    for node in needs:
        if node not in state:
            visit(node, [])
    return cycles


def ancestors(needs: Graph) -> dict[str, set[str]]:
    """Every step each step needs, directly or through others (the graph must have no cycle)."""
    found: dict[str, set[str]] = {}

    def of(node: str) -> set[str]:
        if node not in found:
            result: set[str] = set()
            for need in needs.get(node, ()):
                result.add(need)
                result |= of(need)
            found[node] = result
        return found[node]

    for node in needs:
        of(node)
    return found


def with_needs(needs: Graph, chosen: Iterable[str]) -> set[str]:
    """The chosen steps and everything they need."""
    every = ancestors(needs)
    selected = set(chosen)
    for node in list(selected):
        selected |= every[node]
    return selected
