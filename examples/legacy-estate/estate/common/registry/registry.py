"""Services by name, loaded from the bundled defaults or registered at run time."""

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

from .health import check_health

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Service:
    name: str
    url: str
    health_path: str = "/health"
    tags: list = field(default_factory=list)

    @property
    def health_url(self):
        return self.url.rstrip("/") + self.health_path


class ServiceRegistry:
    def __init__(self, services=()):
        self._services = {s.name: s for s in services}

    @classmethod
    def from_defaults(cls):
        text = resources.files(__package__).joinpath("data/services.json").read_text(encoding="utf-8")
        return cls(Service(**entry) for entry in json.loads(text))

    def register(self, service):
        self._services[service.name] = service

    def deregister(self, name):
        self._services.pop(name, None)

    def get(self, name):
        return self._services[name]

    def __iter__(self) -> "Iterator[Service]":
        return iter(self._services.values())

    def healthy(self, timeout=2.0):
        return [s for s in self if check_health(s.health_url, timeout=timeout)]
