"""Unique constraints of the schema mapped to 409 codes, for both engines.

Services validate first; a uniqueness race that slips past them ends at the database's
constraint and is translated here, so it is a 409 and never a 500. Each resource package
declares the constraints it relies on as ``UniqueConflict``s; the app factory gathers them
into one ``Conflicts`` table (``Services.conflicts``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from cleverfox.server.kit.errors import Conflict

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")


@dataclass(frozen=True)
class UniqueConflict:
    """What a violation of one unique constraint means: its 409 ``code`` and ``message``.

    ``constraint`` is the name the naming convention gives it (``uq_<table>_<columns>``); for
    a unique index, SQLite reports the columns instead, which read as that same form.
    """

    constraint: str
    code: str
    message: str


class Conflicts:
    """The 409 each declared unique constraint means; a violation of any other one is a bug."""

    def __init__(self, declared: Iterable[UniqueConflict]) -> None:
        self._by_constraint: dict[str, UniqueConflict] = {}
        for conflict in declared:
            known = self._by_constraint.setdefault(conflict.constraint, conflict)
            if known != conflict:
                raise ValueError(f"{conflict.constraint} is declared with two meanings")

    @property
    def constraints(self) -> frozenset[str]:
        """The names of the declared constraints."""
        return frozenset(self._by_constraint)

    def translate(self, exc: IntegrityError) -> Conflict | None:
        """The Conflict a unique violation means, or ``None`` for an undeclared one (a bug)."""
        name = _constraint_name(exc)
        conflict = None if name is None else self._by_constraint.get(name)
        if conflict is None:
            return None
        return Conflict(conflict.message, code=conflict.code)


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
