"""Collection query strings (README §4) as properties of ``kit.listing``.

Names match case-insensitively, unknown ones are ignored and named back, paging stays in its
ranges, every filter is read by its type (a wrong one is 400 ``invalid_parameter``, never a
crash), and ``contains_pattern`` matches a substring literally: ``%``, ``_`` and ``\\`` in
the search text are not wildcards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cleverfox.server.kit.errors import InvalidParameter
from cleverfox.server.kit.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Filter,
    ListQuery,
    contains_pattern,
    parse_list_query,
)
from cleverfox.server.kit.wire import INT64_MAX, Kind

FILTERS = (
    Filter("CompanyId"),
    Filter("IsInactive", Kind.BOOLEAN),
    Filter("Since", Kind.DATETIME_UTC),
    Filter("Frequency", Kind.CHOICE, choices=("Hourly", "Daily"), aliases={"Monthy": "Daily"}),
    Filter("NameContains", Kind.STRING),
)
NAMES = [f.name for f in FILTERS] + ["PageNo", "PageSize", "BeforeId", "UpdatedSince"]
KNOWN = {name.casefold() for name in NAMES}
TEXT = st.text(st.characters(codec="utf-8"), max_size=20)


@st.composite
def recased(draw: st.DrawFn, text: str) -> str:
    return "".join(c.swapcase() if draw(st.booleans()) else c for c in text)


def parse(*params: tuple[str, str]) -> ListQuery:
    return parse_list_query(list(params), FILTERS)


def failing(*params: tuple[str, str]) -> set[str]:
    with pytest.raises(InvalidParameter) as raised:
        parse(*params)
    assert raised.value.code == "invalid_parameter" and raised.value.status == 400
    assert {e.code for e in raised.value.errors} <= {"invalid_parameter", "out_of_range"}
    return {e.attribute for e in raised.value.errors}


def test_defaults() -> None:
    query = parse()
    assert (query.page_no, query.page_size) == (1, DEFAULT_PAGE_SIZE)
    assert query.before_id is None and query.updated_since is None
    assert query.filters == {} and query.ignored == ()


@given(st.integers(1, INT64_MAX), st.integers(1, MAX_PAGE_SIZE))
def test_paging_in_range_is_read_in_any_case(page_no: int, page_size: int) -> None:
    query = parse(("pageno", str(page_no)), ("PAGESIZE", f" {page_size} "))
    assert (query.page_no, query.page_size) == (page_no, page_size)


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=INT64_MAX + 1)))
def test_page_numbers_below_one_or_beyond_int64_are_refused(page_no: int) -> None:
    assert failing(("PageNo", str(page_no))) == {"PageNo"}


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_PAGE_SIZE + 1)))
def test_page_sizes_outside_1_to_1000_are_refused(page_size: int) -> None:
    assert failing(("PageSize", str(page_size))) == {"PageSize"}


@given(st.sampled_from(NAMES).flatmap(recased), st.sampled_from(NAMES).flatmap(recased))
def test_every_declared_name_matches_case_insensitively(first: str, second: str) -> None:
    query = parse((first, ""), (second, ""))
    assert query.ignored == ()


@given(st.lists(st.tuples(TEXT, TEXT), max_size=5))
def test_unknown_names_are_ignored_and_named_in_order(params: list[tuple[str, str]]) -> None:
    unknown = [(k, v) for k, v in params if k.casefold() not in KNOWN]
    assert parse(*unknown).ignored == tuple(k for k, _ in unknown)


@given(st.lists(st.tuples(st.sampled_from(NAMES).flatmap(recased), TEXT), max_size=6))
def test_any_values_give_a_query_or_invalid_parameter_never_a_crash(
    params: list[tuple[str, str]],
) -> None:
    query: ListQuery | InvalidParameter
    try:
        query = parse(*params)
    except InvalidParameter as exc:
        query = exc
    if isinstance(query, InvalidParameter):
        assert query.errors and {e.attribute for e in query.errors} <= set(NAMES)
    else:
        assert query.page_no >= 1 and 1 <= query.page_size <= MAX_PAGE_SIZE


@given(st.integers(-INT64_MAX, INT64_MAX))
def test_integer_filters_read_int64_text(number: int) -> None:
    query = parse(("companyid", str(number)), ("BeforeId", f"+{abs(number)}"))
    assert query.get("CompanyId") == number and query.before_id == abs(number)


@given(st.one_of(st.integers(min_value=INT64_MAX + 1), st.integers(max_value=-INT64_MAX - 1)))
def test_integer_filters_beyond_int64_are_refused(number: int) -> None:
    assert failing(("CompanyId", str(number)), ("BeforeId", str(number))) == {
        "CompanyId",
        "BeforeId",
    }


@given(TEXT)
def test_integer_filters_refuse_what_is_not_an_integer(text: str) -> None:
    assume(text.strip() and not text.strip().lstrip("+-").isdecimal())
    assert failing(("CompanyId", text)) == {"CompanyId"}


@pytest.mark.parametrize(
    ("text", "flag"), [("true", True), ("FALSE", False), (" True ", True), ("0", None)]
)
def test_boolean_filters(text: str, flag: bool | None) -> None:
    if flag is None:
        assert failing(("IsInactive", text)) == {"IsInactive"}
    else:
        assert parse(("isinactive", text)).get("IsInactive") is flag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00", datetime(2024, 3, 1, 10, 0)),
        ("2024-03-01T10:00:00+02:00", datetime(2024, 3, 1, 8, 0)),
        ("2024-03-01T10:00:00.123456Z", datetime(2024, 3, 1, 10, 0, 0, 123000)),
    ],
)
def test_date_time_filters_without_a_zone_are_utc(text: str, expected: datetime) -> None:
    query = parse(("since", text), ("updatedsince", text))
    assert query.get("Since") == expected and query.updated_since == expected


@pytest.mark.parametrize(
    "text", ["2023-02-29T00:00", "2024-01-01T24:00", "9999-12-31T23:59-01:00", "yesterday"]
)
def test_impossible_date_times_are_refused(text: str) -> None:
    assert failing(("Since", text), ("UpdatedSince", text)) == {"Since", "UpdatedSince"}


@given(st.sampled_from(["Hourly", "Daily", "Monthy"]).flatmap(recased))
def test_choice_filters_answer_the_canonical_spelling(spelled: str) -> None:
    assert parse(("frequency", spelled)).get("Frequency") in ("Hourly", "Daily")


@given(TEXT)
def test_choice_filters_refuse_other_words(text: str) -> None:
    assume(text and text.strip().casefold() not in {"hourly", "daily", "monthy"})
    assert failing(("Frequency", text)) == {"Frequency"}


@given(TEXT)
def test_string_filters_pass_through_unless_they_carry_nul(text: str) -> None:
    if "\x00" in text:
        assert failing(("NameContains", text)) == {"NameContains"}
    else:
        assert parse(("namecontains", text)).get("NameContains") == (text or None)


def test_every_failing_parameter_is_reported_at_once() -> None:
    assert failing(
        ("PageNo", "0"), ("PageSize", "5000"), ("CompanyId", "x"), ("IsInactive", "2")
    ) == {"PageNo", "PageSize", "CompanyId", "IsInactive"}


def test_empty_values_mean_absent() -> None:
    query = parse(*((name, "") for name in NAMES))
    assert query == ListQuery()


# --- contains_pattern --------------------------------------------------------------------

# Characters that mean something to LIKE, mixed with letters that case-fold.
SEARCH = st.text(st.sampled_from("%_\\aAbBßẞİı xyz"), max_size=8)


@pytest.fixture(scope="module")
def sqlite() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


def like(connection: sqlite3.Connection, stored: str, pattern: str) -> bool:
    row = connection.execute("SELECT ? LIKE ? ESCAPE '\\'", (stored, pattern)).fetchone()
    return bool(row[0])


@given(needle=SEARCH, haystack=SEARCH)
def test_the_pattern_matches_exactly_the_folded_substrings(
    sqlite: sqlite3.Connection, needle: str, haystack: str
) -> None:
    """Stored names are case-folded (``name_folded``); the pattern is matched against that."""
    stored = haystack.casefold()
    assert like(sqlite, stored, contains_pattern(needle)) == (needle.casefold() in stored)


@given(SEARCH)
def test_the_pattern_is_the_escaped_text_between_wildcards(needle: str) -> None:
    pattern = contains_pattern(needle)
    assert pattern.startswith("%") and pattern.endswith("%")
    inner = pattern[1:-1]
    unescaped, index = [], 0
    while index < len(inner):
        if inner[index] == "\\":
            assert inner[index + 1] in "%_\\"
            index += 1
        else:
            assert inner[index] not in "%_"
        unescaped.append(inner[index])
        index += 1
    assert "".join(unescaped) == needle.casefold()


@pytest.mark.parametrize(
    ("needle", "stored", "matches"),
    [
        ("50%", "50% off", True),
        ("50%", "500 off", False),
        ("a_b", "a_b", True),
        ("a_b", "axb", False),
        ("c:\\", "c:\\data", True),
        ("c:\\", "c:data", False),
        ("STRASSE", "straße".casefold(), True),
    ],
)
def test_like_wildcards_in_the_search_are_literal(
    sqlite: sqlite3.Connection, needle: str, stored: str, matches: bool
) -> None:
    assert like(sqlite, stored, contains_pattern(needle)) is matches
