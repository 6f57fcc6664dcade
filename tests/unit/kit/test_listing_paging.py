"""Paging (README §4) as ``kit.listing.Paging`` does it for every collection, ORM and Core.

Newest first by id; ``BeforeId`` keeps ids below it; ``UpdatedSince`` is inclusive on
UpdatedOn, or AddedOn for a row never updated; ``PageNo``/``PageSize`` choose the page, one
past the end is empty, and ``has_more`` says whether a row follows the page. A PageNo whose
offset no table can reach (up to INT64 × 1000) answers an empty page without asking the
database. Each case runs on a real database — SQLite, and the run's PostgreSQL database
when there is one — through an ORM session and a Core connection, against a model of the
rule written in Python.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import BigInteger, DateTime, Engine, Table, create_engine, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from cleverfox.server.kit.listing import (
    MAX_OFFSET,
    ListQuery,
    Paging,
    Window,
    newest_first,
    page_of,
)
from cleverfox.server.kit.wire import INT64_MAX

T0 = datetime(2024, 1, 1)
ROWS = 23  # ids 1..23, added an hour apart; every third one updated a day after its add


class _Base(DeclarativeBase):
    pass


class Probe(_Base):
    __tablename__ = f"paging_probe_{secrets.token_hex(4)}"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    added_on: Mapped[datetime] = mapped_column(DateTime())
    updated_on: Mapped[datetime | None] = mapped_column(DateTime())


PROBES: Table = Probe.__table__  # type: ignore[assignment]


def added(row_id: int) -> datetime:
    return T0 + timedelta(hours=row_id)


def updated(row_id: int) -> datetime | None:
    return added(row_id) + timedelta(days=1) if row_id % 3 == 0 else None


def paging_of(changed: str, *, core: bool = False) -> Paging:
    """The probes' paging by Core columns or ORM attributes: UpdatedSince on UpdatedOn or
    AddedOn (``both``), on AddedOn alone (``added``), or not at all (``none``)."""
    id_column, added_on, updated_on = (
        (PROBES.c.id, PROBES.c.added_on, PROBES.c.updated_on)
        if core
        else (Probe.id, Probe.added_on, Probe.updated_on)
    )
    if changed == "none":
        return newest_first(id_column)
    if changed == "added":
        return newest_first(id_column, added_on=added_on)
    return newest_first(id_column, added_on=added_on, updated_on=updated_on)


PAGING = paging_of("both")


@dataclass(frozen=True)
class Reader:
    """One way of reading a page: ``read(query, changed)`` → (ids, has_more)."""

    name: str
    read: Callable[..., tuple[list[int], bool]]


@pytest.fixture(scope="module")
def engine(database_url: str | None) -> Iterator[Engine]:
    url = "sqlite://"
    if database_url is not None:
        url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    made = create_engine(url)
    _Base.metadata.create_all(made)
    with made.begin() as connection:
        connection.execute(
            insert(PROBES),
            [{"id": n, "added_on": added(n), "updated_on": updated(n)} for n in range(1, ROWS + 1)],
        )
    yield made
    _Base.metadata.drop_all(made)
    made.dispose()


@pytest.fixture(scope="module", params=["orm", "core"])
def reader(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Reader]:
    """A page of probes through an ORM session (``page_of``) or a Core connection."""
    if request.param == "orm":
        with Session(engine) as session:

            def orm(query: ListQuery, changed: str = "both") -> tuple[list[int], bool]:
                probes, more = page_of(session, select(Probe), paging_of(changed), query)
                return [probe.id for probe in probes], more

            yield Reader("orm", orm)
        return
    with engine.connect() as connection:

        def core(query: ListQuery, changed: str = "both") -> tuple[list[int], bool]:
            paging = paging_of(changed, core=True)

            def fetch(window: Window) -> Sequence[Any]:
                return connection.execute(paging.apply(select(PROBES.c.id), window), window).all()

            rows, more = paging.page(query, fetch)
            return [row.id for row in rows], more

        yield Reader("core", core)


def changed_on(row_id: int, changed: str) -> datetime:
    return (updated(row_id) if changed == "both" else None) or added(row_id)


def expected(query: ListQuery, changed: str = "both") -> tuple[list[int], bool]:
    """The rule, in Python."""
    ids = [n for n in range(ROWS, 0, -1) if query.before_id is None or n < query.before_id]
    if query.updated_since is not None and changed != "none":
        ids = [n for n in ids if changed_on(n, changed) >= query.updated_since]
    start = (query.page_no - 1) * query.page_size
    return ids[start : start + query.page_size], len(ids) > start + query.page_size


def test_the_first_page_is_the_newest_and_says_more_follow(reader: Reader) -> None:
    assert reader.read(ListQuery(page_size=5)) == ([23, 22, 21, 20, 19], True)


def test_the_last_full_page_says_nothing_follows(reader: Reader) -> None:
    assert reader.read(ListQuery(page_no=2, page_size=20)) == ([3, 2, 1], False)
    assert reader.read(ListQuery(page_size=ROWS)) == (list(range(ROWS, 0, -1)), False)


@pytest.mark.parametrize("page_no", [6, 7, 1000])
def test_a_page_past_the_end_is_empty(reader: Reader, page_no: int) -> None:
    assert reader.read(ListQuery(page_no=page_no, page_size=5)) == ([], False)


def test_before_id_keeps_lower_ids_and_pages_behind_them(reader: Reader) -> None:
    assert reader.read(ListQuery(page_size=4, before_id=10)) == ([9, 8, 7, 6], True)
    assert reader.read(ListQuery(page_no=3, page_size=4, before_id=10)) == ([1], False)
    assert reader.read(ListQuery(before_id=1)) == ([], False)
    assert reader.read(ListQuery(page_size=2, before_id=INT64_MAX)) == ([23, 22], True)


def test_updated_since_is_inclusive_on_updated_on_or_else_added_on(reader: Reader) -> None:
    since = added(20)  # 20 (exactly then) to 23 added since; every third one updated since
    query = ListQuery(updated_since=since)
    assert reader.read(query) == ([23, 22, 21, 20, 18, 15, 12, 9, 6, 3], False)
    assert reader.read(query) == expected(query)


def test_updated_since_on_added_on_alone_ignores_updated_on(reader: Reader) -> None:
    query = ListQuery(updated_since=added(20))
    assert reader.read(query, "added") == ([23, 22, 21, 20], False)


def test_updated_since_does_not_apply_without_dates(reader: Reader) -> None:
    query = ListQuery(page_size=3, updated_since=added(ROWS) + timedelta(days=9))
    assert reader.read(query, "none") == ([23, 22, 21], True)


def test_before_id_and_updated_since_together(reader: Reader) -> None:
    query = ListQuery(page_size=3, before_id=21, updated_since=added(20))
    assert reader.read(query) == ([20, 18, 15], True)


@pytest.mark.parametrize(
    ("page_no", "page_size"),
    [(INT64_MAX, 1000), (INT64_MAX, 1), (MAX_OFFSET // 1000 + 2, 1000), (MAX_OFFSET + 2, 1)],
)
def test_offsets_no_table_reaches_answer_empty_without_a_query(
    reader: Reader, page_no: int, page_size: int
) -> None:
    query = ListQuery(page_no=page_no, page_size=page_size)
    assert (page_no - 1) * page_size > MAX_OFFSET
    assert PAGING.window(query) is None
    assert reader.read(query) == ([], False)


def test_the_largest_offset_asked_of_the_database_is_one_it_accepts(reader: Reader) -> None:
    query = ListQuery(page_no=MAX_OFFSET + 1, page_size=1)
    assert PAGING.window(query) == {"offset": MAX_OFFSET, "limit": 2}
    assert reader.read(query) == ([], False)


def test_fetch_is_not_called_past_max_offset() -> None:
    def fetch(window: Window) -> list[int]:
        raise AssertionError(f"asked the database for {window}")

    assert PAGING.page(ListQuery(page_no=INT64_MAX, page_size=1000), fetch) == ([], False)


def test_the_window_holds_only_what_applies() -> None:
    query = ListQuery(page_no=3, page_size=10, before_id=7, updated_since=T0)
    assert PAGING.window(query) == {
        "offset": 20,
        "limit": 11,
        "before_id": 7,
        "changed_since": T0,
    }
    assert paging_of("none").window(query) == {"offset": 20, "limit": 11, "before_id": 7}
    assert PAGING.window(ListQuery()) == {"offset": 0, "limit": 26}


def test_one_statement_built_once_serves_every_window(engine: Engine) -> None:
    """Built with every parameter present, as ``logs.repository`` caches its statements."""
    stmt = PAGING.apply(select(PROBES.c.id), {"before_id", "changed_since", "offset", "limit"})
    with engine.connect() as connection:
        for query in (
            ListQuery(page_size=2, before_id=23, updated_since=T0),
            ListQuery(page_no=4, page_size=3, before_id=9, updated_since=added(4)),
        ):
            window = PAGING.window(query)
            assert window is not None
            rows = [row.id for row in connection.execute(stmt, window)]
            ids, more = expected(query)
            assert rows[: query.page_size] == ids and (len(rows) > query.page_size) == more


QUERIES = st.builds(
    ListQuery,
    page_no=st.integers(1, 12),
    page_size=st.integers(1, 30),
    before_id=st.none() | st.integers(-2, ROWS + 3),
    updated_since=st.none() | st.integers(-2, ROWS + 30).map(lambda hours: added(hours)),
)


@given(query=QUERIES, changed=st.sampled_from(["none", "added", "both"]))
def test_any_page_is_the_rule_s_page(reader: Reader, query: ListQuery, changed: str) -> None:
    assert reader.read(query, changed) == expected(query, changed)
