"""Collections: query parameters, paging and the list envelope (README §4).

Every collection takes ``PageNo`` (≥1), ``PageSize`` (1–1000), ``BeforeId`` and
``UpdatedSince`` plus its declared filters, matched case-insensitively; unknown parameters
are ignored and named back. Newest first (descending id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func
from sqlalchemy.orm import InstrumentedAttribute, Session

from cleverfox.server.kit.datetimes import parse_utc
from cleverfox.server.kit.errors import FieldError, InvalidParameter
from cleverfox.server.kit.wire import INT64_MAX, Kind, match_choice, read_bool, read_int

T = TypeVar("T")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class Filter:
    """A query filter of a collection: its wire name, type and choices."""

    name: str
    kind: Kind = Kind.INTEGER
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListQuery:
    page_no: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    before_id: int | None = None
    updated_since: datetime | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    def get(self, name: str) -> Any:
        return self.filters.get(name)


_PAGING = (
    Filter("PageNo"),
    Filter("PageSize"),
    Filter("BeforeId"),
    Filter("UpdatedSince", Kind.DATETIME_UTC),
)


def parse_list_query(params: Iterable[tuple[str, str]], filters: Sequence[Filter]) -> ListQuery:
    """Read the query string of a collection GET; raises ``InvalidParameter`` (400)."""
    known = {f.name.casefold(): f for f in (*_PAGING, *filters)}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    ignored: list[str] = []
    for key, raw in params:
        spec = known.get(key.casefold())
        if spec is None:
            ignored.append(key)
            continue
        try:
            values[spec.name] = _read_filter(spec, raw)
        except ValueError as exc:
            errors.append(FieldError(spec.name, "invalid_parameter", str(exc)))
    page_no = _default(values.pop("PageNo", None), 1)
    page_size = _default(values.pop("PageSize", None), DEFAULT_PAGE_SIZE)
    errors += _check_range("PageNo", page_no, 1, INT64_MAX)
    errors += _check_range("PageSize", page_size, 1, MAX_PAGE_SIZE)
    if errors:
        raise InvalidParameter(errors)
    return ListQuery(
        page_no=page_no,
        page_size=page_size,
        before_id=values.pop("BeforeId", None),
        updated_since=values.pop("UpdatedSince", None),
        filters={k: v for k, v in values.items() if v is not None},
        ignored=tuple(ignored),
    )


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _check_range(name: str, value: int, low: int, high: int) -> list[FieldError]:
    if low <= value <= high:
        return []
    return [FieldError(name, "out_of_range", f"{name} must be between {low} and {high}.")]


def _read_filter(spec: Filter, raw: str) -> Any:
    if raw == "":
        return None
    if spec.kind is Kind.INTEGER:
        number = read_int(raw)
        if number is None or abs(number) > INT64_MAX:
            raise ValueError(f"{spec.name} must be an integer.")
        return number
    if spec.kind is Kind.BOOLEAN:
        flag = read_bool(raw)
        if flag is None:
            raise ValueError(f"{spec.name} must be true or false.")
        return flag
    if spec.kind is Kind.DATETIME_UTC:
        try:
            return parse_utc(raw)
        except ValueError:
            raise ValueError(f"{spec.name} must be a date-time YYYY-MM-DDTHH:MM:SS.") from None
    if spec.kind is Kind.CHOICE:
        choice = match_choice(raw, spec.choices, spec.aliases)
        if choice is None:
            raise ValueError(f"{spec.name} must be one of: {', '.join(spec.choices)}.")
        return choice
    if "\x00" in raw:
        raise ValueError(f"{spec.name} must not contain NUL characters.")
    return raw


def page_of(
    session: Session,
    stmt: Select[T],
    id_column: InstrumentedAttribute[int],
    query: ListQuery,
    *,
    added_on: InstrumentedAttribute[datetime] | None = None,
    updated_on: InstrumentedAttribute[datetime | None] | None = None,
) -> tuple[list[T], bool]:
    """One page of ``stmt``, newest first, and whether more follow."""
    if query.before_id is not None:
        stmt = stmt.where(id_column < query.before_id)
    if query.updated_since is not None and added_on is not None:
        changed = func.coalesce(updated_on, added_on) if updated_on is not None else added_on
        stmt = stmt.where(changed >= query.updated_since)
    offset = (query.page_no - 1) * query.page_size
    if offset > INT64_MAX // 2:
        return [], False
    stmt = stmt.order_by(id_column.desc()).offset(offset).limit(query.page_size + 1)
    rows = list(session.scalars(stmt).unique().all())
    return rows[: query.page_size], len(rows) > query.page_size


def contains_pattern(text: str) -> str:
    """A LIKE pattern for a case-folded substring, with ``%``, ``_`` and ``\\`` escaped."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
