"""Dependency waves inside one publish batch."""

from __future__ import annotations

from dataclasses import dataclass, field

from maestro_cli.publish.order import upload_waves


@dataclass(frozen=True)
class Item:
    project: str
    needs: frozenset[str] = field(default_factory=frozenset)
    kind: str = "wheel"

    def dependencies(self) -> set[str]:
        return set(self.needs)


def test_dependencies_come_in_earlier_waves_and_outside_names_are_ignored():
    app = Item("app", frozenset({"lib", "requests"}))
    lib_wheel, lib_sdist = Item("lib", frozenset({"core"})), Item("lib", frozenset({"core"}), "sdist")
    core, tool = Item("core"), Item("tool")
    waves = upload_waves([app, lib_wheel, core, lib_sdist, tool])
    assert waves == [[core, tool], [lib_wheel, lib_sdist], [app]]


def test_a_cycle_goes_up_as_one_wave_rather_than_not_at_all():
    ping, pong = Item("ping", frozenset({"pong"})), Item("pong", frozenset({"ping"}))
    assert upload_waves([ping, pong]) == [[ping, pong]]
