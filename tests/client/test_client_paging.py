"""Listings page on their own: BeforeId, newest first, bounded, lazy."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from cleverfox.client import (
    Client,
    ConnectionStatus,
    IgnoredParameters,
    JobStatus,
    UnexpectedResponse,
)
from tests.client.fakes import FakeAPI, company


@pytest.fixture
def companies(api: FakeAPI) -> list[int]:
    """Seven companies, ids 1..7."""
    return [
        api.add("companies", **company(CompanyId=i, Name=f"c{i}"))["CompanyId"] for i in range(1, 8)
    ]


def test_pages_by_before_id_newest_first(
    client: Client, api: FakeAPI, companies: list[int]
) -> None:
    listed = [c.company_id for c in client.companies.list(page_size=3)]

    assert listed == [7, 6, 5, 4, 3, 2, 1]
    assert api.queries() == [
        {"PageSize": "3"},
        {"PageSize": "3", "BeforeId": "5"},
        {"PageSize": "3", "BeforeId": "2"},
    ]


def test_default_page_size_is_the_maximum(
    client: Client, api: FakeAPI, companies: list[int]
) -> None:
    assert len(list(client.companies.list())) == 7
    assert api.queries() == [{"PageSize": "1000"}]


def test_iterator_is_lazy_and_holds_one_page(
    client: Client, api: FakeAPI, companies: list[int]
) -> None:
    listing = client.companies.list(page_size=2)
    assert api.requests == []  # nothing sent until iterated

    first_three = list(itertools.islice(listing, 3))

    assert [c.company_id for c in first_three] == [7, 6, 5]
    assert len(api.requests) == 2


def test_limit_stops_and_shrinks_the_last_page(
    client: Client, api: FakeAPI, companies: list[int]
) -> None:
    listed = [c.company_id for c in client.companies.list(page_size=3, limit=4)]

    assert listed == [7, 6, 5, 4]
    assert api.queries() == [{"PageSize": "3"}, {"PageSize": "1", "BeforeId": "5"}]


def test_limit_zero_sends_nothing(client: Client, api: FakeAPI) -> None:
    assert list(client.companies.list(limit=0)) == []
    assert api.requests == []


def test_before_id_given_starts_below_it(
    client: Client, api: FakeAPI, companies: list[int]
) -> None:
    listed = [c.company_id for c in client.companies.list(before_id=4)]
    assert listed == [3, 2, 1]
    assert api.queries()[0]["BeforeId"] == "4"


def test_without_has_more_a_short_page_ends_the_listing(client: Client, api: FakeAPI) -> None:
    pages = iter([[3, 2], [1]])

    def answer(request: httpx.Request) -> httpx.Response:
        data = [company(CompanyId=i) for i in next(pages)]
        return httpx.Response(200, json={"data": data, "page_no": 1, "page_size": 2})

    api.before.extend([answer, answer])
    assert [c.company_id for c in client.companies.list(page_size=2)] == [3, 2, 1]
    assert len(api.requests) == 2


def test_has_more_with_an_empty_page_ends_the_listing(client: Client, api: FakeAPI) -> None:
    api.before.append(lambda r: httpx.Response(200, json={"data": [], "has_more": True}))
    assert list(client.companies.list()) == []
    assert len(api.requests) == 1


def test_a_server_ignoring_before_id_is_refused_not_looped(client: Client, api: FakeAPI) -> None:
    same = httpx.Response(200, json={"data": [company(CompanyId=9)], "has_more": True})
    api.before.extend([lambda r: same, lambda r: same])

    with pytest.raises(UnexpectedResponse, match="BeforeId"):
        list(client.companies.list(page_size=1))


def test_time_zones_page_by_page_number(client: Client, api: FakeAPI) -> None:
    for name in ("A", "B", "C", "D", "E"):
        api.add("timezones", TimeZoneId=f"{name} Standard Time", Name=name)

    zones = list(client.time_zones.list(page_size=2))

    assert len(zones) == 5
    assert [q.get("PageNo") for q in api.queries()] == ["1", "2", "3"]
    assert all("BeforeId" not in q for q in api.queries())


def test_filters_are_sent_under_wire_names_and_values(client: Client, api: FakeAPI) -> None:
    since = datetime(2025, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    list(
        client.devices.list(
            company_id=5, is_inactive=False, connection_status=ConnectionStatus.ONLINE
        )
    )
    list(client.logs.list(job_status=JobStatus.FAILED, since=since, include_running=True))
    list(client.events.list(until=datetime(2025, 1, 1), updated_since="2025-01-01T00:00"))

    devices, logs, events = api.queries()
    assert devices == {
        "CompanyId": "5",
        "IsInactive": "false",
        "ConnectionStatus": "Online",
        "PageSize": "1000",
    }
    assert logs["JobStatus"] == "Failed"
    assert logs["Since"] == "2025-01-01T10:00:00.000Z"
    assert logs["IncludeRunning"] == "true"
    assert events["Until"] == "2025-01-01T00:00:00.000"
    assert events["UpdatedSince"] == "2025-01-01T00:00"


def test_a_timedelta_filter_means_that_long_before_now(client: Client, api: FakeAPI) -> None:
    list(client.logs.list(since=timedelta(hours=24)))
    sent = datetime.fromisoformat(api.queries()[0]["Since"].replace("Z", "+00:00"))
    assert abs(sent - (datetime.now(UTC) - timedelta(hours=24))) < timedelta(minutes=1)


def test_none_filters_are_left_out(client: Client, api: FakeAPI) -> None:
    list(client.companies.list(external_id=None))  # type: ignore[typeddict-item]
    assert api.queries() == [{"PageSize": "1000"}]


def test_unknown_filter_raises_before_any_request(client: Client, api: FakeAPI) -> None:
    with pytest.raises(TypeError, match="extrnal_id"):
        client.companies.list(extrnal_id="x")  # type: ignore[call-arg]
    assert api.requests == []


def test_extra_filters_are_sent_verbatim(client: Client, api: FakeAPI) -> None:
    list(client.companies.list(extra_filters={"NewFilter": True}))
    assert api.queries()[0]["NewFilter"] == "true"


def test_ignored_parameters_raise_rather_than_widen_a_listing(client: Client, api: FakeAPI) -> None:
    api.after.append(
        lambda req, resp: resp.headers.update({"X-CleverFox-Ignored-Parameters": "NewFilter"})
    )
    with pytest.raises(IgnoredParameters) as raised:
        list(client.companies.list(extra_filters={"NewFilter": 1}))
    assert raised.value.parameters == ("NewFilter",)


@pytest.mark.parametrize("size", [0, 1001])
def test_page_size_out_of_range_is_refused(client: Client, size: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        client.companies.list(page_size=size)
