"""A quick yes to "is this document valid against the policy JSON Schema?", so valid policies skip jsonschema.

Importing jsonschema and building its validator costs more than the rest of `gate policy validate`
(measured in `bench/typical_run.py`). This module interprets the few JSON Schema keywords the shipped
schema uses, with jsonschema's semantics, and answers only "valid" or "not sure". The loader runs
jsonschema whenever the answer is not "valid", so every error message still comes from jsonschema,
and a keyword this module does not know makes it unsure rather than lenient.
`tests/policy/test_schemacheck.py` checks it against jsonschema on generated documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_TYPES: Mapping[str, type | tuple[type, ...]] = {"object": dict, "array": list, "string": str}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
"""The pattern jsonschema's `date` format checker applies before `date.fromisoformat`."""


class _Unsure(Exception):
    """The schema uses something this checker does not interpret."""


def certainly_valid(instance: object, schema: Mapping[str, Any]) -> bool:
    """True only when `instance` is valid against `schema`; False when invalid or not known."""
    try:
        return _valid(instance, schema, schema)
    except _Unsure:
        return False


def _same(instance: object, value: object) -> bool:
    """jsonschema's `equal` for the scalar constants a schema names: True is not 1, 1.0 is 1."""
    if isinstance(value, str):
        return instance == value
    if isinstance(value, int) and not isinstance(value, bool):
        return isinstance(instance, int | float) and not isinstance(instance, bool) and instance == value
    raise _Unsure


def _valid(instance: object, schema: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "$ref":
            target = root.get("$defs", {}).get(value.removeprefix("#/$defs/")) if isinstance(value, str) else None
            if not isinstance(target, Mapping) or not value.startswith("#/$defs/"):
                raise _Unsure
            if not _valid(instance, target, root):
                return False
        elif keyword == "type":
            if value not in _TYPES:
                raise _Unsure
            if not isinstance(instance, _TYPES[value]):
                return False
        elif keyword == "const":
            if not _same(instance, value):
                return False
        elif keyword == "enum":
            if not any(_same(instance, each) for each in value):
                return False
        elif keyword == "required":
            if isinstance(instance, dict) and any(name not in instance for name in value):
                return False
        elif keyword == "properties":
            if isinstance(instance, dict) and not all(
                _valid(instance[name], sub, root) for name, sub in value.items() if name in instance
            ):
                return False
        elif keyword == "additionalProperties":
            if value is not False or "patternProperties" in schema:
                raise _Unsure
            if isinstance(instance, dict) and any(name not in schema.get("properties", {}) for name in instance):
                return False
        elif keyword == "items":
            if isinstance(instance, list) and not all(_valid(item, value, root) for item in instance):
                return False
        elif keyword == "minItems":
            if isinstance(instance, list) and len(instance) < value:
                return False
        elif keyword == "minLength":
            if isinstance(instance, str) and len(instance) < value:
                return False
        elif keyword == "pattern":
            if isinstance(instance, str) and not re.search(value, instance):
                return False
        elif keyword == "format":
            if value != "date":
                raise _Unsure
            if isinstance(instance, str) and not _is_date(instance):
                return False
        else:
            raise _Unsure
    return True


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
