"""Collections: query parameters, paging and the list envelope (README §4).

Every collection takes ``PageNo`` (≥1), ``PageSize`` (1–1000), ``BeforeId`` and
``UpdatedSince`` plus its declared filters, matched case-insensitively; unknown parameters
are ignored and named back. Newest first (descending id), paged by one ``Paging`` of each
collection whether its repository reads ORM objects (``page_of``) or Core rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, bindparam, func
from sqlalchemy.orm import Session

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


# Paging. Every collection pages the same way, on the ORM or on Core rows: newest first by id,
# ``BeforeId`` and ``UpdatedSince`` as conditions, ``PageNo`` and ``PageSize`` as OFFSET and
# LIMIT, one row more than the page to tell whether more follow. Each is a bound parameter,
# so a statement built once (``logs.repository`` builds one per combination of filters)
# serves every page; the names below are the parameters' names.
BEFORE_ID = "before_id"
CHANGED_SINCE = "changed_since"
OFFSET = "offset"
LIMIT = "limit"
# Past this, OFFSET + LIMIT could leave the 64-bit integers the databases count rows in; no
# table holds that many rows, so such a page is empty without asking.
MAX_OFFSET = INT64_MAX // 2

R = TypeVar("R")
Window = dict[str, Any]
"""The bound values of one page (``Paging.window``), by parameter name."""


@dataclass(frozen=True)
class Paging:
    """How a collection is paged: newest first by ``id_column``; ``UpdatedSince`` compares
    ``changed_on`` with the query's date-time (inclusive), or does not apply when ``None``.

    Build one with ``newest_first``, once per collection; Core columns and ORM attributes
    both serve.
    """

    id_column: SQLColumnExpression[int]
    changed_on: SQLColumnExpression[datetime] | None = None

    def window(self, query: ListQuery) -> Window | None:
        """The bound values of the page ``query`` asks for: ``offset`` and ``limit`` (one
        row more than ``PageSize``), with ``before_id`` and ``changed_since`` when the query
        sets them and they apply; ``None`` when the page starts past ``MAX_OFFSET``, where
        no row can be."""
        offset = (query.page_no - 1) * query.page_size
        if offset > MAX_OFFSET:
            return None
        window: Window = {OFFSET: offset, LIMIT: query.page_size + 1}
        if query.before_id is not None:
            window[BEFORE_ID] = query.before_id
        if query.updated_since is not None and self.changed_on is not None:
            window[CHANGED_SINCE] = query.updated_since
        return window

    def apply(self, stmt: Select[T], names: Collection[str]) -> Select[T]:
        """``stmt`` paged for a window with the parameters ``names`` (a ``window``'s keys,
        possibly among others): the BeforeId and UpdatedSince conditions of those present,
        newest first, OFFSET and LIMIT — all bound, to be given at execution."""
        if BEFORE_ID in names:
            stmt = stmt.where(self.id_column < bindparam(BEFORE_ID))
        if CHANGED_SINCE in names and self.changed_on is not None:
            stmt = stmt.where(self.changed_on >= bindparam(CHANGED_SINCE))
        stmt = stmt.order_by(self.id_column.desc())
        return stmt.offset(bindparam(OFFSET)).limit(bindparam(LIMIT))

    def page(
        self, query: ListQuery, fetch: Callable[[Window], Sequence[R]]
    ) -> tuple[list[R], bool]:
        """The page ``query`` asks for and whether more follow. ``fetch(window)`` runs the
        statement ``apply`` made for ``window`` with its values and returns the rows; it is
        not called for a page past ``MAX_OFFSET``."""
        window = self.window(query)
        if window is None:
            return [], False
        rows = fetch(window)
        return list(rows[: query.page_size]), len(rows) > query.page_size


def newest_first(
    id_column: SQLColumnExpression[int],
    *,
    added_on: SQLColumnExpression[datetime] | None = None,
    updated_on: SQLColumnExpression[datetime | None] | None = None,
) -> Paging:
    """The paging of a collection whose objects have these columns: ``UpdatedSince`` is on
    ``updated_on``, or ``added_on`` for an object never updated; on ``added_on`` alone when
    the objects are never updated; not applied without ``added_on``."""
    changed_on: SQLColumnExpression[datetime] | None = added_on
    if added_on is not None and updated_on is not None:
        changed_on = func.coalesce(updated_on, added_on)
    return Paging(id_column, changed_on)


def page_of(
    session: Session, stmt: Select[T], paging: Paging, query: ListQuery
) -> tuple[list[T], bool]:
    """One page of ORM objects of ``stmt`` (``paging``), and whether more follow."""

    def fetch(window: Window) -> Sequence[T]:
        return session.scalars(paging.apply(stmt, window), window).unique().all()

    return paging.page(query, fetch)


def contains_pattern(text: str) -> str:
    """A LIKE pattern for a case-folded substring, with ``%``, ``_`` and ``\\`` escaped."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
