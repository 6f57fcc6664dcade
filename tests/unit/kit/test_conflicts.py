"""The table of unique constraints and their 409s (``kit.conflicts``), built by the app
factory from what each package declares (``app.DECLARED_CONFLICTS``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from cleverfox.server import migrate
from cleverfox.server.app import DECLARED_CONFLICTS
from cleverfox.server.kit.conflicts import Conflicts, UniqueConflict
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Company
from cleverfox.server.models.base import Base
from cleverfox.server.partners import operator


def _unique_names() -> set[str]:
    """Every unique constraint and unique index of the schema, by name, and each unique
    index also by the name SQLite reports for it (its columns: ``uq_<table>_<columns>``)."""
    names: set[str] = set()
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and isinstance(constraint.name, str):
                names.add(constraint.name)
        for index in table.indexes:
            if isinstance(index, Index) and index.unique and isinstance(index.name, str):
                names.add(index.name)
                names.add(f"uq_{table.name}_" + "_".join(c.name for c in index.columns))
    return names


def test_every_declared_conflict_names_a_unique_constraint_of_the_schema() -> None:
    """A typo in a declaration would leave its race a 500."""
    declared = Conflicts(DECLARED_CONFLICTS).constraints
    assert declared and declared <= _unique_names(), declared - _unique_names()


def test_one_constraint_cannot_mean_two_conflicts() -> None:
    first = UniqueConflict("uq_t_a", "a_taken", "A is taken.")
    assert Conflicts([first, first]).constraints == {"uq_t_a"}
    with pytest.raises(ValueError, match="uq_t_a"):
        Conflicts([first, UniqueConflict("uq_t_a", "other", "Other.")])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'conflicts.db'}", pool_size=1)
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


def _violation(db: Database, external_id: str | None, name: str = "Twin") -> IntegrityError:
    """The error of adding a second company with ``external_id`` (and ``name``) to a partner."""
    with db.writing() as session:
        made = operator.create_partner(session, ServerSecret(os.urandom(32)), "P")

    def add_twins() -> None:
        with db.writing() as session:
            for _ in range(2):
                session.add(
                    Company(
                        partner_id=made.partner_id,
                        plan_type_id=1,
                        name=name,
                        name_folded=name.casefold(),
                        external_id=external_id,
                    )
                )
                session.flush()

    with pytest.raises(IntegrityError) as caught:
        add_twins()
    return caught.value


def test_a_declared_violation_is_its_409(database: Database) -> None:
    conflict = Conflicts(DECLARED_CONFLICTS).translate(_violation(database, "x-1"))
    assert conflict is not None
    assert (conflict.status, conflict.code) == (409, "external_id_taken")


def test_an_undeclared_violation_is_left_a_bug(database: Database) -> None:
    assert Conflicts(()).translate(_violation(database, "x-1")) is None
