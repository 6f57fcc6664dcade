"""The time-zone catalogue behind /api/timezones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tzlocal.windows_tz import tz_win, win_tz

from cleverfox.server.timezones import catalog
from cleverfox.server.timezones.catalog import (
    MAX_TIME_ZONE_ID_LENGTH,
    TimeZone,
    all_time_zones,
    current_utc_offset_minutes,
    resolve,
)

WINTER = datetime(2025, 1, 15, 12, 0)
SUMMER = datetime(2025, 7, 15, 12, 0)
PLACES = sorted(available_timezones() - {"Factory", "localtime", "posixrules"})

WINDOWS_IDS = {zone_id.casefold() for zone_id in win_tz}

PROPERTIES = settings(deadline=None)  # example counts: the profile tests/conftest.py loads


@pytest.fixture
def without_windows_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where no package provides the Windows display names."""
    monkeypatch.setattr(catalog, "_windows_display_names", dict)


def test_the_catalogue_lists_every_windows_zone_once() -> None:
    zones = all_time_zones(WINTER)
    ids = [zone.time_zone_id for zone in zones]
    assert len(ids) == len(set(ids)) == len(win_tz)
    assert all(len(zone_id) <= MAX_TIME_ZONE_ID_LENGTH for zone_id in ids)
    assert all(zone.name.startswith("(UTC") for zone in zones)
    assert all(zone.zone_info() == ZoneInfo(zone.iana_id) for zone in zones)


@pytest.mark.parametrize("now", [WINTER, SUMMER])
def test_the_catalogue_is_sorted_by_current_offset_then_id(now: datetime) -> None:
    zones = all_time_zones(now)
    keys = [(current_utc_offset_minutes(zone, now), zone.time_zone_id) for zone in zones]
    assert keys == sorted(keys)
    assert keys[0] == (-720, "Dateline Standard Time")
    assert keys[-1] == (840, "Line Islands Standard Time")


def test_the_catalogue_follows_the_season() -> None:
    def position(now: datetime) -> int:
        ids = [zone.time_zone_id for zone in all_time_zones(now)]
        return ids.index("AUS Eastern Standard Time")

    # Sydney is UTC+11 in January, UTC+10 in July: it moves past Vladivostok (+10) and back.
    assert position(WINTER) > position(SUMMER)


def test_eastern_standard_time() -> None:
    eastern = resolve("Eastern Standard Time", WINTER)
    assert eastern is not None
    assert eastern.time_zone_id == "Eastern Standard Time"
    assert eastern.iana_id == "America/New_York"
    assert eastern.name.startswith("(UTC-05:00) ")
    assert eastern in all_time_zones(WINTER)


def test_windows_display_names_come_from_the_package_where_installed() -> None:
    pytest.importorskip("win2utc")
    eastern = resolve("Eastern Standard Time")
    assert eastern is not None
    assert eastern.name == "(UTC-05:00) Eastern Time (US & Canada)"


@pytest.mark.usefixtures("without_windows_names")
@pytest.mark.parametrize(
    ("zone_id", "name"),
    [
        ("Eastern Standard Time", "(UTC-05:00) America/New_York"),
        ("GMT Standard Time", "(UTC+00:00) Europe/London"),
        ("AUS Eastern Standard Time", "(UTC+10:00) Australia/Sydney"),  # summer in January
        ("Lord Howe Standard Time", "(UTC+10:30) Australia/Lord_Howe"),
        ("Nepal Standard Time", "(UTC+05:45) Asia/Katmandu"),  # CLDR's stable id
        ("Newfoundland Standard Time", "(UTC-03:30) America/St_Johns"),
        ("Dateline Standard Time", "(UTC-12:00) Etc/GMT+12"),
        ("UTC", "(UTC+00:00) Etc/UTC"),
        ("Antarctica/Troll", "(UTC+00:00) Antarctica/Troll"),
    ],
)
def test_display_names_without_the_package_show_the_standard_offset(
    zone_id: str, name: str
) -> None:
    for now in (WINTER, SUMMER):
        zone = resolve(zone_id, now)
        assert zone is not None
        assert zone.name == name


@pytest.mark.usefixtures("without_windows_names")
def test_dublins_winter_is_its_standard_time_whatever_the_tz_data_calls_it() -> None:
    # The tz data marks Irish winter time as negative daylight saving.
    assert catalog._computed_name("Europe/Dublin", 2025) == "(UTC+00:00) Europe/Dublin"


@pytest.mark.parametrize(
    ("text", "zone_id", "iana_id"),
    [
        ("Eastern Standard Time", "Eastern Standard Time", "America/New_York"),
        ("eastern standard time", "Eastern Standard Time", "America/New_York"),
        ("EASTERN STANDARD TIME", "Eastern Standard Time", "America/New_York"),
        ("America/New_York", "Eastern Standard Time", "America/New_York"),
        ("america/new_york", "Eastern Standard Time", "America/New_York"),
        # An IANA name keeps its own rules under its Windows zone's id.
        ("America/Detroit", "Eastern Standard Time", "America/Detroit"),
        ("Europe/Dublin", "GMT Standard Time", "Europe/Dublin"),
        ("US/Eastern", "Eastern Standard Time", "US/Eastern"),
        ("utc", "UTC", "Etc/UTC"),
        ("Etc/UTC", "UTC", "Etc/UTC"),
        ("Australia/Lord_Howe", "Lord Howe Standard Time", "Australia/Lord_Howe"),
        ("Pacific/Apia", "Samoa Standard Time", "Pacific/Apia"),
        # Windows has no zone for these: the IANA name is the id.
        ("antarctica/troll", "Antarctica/Troll", "Antarctica/Troll"),
        ("EST5EDT", "EST5EDT", "EST5EDT"),
    ],
)
def test_resolve(text: str, zone_id: str, iana_id: str) -> None:
    zone = resolve(text, WINTER)
    assert zone is not None
    assert (zone.time_zone_id, zone.iana_id) == (zone_id, iana_id)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "Eastern",
        "Eastern Standard Time ",
        "Nowhere/Nothing",
        "Factory",
        "localtime",
        "x" * 51,
    ],
)
def test_resolve_refuses_what_is_no_time_zone(text: str) -> None:
    assert resolve(text) is None


@pytest.mark.parametrize(
    ("zone_id", "now", "minutes"),
    [
        ("Eastern Standard Time", WINTER, -300),
        ("Eastern Standard Time", SUMMER, -240),
        ("Lord Howe Standard Time", WINTER, 660),
        ("Lord Howe Standard Time", SUMMER, 630),
        ("Nepal Standard Time", WINTER, 345),
        ("Chatham Islands Standard Time", WINTER, 825),
        ("Samoa Standard Time", WINTER, 780),
        ("Dateline Standard Time", SUMMER, -720),
        ("Antarctica/Troll", WINTER, 0),
        ("Antarctica/Troll", SUMMER, 120),
    ],
)
def test_current_utc_offset_minutes(zone_id: str, now: datetime, minutes: int) -> None:
    zone = resolve(zone_id, now)
    assert zone is not None
    assert current_utc_offset_minutes(zone, now) == minutes


def test_a_time_zone_is_a_value() -> None:
    zone = TimeZone(time_zone_id="X", name="(UTC+00:00) X", iana_id="Etc/UTC")
    assert zone == TimeZone(time_zone_id="X", name="(UTC+00:00) X", iana_id="Etc/UTC")
    with pytest.raises(AttributeError):
        zone.name = "Y"  # type: ignore[misc]


@PROPERTIES
@given(st.sampled_from(PLACES), st.sampled_from([str.lower, str.upper, str.swapcase, str]))
def test_every_iana_name_resolves_under_any_case(name: str, recase: Callable[[str], str]) -> None:
    zone = resolve(recase(name), WINTER)
    assert zone is not None
    if name.casefold() in WINDOWS_IDS:  # "UTC": the Windows zone comes first
        assert zone.time_zone_id.casefold() == name.casefold()
    else:
        assert zone.iana_id == name
        assert zone.time_zone_id == tz_win.get(name, name)
    assert len(zone.time_zone_id) <= MAX_TIME_ZONE_ID_LENGTH
    assert resolve(zone.time_zone_id, WINTER) is not None


@PROPERTIES
@given(st.sampled_from(sorted(win_tz)), st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))
def test_every_catalogue_zone_resolves_by_id_and_by_iana_name(zone_id: str, now: datetime) -> None:
    zone = resolve(zone_id.upper(), now)
    assert zone is not None
    assert zone in all_time_zones(now)
    assert resolve(zone.iana_id, now) == zone
    offset = current_utc_offset_minutes(zone, now)
    assert -12 * 60 <= offset <= 14 * 60
