"""maestro: carve packages out of legacy Python repos, publish them, run test plans, report."""

__version__ = "0.1.0"
