from estate.common.registry import ServiceRegistry
from estate.inventory.retrying import with_retries


@with_retries(max_tries=3)
def billing_is_up():
    registry = ServiceRegistry.from_defaults()
    return any(service.name == "billing" for service in registry.healthy())
