"""The lenient wire rules of README §3 as properties of ``kit.wire``.

Scalars: integers and numeric strings round-trip, nothing outside int64 gets through, booleans
are only true/false/"true"/"false"/0/1/null, strings never carry NUL and are measured in
characters. Bodies: names match case-insensitively, required/null/"" follow the POST and PUT
rules, write-only null means absent, and every failing attribute is reported at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cleverfox.server.kit.errors import ValidationFailed
from cleverfox.server.kit.wire import (
    INT64_MAX,
    INT64_MIN,
    MISSING,
    Attr,
    FieldErrorSignal,
    Kind,
    Rule,
    WireSchema,
    coerce,
    match_choice,
    read_bool,
    read_int,
)

INT64 = st.integers(INT64_MIN, INT64_MAX)
BEYOND_INT64 = st.one_of(st.integers(max_value=INT64_MIN - 1), st.integers(min_value=INT64_MAX + 1))
COUNT = Attr("Count", Kind.INTEGER)
NAME_LIMIT = 10
# Characters of every width in UTF-8 (1 to 4 bytes), never NUL: length is counted in these.
CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")
WIDE = st.sampled_from(["é", "ß", "€", "日", "😀", "\u0301"])


def error_of(attr: Attr, value: Any) -> tuple[str, str]:
    with pytest.raises(FieldErrorSignal) as caught:
        coerce(attr, value)
    return caught.value.error.attribute, caught.value.error.code


def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def recased(draw: st.DrawFn, text: str) -> str:
    return random_case(draw, text)


# --- integers ----------------------------------------------------------------------------


@given(INT64)
def test_int64_integers_and_their_text_round_trip(number: int) -> None:
    assert read_int(number) == number
    assert read_int(str(number)) == number
    assert coerce(COUNT, number) == number
    assert coerce(COUNT, str(number)) == number


@given(INT64, st.sampled_from(["", " ", "\t", "  "]), st.sampled_from(["", " ", "\n"]))
def test_numeric_strings_may_carry_a_sign_and_surrounding_blanks(
    number: int, before: str, after: str
) -> None:
    signed = f"+{number}" if number >= 0 else str(number)
    assert read_int(f"{before}{signed}{after}") == number


@given(st.integers(-(2**53), 2**53))
def test_integral_floats_are_integers(number: int) -> None:
    assert read_int(float(number)) == number


@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not f.is_integer()))
def test_fractions_and_non_finite_floats_are_not_integers(value: float) -> None:
    assert read_int(value) is None
    assert error_of(COUNT, value) == ("Count", "invalid_type")


@given(BEYOND_INT64)
def test_integers_beyond_int64_are_rejected_as_values_and_as_text(number: int) -> None:
    assert error_of(COUNT, number)[1] == "out_of_range"
    assert error_of(COUNT, str(number))[1] in ("out_of_range", "invalid_type")


def test_the_int64_bounds_themselves_are_accepted() -> None:
    assert coerce(COUNT, INT64_MAX) == INT64_MAX and coerce(COUNT, str(INT64_MIN)) == INT64_MIN
    assert error_of(COUNT, INT64_MAX + 1) == ("Count", "out_of_range")
    assert error_of(COUNT, str(INT64_MIN - 1)) == ("Count", "out_of_range")


@given(st.text())
def test_text_is_an_integer_only_when_it_reads_as_one(text: str) -> None:
    number = read_int(text)
    if number is not None:
        assert int(text) == number  # never a number Python itself would not read
        assert "_" not in text and "." not in text


@given(st.one_of(st.booleans(), st.lists(st.integers()), st.dictionaries(st.text(), st.integers())))
def test_booleans_and_containers_are_not_integers(value: Any) -> None:
    assert read_int(value) is None
    assert error_of(COUNT, value) == ("Count", "invalid_type")


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-2000, 2000))
def test_declared_minimum_and_maximum_are_inclusive(low: int, high: int, number: int) -> None:
    assume(low <= high)
    attr = Attr("Count", Kind.INTEGER, minimum=low, maximum=high)
    if low <= number <= high:
        assert coerce(attr, number) == number
    else:
        assert error_of(attr, number) == ("Count", "out_of_range")


# --- booleans ----------------------------------------------------------------------------

TRUTHY = [True, 1, "true", "TRUE", " True "]
FALSY = [False, 0, "false", "False", "FALSE\n", None]


@pytest.mark.parametrize("value", TRUTHY)
def test_true_spellings(value: Any) -> None:
    assert read_bool(value) is True
    assert coerce(Attr("On", Kind.BOOLEAN), value) is True


@pytest.mark.parametrize("value", FALSY)
def test_false_spellings_and_null(value: Any) -> None:
    assert read_bool(value) is False


@given(st.sampled_from(["true", "false"]).flatmap(recased), st.sampled_from(["", " ", "\t"]))
def test_true_and_false_in_any_case_are_booleans(spelled: str, blank: str) -> None:
    assert read_bool(f"{blank}{spelled}{blank}") is (spelled.lower() == "true")


@given(
    st.one_of(
        st.integers().filter(lambda n: n not in (0, 1)),
        st.floats(),
        st.text().filter(lambda t: t.strip().lower() not in ("true", "false")),
        st.lists(st.booleans()),
        st.dictionaries(st.text(), st.booleans()),
    )
)
def test_nothing_else_is_a_boolean(value: Any) -> None:
    assert read_bool(value) is None
    assert error_of(Attr("On", Kind.BOOLEAN), value) == ("On", "invalid_type")


def test_an_empty_string_is_not_a_boolean() -> None:
    assert error_of(Attr("On", Kind.BOOLEAN), "") == ("On", "invalid_type")


# --- strings -----------------------------------------------------------------------------


@given(st.text(CHARACTERS), st.text(CHARACTERS))
def test_nul_anywhere_is_rejected(before: str, after: str) -> None:
    assert error_of(Attr("Name"), f"{before}\x00{after}") == ("Name", "invalid_characters")


@given(st.text(st.one_of(CHARACTERS, WIDE), min_size=NAME_LIMIT, max_size=NAME_LIMIT))
def test_max_length_counts_characters_not_bytes(text: str) -> None:
    attr = Attr("Name", max_length=NAME_LIMIT)
    assert coerce(attr, text) == text
    assert error_of(attr, text + "é") == ("Name", "too_long")


@given(st.integers(1, 40), WIDE)
def test_exactly_n_characters_pass_and_n_plus_one_fail(limit: int, character: str) -> None:
    attr = Attr("Name", max_length=limit)
    assert coerce(attr, character * limit) == character * limit
    assert error_of(attr, character * (limit + 1)) == ("Name", "too_long")


@given(st.one_of(INT64, st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_are_read_as_their_text(number: float) -> None:
    assert coerce(Attr("Name"), number) == str(number)


@given(st.one_of(st.booleans(), st.lists(st.text()), st.dictionaries(st.text(), st.text())))
def test_booleans_and_containers_are_not_strings(value: Any) -> None:
    assert error_of(Attr("Name"), value) == ("Name", "invalid_type")


@pytest.mark.parametrize(
    "kind", [Kind.STRING, Kind.INTEGER, Kind.CHOICE, Kind.DATETIME_UTC, Kind.DATETIME_LOCAL]
)
def test_empty_string_and_null_mean_null(kind: Kind) -> None:
    attr = Attr("Value", kind, choices=("A",))
    assert coerce(attr, "") is None and coerce(attr, None) is None


# --- choices -----------------------------------------------------------------------------

CHOICES = ("Hourly", "Daily", "Weekly", "One Time")


@given(st.sampled_from(CHOICES).flatmap(recased), st.sampled_from(["", " ", "\t"]))
def test_choices_match_case_insensitively_and_answer_the_canonical_spelling(
    spelled: str, blank: str
) -> None:
    canonical = match_choice(f"{blank}{spelled}{blank}", CHOICES)
    assert canonical in CHOICES and canonical.casefold() == spelled.casefold()


@given(st.text())
def test_anything_else_is_no_choice(text: str) -> None:
    assume(text.strip().casefold() not in {c.casefold() for c in CHOICES})
    assert match_choice(text, CHOICES) is None
    attr = Attr("Frequency", Kind.CHOICE, choices=CHOICES)
    if text:
        assert error_of(attr, text) == ("Frequency", "invalid_choice")


@given(st.sampled_from(["monthy", "MONTHLY", " Monthly "]))
def test_aliases_name_their_target(spelled: str) -> None:
    aliases = {"Monthy": "Monthly", "Monthly": "Monthly"}
    assert match_choice(spelled, (*CHOICES, "Monthly"), aliases) == "Monthly"


@pytest.mark.parametrize("value", [1, True, ["Daily"], {"Daily": 1}])
def test_a_choice_must_be_a_string(value: Any) -> None:
    assert error_of(Attr("Frequency", Kind.CHOICE, choices=CHOICES), value)[1] == "invalid_type"


# --- bodies ------------------------------------------------------------------------------

SCHEMA = WireSchema(
    "Widget",
    [
        Attr("WidgetId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("Name", rule=Rule.REQUIRED, max_length=NAME_LIMIT),
        Attr("Code", rule=Rule.REQUIRED_ON_POST, max_length=5),
        Attr("Origin", rule=Rule.CREATE_ONLY),
        Attr("Count", Kind.INTEGER, minimum=0, maximum=100),
        Attr("IsInactive", Kind.BOOLEAN),
        Attr("Frequency", Kind.CHOICE, choices=CHOICES),
        Attr("StartsOn", Kind.DATETIME_UTC),
        Attr("Password", rule=Rule.WRITE_ONLY, max_length=NAME_LIMIT),
    ],
)
VALID = {"Name": "Widget", "Code": "W1"}
# One bad value per writable attribute, each failing for its own reason.
BAD = {
    "Name": "x" * (NAME_LIMIT + 1),
    "Code": "\x00",
    "Origin": ["not", "text"],
    "Count": 101,
    "IsInactive": "maybe",
    "Frequency": "Fortnightly",
    "StartsOn": "2023-02-29T00:00",
    "Password": {"not": "text"},
}
NULLS = st.sampled_from([None, ""])


def failing(raised: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e.attribute for e in raised.value.errors}


@given(st.sets(st.sampled_from(sorted(BAD)), min_size=1))
def test_post_reports_every_failing_attribute_at_once(names: set[str]) -> None:
    body = {**VALID, **{name: BAD[name] for name in names}}
    with pytest.raises(ValidationFailed) as raised:
        SCHEMA.parse_create(body)
    assert failing(raised) == names


@given(st.sets(st.sampled_from(sorted(set(BAD) - {"Code", "Origin"})), min_size=1))
def test_put_reports_every_failing_attribute_at_once(names: set[str]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        SCHEMA.parse_update({name: BAD[name] for name in names})
    assert failing(raised) == names


@given(st.sampled_from(["Name", "Code"]), st.one_of(st.just(MISSING), NULLS))
def test_post_requires_required_attributes_absent_null_or_empty(name: str, value: Any) -> None:
    body = {k: v for k, v in VALID.items() if k != name}
    if value is not MISSING:
        body[name] = value
    with pytest.raises(ValidationFailed) as raised:
        SCHEMA.parse_create(body)
    assert [(e.attribute, e.code) for e in raised.value.errors] == [(name, "required")]


def test_post_fills_absent_optional_attributes_with_null_and_booleans_with_false() -> None:
    values = SCHEMA.parse_create(VALID)
    assert values == {
        "name": "Widget",
        "code": "W1",
        "origin": None,
        "count": None,
        "is_inactive": False,
        "frequency": None,
        "starts_on": None,
        "password": None,
    }


@given(NULLS)
def test_put_refuses_to_clear_a_required_attribute(value: str | None) -> None:
    with pytest.raises(ValidationFailed) as raised:
        SCHEMA.parse_update({"Name": value})
    assert [(e.attribute, e.code) for e in raised.value.errors] == [("Name", "required")]


@given(st.sampled_from(["Origin", "Count", "Frequency", "StartsOn"]), NULLS)
def test_put_clears_optional_attributes_with_null_or_empty(name: str, value: str | None) -> None:
    field = SCHEMA.attr(name).field
    if name == "Origin":  # create-only: read-only after POST, so ignored
        assert SCHEMA.parse_update({name: value}) == {}
    else:
        assert SCHEMA.parse_update({name: value}) == {field: None}


def test_put_reads_a_null_boolean_as_false() -> None:
    assert SCHEMA.parse_update({"IsInactive": None}) == {"is_inactive": False}


@given(st.one_of(NULLS, st.just(MISSING)))
def test_write_only_null_means_absent(value: Any) -> None:
    body = {} if value is MISSING else {"Password": value}
    assert SCHEMA.parse_update(body) == {}
    assert SCHEMA.parse_create({**VALID, **body})["password"] is None


@given(st.text(CHARACTERS, min_size=1, max_size=NAME_LIMIT))
def test_write_only_values_are_written(password: str) -> None:
    assert SCHEMA.parse_update({"Password": password}) == {"password": password}


@given(st.dictionaries(st.sampled_from(["Name", "Count", "IsInactive"]), st.just(None)))
def test_put_changes_only_what_is_present(body: dict[str, Any]) -> None:
    assume("Name" not in body)
    assert set(SCHEMA.parse_update(body)) == {SCHEMA.attr(n).field for n in body}


@given(st.sampled_from(["Code", "Origin", "WidgetId"]), st.text(CHARACTERS))
def test_put_ignores_attributes_that_are_read_only_after_post(name: str, value: str) -> None:
    assert SCHEMA.parse_update({name: value}) == {}


@given(st.sampled_from([a.name for a in SCHEMA.attrs]).flatmap(recased), st.integers())
def test_names_match_case_insensitively(spelled: str, value: int) -> None:
    known, ignored = SCHEMA.canonicalize({spelled: value})
    attr = SCHEMA.attr(spelled)
    assert ignored == []
    assert known == ({attr.name: value} if attr.writable else {})


@given(st.text(min_size=1))
def test_unknown_names_are_ignored_and_named(name: str) -> None:
    assume(name.casefold() not in SCHEMA.by_folded)
    known, ignored = SCHEMA.canonicalize({name: 1, "NAME": "Widget"})
    assert known == {"Name": "Widget"} and ignored == [name]


@given(st.sampled_from(["token", "TOKEN", "Token"]))
def test_every_schema_knows_the_token(spelled: str) -> None:
    assert SCHEMA.canonicalize({spelled: "abc"}) == ({"Token": "abc"}, [])


@given(
    st.fixed_dictionaries(
        {"Name": st.text(CHARACTERS, min_size=1, max_size=NAME_LIMIT), "Code": st.just("C")},
        optional={
            "Count": st.integers(0, 100).map(str),
            "IsInactive": st.sampled_from(["true", "FALSE", 0, 1]),
            "Frequency": st.sampled_from(CHOICES).map(str.upper),
        },
    ).flatmap(lambda body: st.tuples(st.just(body), *(recased(k) for k in body)))
)
def test_a_valid_body_in_any_case_parses_to_canonical_values(drawn: tuple[Any, ...]) -> None:
    body, *spellings = drawn
    known, ignored = SCHEMA.canonicalize(dict(zip(spellings, body.values(), strict=True)))
    values = SCHEMA.parse_create(known)
    assert ignored == [] and values["name"] == body["Name"]
    if "Count" in body:
        assert values["count"] == int(body["Count"])
    if "Frequency" in body:
        assert values["frequency"] in CHOICES
    assert isinstance(values["is_inactive"], bool)


def test_a_date_time_attribute_is_read_as_utc() -> None:
    values = SCHEMA.parse_update({"StartsOn": "2024-03-01T10:00:00+02:00"})
    assert values == {"starts_on": datetime(2024, 3, 1, 8, 0)}
