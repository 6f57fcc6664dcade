"""Unique constraints of the schema mapped to 409 codes, for both engines.

Services validate first; a uniqueness race that slips past them ends at the database's
constraint and is translated here, so it is a 409 and never a 500.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from cleverfox.server.kit.errors import Conflict

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")

_CONFLICTS: dict[str, tuple[str, str]] = {}


def register_conflict(constraint: str, code: str, message: str) -> None:
    """Say which 409 a unique constraint (named by the naming convention) means."""
    _CONFLICTS[constraint] = (code, message)


def translate_integrity_error(exc: IntegrityError) -> Conflict | None:
    """The Conflict a unique violation means, or ``None`` for an unexpected one (a bug)."""
    name = _constraint_name(exc)
    if name is None or name not in _CONFLICTS:
        return None
    code, message = _CONFLICTS[name]
    return Conflict(message, code=code)


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return str(diag.constraint_name)
    match = _SQLITE_UNIQUE.search(str(exc.orig))
    if not match:
        return None
    columns = [c.strip() for c in match.group(1).split(",")]
    table = columns[0].split(".")[0]
    return "uq_" + table + "_" + "_".join(c.split(".")[1] for c in columns)
