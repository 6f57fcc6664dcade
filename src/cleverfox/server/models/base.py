"""Declarative base and the column types every table shares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cleverfox.server.kit.datetimes import utcnow

# SQLite only autoincrements a true INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
IdType = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = Annotated[int, mapped_column(IdType, primary_key=True, autoincrement=True)]
Str25 = Annotated[str | None, mapped_column(String(25))]
Str50 = Annotated[str | None, mapped_column(String(50))]
Str100 = Annotated[str | None, mapped_column(String(100))]
UtcTime = Annotated[datetime, mapped_column(DateTime(), default=utcnow)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {int: BigInteger().with_variant(Integer(), "sqlite")}


class Timestamps:
    """``AddedOn`` / ``UpdatedOn`` (``None`` until the first change)."""

    added_on: Mapped[UtcTime]
    updated_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
