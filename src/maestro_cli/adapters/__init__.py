"""Adapters run one step of a test plan: shell, pytest, http, playwright, selenium and plugins.

The contract is in :mod:`maestro_cli.adapters.base`; adapters are found through the
``maestro.adapters`` entry-point group, which maestro's built-ins use too.
"""
