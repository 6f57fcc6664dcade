"""Helpers for writing objects on the wire (PascalCase lives in each ``schemas.py``)."""

from __future__ import annotations

from typing import Any, Protocol

from cleverfox.server.kit.datetimes import format_datetime


class Stamped(Protocol):
    added_on: Any
    updated_on: Any


def stamped(data: dict[str, Any], obj: Stamped) -> dict[str, Any]:
    """Add ``AddedOn``, ``UpdatedOn`` and ``"Token": null`` (Tokens are never echoed)."""
    data["AddedOn"] = format_datetime(obj.added_on)
    data["UpdatedOn"] = format_datetime(obj.updated_on)
    data["Token"] = None
    return data
