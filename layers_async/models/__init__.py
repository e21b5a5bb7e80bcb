"""Response models: frozen, slotted attrs classes, one module per resource."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JSON"]

#: A JSON value, as the API sends and accepts it (objects are `dict`s with string keys).
JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
