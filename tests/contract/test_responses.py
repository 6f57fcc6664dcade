"""README §4: envelopes, paging, filters, date-times, errors, request ids, 405, docs."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import update
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database
from cleverfox.server.models import Company

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")


def _make(partner: Partner, count: int, prefix: str = "C") -> list[int]:
    ids = []
    for n in range(count):
        body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": f"{prefix}{n}"}
        ids.append(partner.client.post("/api/companies", json=body).json()["data"]["CompanyId"])
    return ids


def test_collections_are_newest_first_with_paging(partner: Partner) -> None:
    ids = [*_make(partner, 5), partner.company_id]
    newest_first = sorted(ids, reverse=True)
    page1 = partner.client.get("/api/companies", params={"PageSize": 2}).json()
    assert [c["CompanyId"] for c in page1["data"]] == newest_first[:2]
    assert (page1["page_no"], page1["page_size"], page1["has_more"]) == (1, 2, True)
    page3 = partner.client.get("/api/companies", params={"PageSize": 2, "PageNo": 3}).json()
    assert [c["CompanyId"] for c in page3["data"]] == newest_first[4:]
    assert page3["has_more"] is False
    past = partner.client.get("/api/companies", params={"PageSize": 2, "PageNo": 99})
    assert past.status_code == 200 and past.json()["data"] == []


def test_before_id_keyset_paging(partner: Partner) -> None:
    ids = sorted([*_make(partner, 4), partner.company_id], reverse=True)
    seen: list[int] = []
    before = None
    while True:
        params = {"PageSize": 2, **({"BeforeId": before} if before else {})}
        page = partner.client.get("/api/companies", params=params).json()
        seen += [c["CompanyId"] for c in page["data"]]
        if not page["has_more"]:
            break
        before = seen[-1]
    assert seen == ids


@pytest.mark.parametrize(
    "params",
    [
        {"PageNo": 0},
        {"PageNo": -1},
        {"PageSize": 0},
        {"PageSize": 1001},
        {"PageSize": "ten"},
        {"BeforeId": "x"},
        {"UpdatedSince": "yesterday"},
        {"IsInactive": "maybe"},
        {"PageNo": "99999999999999999999999"},
    ],
)
def test_bad_paging_or_filter_values_are_400_invalid_parameter(
    partner: Partner, params: dict[str, object]
) -> None:
    response = partner.client.get("/api/companies", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_page_size_limits(partner: Partner) -> None:
    assert partner.client.get("/api/companies", params={"PageSize": 1000}).status_code == 200
    assert partner.client.get("/api/companies", params={"pagesize": 1}).json()["page_size"] == 1


def test_unknown_query_parameters_are_ignored_and_named(partner: Partner) -> None:
    response = partner.client.get(
        "/api/companies", params={"_": "123", "cachebuster": "x", "pageno": 1}
    )
    assert response.status_code == 200
    assert sorted(response.headers["x-cleverfox-ignored-parameters"].split(",")) == [
        "_",
        "cachebuster",
    ]


def test_updated_since_is_inclusive_on_updated_or_added(
    server: ServerProcess, partner: Partner
) -> None:
    old, changed, fresh = _make(partner, 3, "U")
    db = Database(server.sqlalchemy_url, pool_size=1)
    with db.writing() as session:
        companies = Company.__table__

        def stamp(ids: list[int], **values: datetime) -> None:
            session.execute(update(companies).where(companies.c.id.in_(ids)).values(**values))

        stamp([old, changed, partner.company_id], added_on=datetime(2020, 1, 1))
        stamp([changed], updated_on=datetime(2024, 6, 1, 12))
        stamp([fresh], added_on=datetime(2024, 6, 1, 12))
    db.dispose()

    def ids(params: dict[str, str]) -> list[int]:
        response = partner.client.get("/api/companies", params=params)
        return [c["CompanyId"] for c in response.json()["data"]]

    assert ids({"UpdatedSince": "2024-06-01T12:00:00"}) == sorted([changed, fresh], reverse=True)
    assert ids({"UpdatedSince": "2024-06-01T12:00:00.001"}) == []
    assert ids({"UpdatedSince": "2024-06-01T14:00:00+02:00"}) == sorted(
        [changed, fresh], reverse=True
    )


def test_date_times_are_written_with_milliseconds_and_no_zone(partner: Partner) -> None:
    data = partner.client.get(f"/api/companies/{partner.company_id}").json()["data"]
    assert DATETIME.match(data["AddedOn"])
    updated = partner.client.put(
        f"/api/companies/{partner.company_id}", json={"Phone": "1"}
    ).json()["data"]
    assert DATETIME.match(updated["UpdatedOn"])


def test_responses_are_json_utf8_with_request_id(server: ServerProcess, partner: Partner) -> None:
    ok = partner.client.get("/api/companies")
    assert ok.headers["content-type"] == "application/json; charset=utf-8"
    with server.client() as anonymous:
        for response in (
            ok,
            partner.client.get("/api/nothing-here"),
            anonymous.get("/api/companies"),
            partner.client.get("/api/companies/0"),
        ):
            assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])
    error = partner.client.get("/api/companies/0").json()["error"]
    assert set(error) == {"status", "code", "message", "errors", "request_id"}
    assert error["status"] == 404


@pytest.mark.parametrize(
    "path_id", ["0", "-1", "abc", "1.5", "99999999999999999999", "9223372036854775808"]
)
def test_bad_path_ids_are_404(partner: Partner, path_id: str) -> None:
    assert partner.client.get(f"/api/companies/{path_id}").status_code == 404


def test_wrong_verb_is_405_with_allow(partner: Partner) -> None:
    response = partner.client.post(f"/api/companies/{partner.company_id}", json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "DELETE"}
    partners = partner.client.delete(f"/api/partners/{partner.partner_id}")
    assert partners.status_code == 405 and "PUT" in partners.headers["allow"]
    assert partner.client.post("/api/partners", json={}).status_code == 405
    assert partner.client.put("/api/plans/1", json={}).status_code == 405


def test_unknown_route_is_404_before_authentication(server: ServerProcess) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/api/nothing").status_code == 404
        assert anonymous.delete("/api/partners/1").status_code == 405


def test_openapi_and_docs_need_no_key(server: ServerProcess) -> None:
    with server.client() as anonymous:
        document = anonymous.get("/api/openapi.json").json()
        assert document["openapi"].startswith("3.1")
        assert "/api/companies" in document["paths"]
        assert document["paths"]["/api/companies"]["post"]["requestBody"]
        page = anonymous.get("/api/docs")
        assert page.status_code == 200 and "/api/docs/static/swagger-ui-bundle.js" in page.text
        assert anonymous.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
        assert anonymous.get("/healthz").json()["status"] == "ok"


def test_no_fastapi_422_reaches_a_client(partner: Partner) -> None:
    response = partner.client.get("/api/companies", params={"PageSize": ["1", "2"]})
    assert response.status_code in (200, 400)
