"""YAML configuration with the billing service's defaults underneath."""

import os

import yaml

from estate.billing.settings import DEFAULTS


def load_config(path, environ=None):
    environ = os.environ if environ is None else environ
    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream) or {}
    merged = {**DEFAULTS, **data}
    for key in merged:
        override = environ.get(f"ESTATE_{key.upper()}")
        if override is not None:
            merged[key] = override
    return merged
