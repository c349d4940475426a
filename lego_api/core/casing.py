"""camelCase <-> snake_case key conversion for JSON in and out (SPEC §1.4: the mapping is mechanical)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def to_camel(name: str) -> str:
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@lru_cache(maxsize=4096)
def to_snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower() if any(c.isupper() for c in name) else name


def camelize(value: Any) -> Any:
    """Convert every dict key of a JSON-like value to camelCase (values are left alone)."""
    if isinstance(value, dict):
        return {to_camel(k) if isinstance(k, str) else k: camelize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [camelize(v) for v in value]
    return value


def underscoreize(value: Any) -> Any:
    """Convert every dict key of parsed JSON input to snake_case."""
    if isinstance(value, dict):
        return {to_snake(k) if isinstance(k, str) else k: underscoreize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [underscoreize(v) for v in value]
    return value
