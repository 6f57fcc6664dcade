"""README §3 duplicate prevention: Tokens, in the database, across processes and races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database


def _body(partner: Partner, token: str, name: str = "Tokened") -> dict[str, object]:
    return {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": name, "Token": token}


def test_second_request_with_a_token_is_409_naming_the_original(partner: Partner) -> None:
    first = partner.client.post("/api/companies", json=_body(partner, "tok-1"))
    assert first.status_code == 201 and first.json()["data"]["Token"] is None
    second = partner.client.post(
        "/api/companies", json=_body(partner, "tok-1", name="Different body")
    )
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["resource"], error["id"]) == (
        "duplicate_request",
        "companies",
        first.json()["data"]["CompanyId"],
    )


def test_token_belongs_to_the_whole_partner_across_resources(partner: Partner) -> None:
    created = partner.client.post("/api/companies", json=_body(partner, "shared"))
    put = partner.client.put(
        f"/api/partners/{partner.partner_id}", json={"Name": "x", "Token": "shared"}
    )
    assert put.status_code == 409
    assert put.json()["error"]["id"] == created.json()["data"]["CompanyId"]


def test_tokens_of_other_partners_do_not_collide(partner: Partner, partner_second: Partner) -> None:
    assert partner.client.post("/api/companies", json=_body(partner, "same")).status_code == 201
    assert (
        partner_second.client.post("/api/companies", json=_body(partner_second, "same")).status_code
        == 201
    )


def test_a_failed_request_does_not_use_up_its_token(partner: Partner) -> None:
    bad = partner.client.post("/api/companies", json={**_body(partner, "retry-me"), "Name": ""})
    assert bad.status_code == 400
    assert partner.client.post("/api/companies", json=_body(partner, "retry-me")).status_code == 201


def test_empty_token_means_none(partner: Partner) -> None:
    for _ in range(2):
        assert partner.client.post("/api/companies", json=_body(partner, "")).status_code == 201


def test_token_longer_than_50_is_a_validation_failure(partner: Partner) -> None:
    response = partner.client.post("/api/companies", json=_body(partner, "t" * 51))
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["attribute"] == "Token"


def test_null_token_means_none(partner: Partner) -> None:
    body = {**_body(partner, ""), "Token": None}
    for _ in range(2):
        assert partner.client.post("/api/companies", json=body).status_code == 201


def _company_names(partner: Partner) -> list[str]:
    rows = partner.client.get("/api/companies", params={"PageSize": 100}).json()["data"]
    return [row["Name"] for row in rows]


def test_a_token_holding_nul_is_a_validation_failure(partner: Partner) -> None:
    """It was silently dropped, so the same POST twice made two objects (issue 9, defect 2)."""
    for _ in range(2):
        response = partner.client.post("/api/companies", json=_body(partner, "a\x00b", "Nul"))
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [(e["attribute"], e["code"]) for e in error["errors"]] == [
            ("Token", "invalid_characters")
        ]
    assert "Nul" not in _company_names(partner)


@pytest.mark.parametrize("token", [{"a": 1}, 12345, 1.5, ["t"], True, False])
def test_a_token_that_is_not_a_string_is_a_validation_failure(
    partner: Partner, token: object
) -> None:
    """It was accepted as its ``str()`` (issue 9, defect 3). A number too: the text of a
    number is not what the client sent (docs/api.md, Tokens)."""
    body = {**_body(partner, "", "Typed"), "Token": token}
    response = partner.client.post("/api/companies", json=body)
    assert response.status_code == 400, response.text
    assert [(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]] == [
        ("Token", "invalid_type")
    ]
    put = partner.client.put(f"/api/companies/{partner.company_id}", json={"Token": token})
    assert put.status_code == 400 and put.json()["error"]["errors"][0]["attribute"] == "Token"
    assert "Typed" not in _company_names(partner)


def test_put_with_a_token_records_the_changed_object(partner: Partner) -> None:
    url = f"/api/companies/{partner.company_id}"
    assert partner.client.put(url, json={"Phone": "1", "Token": "put-1"}).status_code == 200
    again = partner.client.put(url, json={"Phone": "2", "Token": "put-1"})
    assert again.status_code == 409 and again.json()["error"]["id"] == partner.company_id
    assert partner.client.get(url).json()["data"]["Phone"] == "1"


def test_tokens_expire_after_60_minutes(server: ServerProcess, partner: Partner) -> None:
    assert partner.client.post("/api/companies", json=_body(partner, "old")).status_code == 201
    db = Database(server.sqlalchemy_url, pool_size=1)
    with db.writing() as session:
        session.execute(
            text(
                "UPDATE request_tokens SET added_on = '2000-01-01 00:00:00' "
                "WHERE partner_id = :p AND token = 'old'"
            ),
            {"p": partner.partner_id},
        )
    db.dispose()
    assert partner.client.post("/api/companies", json=_body(partner, "old")).status_code == 201


def test_of_concurrent_requests_with_one_token_exactly_one_applies(partner: Partner) -> None:
    def post(_: int) -> tuple[int, int | None]:
        response = partner.client.post("/api/companies", json=_body(partner, "race", name="Racer"))
        body = response.json()
        return response.status_code, (body.get("data") or body.get("error", {})).get(
            "CompanyId", body.get("error", {}).get("id")
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, range(16)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1 and statuses.count(409) == 15, statuses
    assert len({object_id for _, object_id in results}) == 1
    names = [
        c["Name"]
        for c in partner.client.get("/api/companies", params={"PageSize": 100}).json()["data"]
    ]
    assert names.count("Racer") == 1


def test_a_token_holds_across_server_processes(
    partner: Partner, server_second: ServerProcess
) -> None:
    assert partner.client.post("/api/companies", json=_body(partner, "cross")).status_code == 201
    with server_second.client(partner.api_key) as other:
        again = other.post("/api/companies", json=_body(partner, "cross"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_request"
