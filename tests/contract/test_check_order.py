"""README §4: which check answers first when a request is wrong in several ways."""

from __future__ import annotations

from tests.support.server import Partner, ServerProcess


def test_401_before_415_and_413(server: ServerProcess) -> None:
    with server.client() as anonymous:
        response = anonymous.post(
            "/api/companies?x=1",
            content="x" * (2 * 1024 * 1024),
            headers={"Content-Type": "text/plain"},
        )
    assert response.status_code == 401


def test_413_before_415(partner: Partner) -> None:
    response = partner.client.post(
        "/api/companies", content="x" * (1024 * 1024 + 1), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 413


def test_415_before_query_data(partner: Partner) -> None:
    response = partner.client.post(
        "/api/companies?Name=x", content="{}", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_query_data_before_malformed_json(partner: Partner) -> None:
    response = partner.client.post(
        "/api/companies?Name=x", content="{", headers={"Content-Type": "application/json"}
    )
    assert response.json()["error"]["code"] == "query_parameters_not_allowed"


def test_malformed_json_before_not_found(partner: Partner) -> None:
    response = partner.client.put(
        "/api/companies/999999999", content="{", headers={"Content-Type": "application/json"}
    )
    assert response.json()["error"]["code"] == "malformed_json"


def test_not_found_before_validation(partner: Partner) -> None:
    response = partner.client.put("/api/companies/999999999", json={"Name": ""})
    assert response.status_code == 404


def test_validation_before_conflict(partner: Partner) -> None:
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Dup", "ExternalId": "same"}
    assert partner.client.post("/api/companies", json=body).status_code == 201
    response = partner.client.post("/api/companies", json={**body, "Name": "x" * 101})
    assert response.status_code == 400
