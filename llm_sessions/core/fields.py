"""One field of a decoded JSON object, read with the type the caller expects.

Every field of another program's file is optional and may hold anything (formats.md): a
value of the wrong type is treated as absent, never trusted and never fatal. These helpers
say that once, and give the type checker the narrowed type the caller then relies on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload


def dict_at(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`obj[key]` when it is an object, else an empty one."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def list_at(obj: Mapping[str, Any], key: str) -> list[Any]:
    """`obj[key]` when it is an array, else an empty one."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


@overload
def str_at(obj: Mapping[str, Any], key: str) -> str | None: ...
@overload
def str_at(obj: Mapping[str, Any], key: str, default: str) -> str: ...
def str_at(obj: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    """`obj[key]` when it is a string, else `default`."""
    value = obj.get(key)
    return value if isinstance(value, str) else default


__all__ = ["dict_at", "list_at", "str_at"]
