"""A registry of the estate's services, with HTTP health checks."""

from .health import check_health
from .registry import Service, ServiceRegistry

__all__ = ["Service", "ServiceRegistry", "check_health"]
