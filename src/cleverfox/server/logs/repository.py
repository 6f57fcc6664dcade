"""SQL of Logs and Log Items for the read API: Core rows in wire order, and the embedded objects.

No ORM objects: a Log's or Log Item's row is its wire shape (``schemas.LOG_WIRE``,
``LOG_ITEM_WIRE``) in order, date-times already written as the wire's text, for the presenter
to zip with the wire names; the embedded objects come one statement per kind, as rows of
their tables for their packages' ``*_row_out``. A page's statements run on one connection:
a read transaction's (``Database.connection_snapshot``) or, after a run call's write, the
writing session's.

List queries are shaped for the indexes of ``models.logs``: newest first by id, with the
most selective filter leading. When a DeviceId, JobId or CompanyId filter is present, the
partner condition is written ``partner_id + 0 = …`` on SQLite, so that its planner (which
has no statistics: nothing runs ``ANALYZE``) does not walk the partner's whole
``(partner_id, id)`` index instead of the ``(device_id, id)``, ``(job_id, id)`` or
``(company_id, job_status, id)`` one. PostgreSQL gets the plain condition: its statistics
already steer it to the narrower index, and ``+ 0`` would blind its row estimate (an
expression gets a default 0.5% selectivity), so that it read every matching Log of the
device or company in a bitmap scan and sorted them, instead of walking the index backwards
for one page (docs/benchmarks.md, Logs: 7–16 ms and growing with the history, against
0.1–0.2 ms, at 1,000,000 Logs).

Each list statement is built once per combination of the filters present (their values are
parameters): building a SELECT of 40 columns and its cache key cost more than a tenth of a
page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Dialect,
    Row,
    Select,
    String,
    TypeDecorator,
    any_,
    bindparam,
    func,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from cleverfox.server.companies import repository as companies
from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.listing import ListQuery, Paging, Window, newest_first
from cleverfox.server.logs.schemas import LOG_ITEM_WIRE, LOG_WIRE, RUNNING, position
from cleverfox.server.models import (
    Company,
    Device,
    Job,
    Log,
    LogItem,
    Plan,
    Subscription,
)

Params = dict[str, Any]


class _WireText(TypeDecorator[str]):
    """The wire's text of a stored date-time, ``YYYY-MM-DDTHH:MM:SS.fff``: what
    ``kit.datetimes.format_datetime`` writes of the ``datetime`` read otherwise (a page of
    100 Logs holds ~1,100 date-times; read as ``datetime`` and written again in Python, they
    cost as much as the page's SELECTs). The result type of ``_WireDateTime``.

    SQLite holds the text SQLAlchemy stores, ``YYYY-MM-DD HH:MM:SS.ffffff``, which is cut
    here; any other text (only a row written by hand could hold one) goes the long way.
    """

    impl = String
    cache_ok = True

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], str | None] | None:
        if dialect.name != "sqlite":
            return None  # written by the database already
        parse = DateTime().dialect_impl(dialect).result_processor(dialect, coltype)
        assert parse is not None

        def written(stored: str | None) -> str | None:
            if stored is None:
                return None
            if len(stored) == 26 and stored[10] == " ":
                return f"{stored[:10]}T{stored[11:23]}"
            return format_datetime(parse(stored))

        return written


class _WireDateTime(FunctionElement[str]):
    """A date-time column read as its wire text (``_WireText``): on PostgreSQL written by
    the database (``to_char``; ``MS`` truncates, as ``format_datetime`` does), on SQLite
    the stored text, cut in Python (cheaper there than SQLite's string functions)."""

    type = _WireText()
    name = "wire_datetime"
    inherit_cache = True


@compiles(_WireDateTime, "sqlite")
def _stored_text(element: _WireDateTime, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_WireDateTime, "postgresql")
def _to_char(element: _WireDateTime, compiler: SQLCompiler, **kw: Any) -> str:
    return f"""to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')"""


def _id_in(column: ColumnElement[int], postgresql: bool) -> ColumnElement[bool]:
    """``column`` among the list parameter ``ids``: ``= ANY(:ids)`` on PostgreSQL, one array
    and one statement text however many ids (the driver parses and prepares it once; an
    ``IN`` of 100 parameters cost it half a millisecond a page); an expanding ``IN`` on
    SQLite."""
    if postgresql:
        return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    return column.in_(bindparam("ids", expanding=True))


def _for_each_engine(build: Callable[[bool], Select[Any]]) -> dict[bool, Select[Any]]:
    """``build(postgresql)`` for both engines, by ``postgresql``."""
    return {postgresql: build(postgresql) for postgresql in (False, True)}


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


_logs = Log.__table__
_items = LogItem.__table__
_companies = Company.__table__
_devices = Device.__table__
_jobs = Job.__table__
_subscriptions = Subscription.__table__
_plans = Plan.__table__


def _wire_columns(table: Any, wire: tuple[tuple[str, str | None], ...]) -> list[Any]:
    """The SELECT list of a wire shape: each attribute's column, NULL where it has none."""
    columns = []
    for name, key in wire:
        if key is None:
            columns.append(null().label(name.lower()))
            continue
        column = table.c[key]
        if isinstance(column.type, DateTime):
            column = _WireDateTime(column).label(key)
        columns.append(column)
    return columns


_LOG_ROWS = select(*_wire_columns(_logs, LOG_WIRE))
_ITEM_ROWS = select(*_wire_columns(_items, LOG_ITEM_WIRE))
_ONE_LOG = _LOG_ROWS.where(
    _logs.c.id == bindparam("log_id"), _logs.c.partner_id == bindparam("partner_id")
)
_ONE_ITEM = _ITEM_ROWS.where(
    _items.c.id == bindparam("item_id"), _items.c.partner_id == bindparam("partner_id")
)
_ITEMS_OF_LOGS = _for_each_engine(
    lambda postgresql: _ITEM_ROWS.where(_id_in(_items.c.log_id, postgresql)).order_by(
        _items.c.log_id, _items.c.id
    )
)
_ITEM_LOG_ID = position(LOG_ITEM_WIRE, "log_id")
_LOG_PAGING = newest_first(_logs.c.id, added_on=_logs.c.added_on, updated_on=_logs.c.updated_on)
_ITEM_PAGING = newest_first(_items.c.id, added_on=_items.c.added_on)  # never updated


def log_row(connection: Connection, partner_id: int, log_id: int) -> Row[Any] | None:
    """One of the partner's Logs (Running ones too) as a row of ``LOG_WIRE``."""
    return connection.execute(_ONE_LOG, {"log_id": log_id, "partner_id": partner_id}).first()


def log_rows(
    connection: Connection, partner_id: int, query: ListQuery
) -> tuple[list[Row[Any]], bool]:
    """A page of the partner's Logs as rows of ``LOG_WIRE``, newest first, and whether more
    follow; Running ones only with JobStatus=Running or IncludeRunning=true."""
    params: Params = {"partner_id": partner_id}
    for name, key in (
        ("DeviceId", "device_id"),
        ("JobId", "job_id"),
        ("CompanyId", "company_id"),
        ("JobStatus", "job_status"),
        ("Since", "since"),
        ("Until", "until"),
    ):
        if (value := query.get(name)) is not None:
            params[key] = value
    if "job_status" not in params and not query.get("IncludeRunning"):
        params["other_than"] = RUNNING
    return _page(connection, _LOG_PAGING, _log_page, params, query)


def _log_page(sqlite: bool, names: frozenset[str]) -> Select[Any]:
    """The statement of ``log_rows`` for the parameters ``names``."""
    logs = _logs.c
    narrowed = bool(names & {"device_id", "job_id", "company_id"})
    where = [_partner_is(logs.partner_id, sqlite and narrowed)]
    where += [
        condition
        for key, condition in (
            ("device_id", logs.device_id == bindparam("device_id")),
            ("job_id", logs.job_id == bindparam("job_id")),
            ("company_id", logs.company_id == bindparam("company_id")),
            ("job_status", logs.job_status == bindparam("job_status")),
            ("other_than", logs.job_status != bindparam("other_than")),
            ("since", logs.added_on >= bindparam("since")),
            ("until", logs.added_on <= bindparam("until")),
        )
        if key in names
    ]
    return _LOG_PAGING.apply(_LOG_ROWS.where(*where), names)


def item_rows_of(connection: Connection, log_ids: Iterable[int]) -> dict[int, list[Row[Any]]]:
    """The Log Items of the given logs as rows of ``LOG_ITEM_WIRE``, by log id, oldest first."""
    wanted = sorted(set(log_ids))
    found: dict[int, list[Row[Any]]] = {log_id: [] for log_id in wanted}
    if wanted:
        stmt = _ITEMS_OF_LOGS[_is_postgresql(connection)]
        for row in connection.execute(stmt, {"ids": wanted}).all():
            found[row[_ITEM_LOG_ID]].append(row)
    return found


def log_item_row(connection: Connection, partner_id: int, item_id: int) -> Row[Any] | None:
    """One of the partner's Log Items as a row of ``LOG_ITEM_WIRE``."""
    return connection.execute(_ONE_ITEM, {"item_id": item_id, "partner_id": partner_id}).first()


def log_item_rows(
    connection: Connection, partner_id: int, query: ListQuery
) -> tuple[list[Row[Any]], bool]:
    """A page of the partner's Log Items as rows of ``LOG_ITEM_WIRE``, newest first."""
    params: Params = {"partner_id": partner_id}
    for name, key in (
        ("LogId", "log_id"),
        ("JobItemId", "job_item_id"),
        ("JobId", "job_id"),
        ("DeviceId", "device_id"),
        ("CompanyId", "company_id"),
    ):
        if (value := query.get(name)) is not None:
            params[key] = value
    return _page(connection, _ITEM_PAGING, _item_page, params, query)


def _item_page(sqlite: bool, names: frozenset[str]) -> Select[Any]:
    """The statement of ``log_item_rows`` for the parameters ``names``."""
    items = _items.c
    narrowed = bool(names & {"log_id", "device_id", "job_id", "company_id"})
    where = [_partner_is(items.partner_id, sqlite and narrowed)]
    where += [
        items[key] == bindparam(key)
        for key in ("log_id", "job_item_id", "job_id", "device_id", "company_id")
        if key in names
    ]
    return _ITEM_PAGING.apply(_ITEM_ROWS.where(*where), names)


def _partner_is(column: ColumnElement[int], off_its_index: bool) -> ColumnElement[bool]:
    """The partner condition; ``partner_id + 0`` keeps SQLite off the partner's index when
    a narrower filter is present (see the module's docstring)."""
    return ((column + 0) if off_its_index else column) == bindparam("partner_id")


def _page(
    connection: Connection,
    paging: Paging,
    build: Callable[[bool, frozenset[str]], Select[Any]],
    params: Params,
    query: ListQuery,
) -> tuple[list[Row[Any]], bool]:
    """One page (``paging``) of the statement ``build`` makes for the parameters present:
    the filters' ``params`` and the page's window."""
    sqlite = connection.dialect.name == "sqlite"

    def fetch(window: Window) -> Sequence[Row[Any]]:
        values = {**params, **window}
        return connection.execute(_built(build, sqlite, frozenset(values)), values).all()

    return paging.page(query, fetch)


@functools.cache
def _built(
    build: Callable[[bool, frozenset[str]], Select[Any]], sqlite: bool, names: frozenset[str]
) -> Select[Any]:
    """``build``'s statement for one combination of filters, made once (a few hundred at
    most: each filter is there or not)."""
    return build(sqlite, names)


# The embedded objects, as rows of their tables for their packages' ``*_row_out``: a
# deleted one is simply not found. Only the partner's own (the Log keeps plain ids).


def _device_count(of: ColumnElement[bool]) -> Any:
    """``device_count``: how many devices meet ``of`` (a correlated subquery)."""
    return select(func.count()).where(of).scalar_subquery().label("device_count")


_COMPANIES = _for_each_engine(  # the rows of ``companies.schemas.company_row_out``
    lambda postgresql: companies.ROWS.where(_id_in(_companies.c.id, postgresql))
)
_DEVICES = _for_each_engine(
    lambda postgresql: select(_devices).where(
        _id_in(_devices.c.id, postgresql), _devices.c.partner_id == bindparam("partner_id")
    )
)
_JOBS = _for_each_engine(
    lambda postgresql: select(_jobs).where(
        _id_in(_jobs.c.id, postgresql), _jobs.c.partner_id == bindparam("partner_id")
    )
)
_SUBSCRIPTIONS = _for_each_engine(
    lambda postgresql: select(
        _subscriptions, _device_count(_devices.c.subscription_id == _subscriptions.c.id)
    ).where(
        _id_in(_subscriptions.c.id, postgresql),
        _subscriptions.c.partner_id == bindparam("partner_id"),
    )
)
_PLANS = _for_each_engine(lambda postgresql: select(_plans).where(_id_in(_plans.c.id, postgresql)))


def company_rows(
    connection: Connection, partner_id: int, ids: Iterable[int]
) -> list[dict[str, Any]]:
    """The partner's companies among ``ids``, with their Partner, PlanType and DeviceCount."""
    return _rows(connection, _COMPANIES, ids, partner_id=partner_id)


def device_rows(
    connection: Connection, partner_id: int, ids: Iterable[int]
) -> list[dict[str, Any]]:
    return _rows(connection, _DEVICES, ids, partner_id=partner_id)


def job_rows(connection: Connection, partner_id: int, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _rows(connection, _JOBS, ids, partner_id=partner_id)


def subscription_rows(
    connection: Connection, partner_id: int, ids: Iterable[int]
) -> list[dict[str, Any]]:
    """The partner's subscriptions among ``ids``, with their DeviceCount."""
    return _rows(connection, _SUBSCRIPTIONS, ids, partner_id=partner_id)


def plan_rows(connection: Connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    return _rows(connection, _PLANS, ids)


def _rows(
    connection: Connection, stmts: dict[bool, Select[Any]], ids: Iterable[int], **params: Any
) -> list[dict[str, Any]]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    result = connection.execute(stmts[_is_postgresql(connection)], {"ids": wanted, **params})
    return [dict(row) for row in result.mappings().all()]
