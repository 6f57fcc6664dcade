"""Applying a PUT's values to a model and describing the change for its Event."""

from __future__ import annotations

from typing import Any

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import change_pair
from cleverfox.server.kit.wire import WireSchema


def apply_changes(
    obj: Any, schema: WireSchema, values: dict[str, Any], *, touch: bool = True
) -> dict[str, list[Any]]:
    """Set ``values`` (field → value) on ``obj``; return ``{Attribute: [old, new]}``.

    Only values that differ count. When something changed and ``touch`` is true, UpdatedOn
    is set. A PUT that changes nothing returns ``{}`` and writes no Event.
    """
    by_field = {a.field: a for a in schema.attrs}
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old == new:
            continue
        setattr(obj, name, new)
        attr = by_field.get(name)
        changes[attr.name if attr else name] = change_pair(attr.name if attr else name, old, new)
    if changes and touch:
        obj.updated_on = utcnow()
    return changes
