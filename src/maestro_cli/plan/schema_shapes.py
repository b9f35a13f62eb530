"""A plan's steps validated once per shape: 500 steps that differ only in their ids are one check.

A JSON Schema tells two values apart only through the keywords it uses: their types, lengths and
bounds, the patterns they match, the keys they have. Two steps that agree on all of that, value by
value, are valid or invalid together; so a document whose steps are reduced to one per such shape
is valid exactly when the whole document is. jsonschema took 45-80 ms for 500 steps, at the first
run of a plan; the shapes take a few.

Only the verdict comes from the reduced document: when it has a problem, the caller validates the
whole document, so that each message names its own step. A schema using a keyword this module does
not account for (uniqueItems, multipleOf, a $ref, if/then...) is never reduced.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Mapping
from typing import Any

# What a shape accounts for; any other keyword in an item's schema leaves the array as it is.
_SUPPORTED = frozenset(
    {
        "type", "properties", "additionalProperties", "patternProperties", "required", "propertyNames",
        "items", "minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "enum", "const",
        "oneOf", "anyOf", "allOf", "not",
        # annotations: they validate nothing (no format checker is given to jsonschema)
        "description", "title", "$comment", "examples", "default", "deprecated", "format",
    }
)  # fmt: skip
# The array's own keywords that a shorter list of the same shapes cannot change the verdict of:
# minItems can only fail on the reduced list, and then the whole document is validated anyway.
_ARRAY_KEYWORDS = frozenset({"type", "items", "minItems", "description", "title", "$comment"})


def reduced(instance: Any, schema: Mapping[str, Any]) -> Any | None:
    """``instance`` with each list property's items reduced to one per shape ``schema`` tells
    apart; None when nothing was reduced."""
    if not isinstance(instance, dict):
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return None
    smaller = dict(instance)
    for name, items in instance.items():
        array = properties.get(name)
        if not (isinstance(items, list) and len(items) > 1 and isinstance(array, dict) and set(array) <= _ARRAY_KEYWORDS):
            continue
        shape = _shape_function(array.get("items"))
        if shape is not None:
            one_per_shape: dict[Hashable, Any] = {}
            for item in items:
                one_per_shape.setdefault(shape(item), item)
            smaller[name] = list(one_per_shape.values())
    return None if all(smaller[name] is instance[name] for name in instance) else smaller


def _shape_function(schema: Any) -> Callable[[Any], Hashable] | None:
    """The shape of a value as ``schema`` sees it, or None when the schema uses a keyword unaccounted for."""
    patterns: list[re.Pattern[str]] = []
    bounds: list[float] = []
    lengths: list[int] = []
    exact = False  # enum or const: equal values only share a shape

    def collect(node: Any) -> bool:
        nonlocal exact
        if isinstance(node, list):
            return all(collect(item) for item in node)
        if not isinstance(node, dict):
            return True
        if not set(node) <= _SUPPORTED:
            return False
        for keyword, value in node.items():
            if keyword == "pattern" and isinstance(value, str):
                patterns.append(re.compile(value))
            elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") and isinstance(value, int | float):
                bounds.append(value)
            elif keyword in ("minLength", "maxLength") and isinstance(value, int):
                lengths.append(value)
            elif keyword in ("enum", "const"):
                exact = True
            elif keyword in ("properties", "patternProperties") and isinstance(value, dict):
                if not all(collect(sub) for sub in value.values()):
                    return False
            elif keyword in ("additionalProperties", "items", "propertyNames", "not", "oneOf", "anyOf", "allOf") and not collect(value):
                return False
        return True

    if not isinstance(schema, dict) or not collect(schema):
        return None
    longest = max(lengths, default=0) + 1  # lengths past every bound compare alike

    def shape(value: Any) -> Hashable:
        # keys are kept as they are: they are what properties, required and patterns look at
        if isinstance(value, dict):
            return ("object", tuple((key, shape(item)) for key, item in value.items()))
        if isinstance(value, list):
            return ("array", tuple(shape(item) for item in value))
        if isinstance(value, str):
            found = tuple(pattern.search(value) is not None for pattern in patterns)
            return ("string", min(len(value), longest), found, value if exact else None)
        if value is None or isinstance(value, bool):
            return ("constant", value)
        if isinstance(value, int | float):
            if isinstance(value, float) and math.isnan(value):
                return ("nan",)
            compared = tuple((value > bound) - (value < bound) for bound in bounds)
            whole = isinstance(value, int) or value.is_integer()  # JSON Schema's integer takes 2.0
            return ("number", isinstance(value, float), whole, compared, value if exact else None)
        return ("other", id(value))  # a YAML date and such: never shares a shape

    return shape
