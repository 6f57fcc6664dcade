"""README §3: how bodies are read — media type, envelopes, lenient scalars, ignored names."""

from __future__ import annotations

import pytest
from tests.support.server import Partner


def _post(
    partner: Partner, content: bytes | str, content_type: str | None, url: str = "/api/companies"
):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type} if content_type else {}
    return partner.client.post(url, content=content, headers=headers)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/jsonx",
        "text/json",
    ],
)
def test_non_json_bodies_are_415(partner: Partner, content_type: str | None) -> None:
    response = _post(partner, '{"Name": "x"}', content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_charset_parameter_is_allowed(partner: Partner) -> None:
    body = f'{{"PartnerId": {partner.partner_id}, "PlanTypeId": 1, "Name": "Zoë"}}'.encode()
    response = _post(partner, body, "application/json; charset=utf-8")
    assert response.status_code == 201 and response.json()["data"]["Name"] == "Zoë"


def test_query_data_on_post_and_put_is_400(partner: Partner) -> None:
    response = partner.client.post("/api/companies?Name=x", json={"Name": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "query_parameters_not_allowed"
    put = partner.client.put(f"/api/companies/{partner.company_id}?x=1", json={})
    assert put.json()["error"]["code"] == "query_parameters_not_allowed"


@pytest.mark.parametrize("content", ["{", "[1, 2]", '"text"', "42", "null", "", "{'a': 1}"])
def test_malformed_or_non_object_json_is_400(partner: Partner, content: str) -> None:
    response = _post(partner, content, "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_bare_and_data_wrapped_bodies_mean_the_same(partner: Partner) -> None:
    bare = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Bare"}
    first = partner.client.post("/api/companies", json=bare).json()["data"]
    second = partner.client.post(
        "/api/companies", json={"data": {**bare, "Name": "Wrapped"}}
    ).json()["data"]
    assert first["Name"] == "Bare" and second["Name"] == "Wrapped"


def test_unknown_attributes_are_named_and_read_only_ones_ignored(partner: Partner) -> None:
    body = {
        "PartnerId": partner.partner_id,
        "PlanTypeId": 1,
        "Name": "Typo Inc",
        "Nmae": "oops",
        "Colour": "red",
        "CompanyId": 999999,
        "DeviceCount": 77,
    }
    response = partner.client.post("/api/companies", json=body)
    assert response.status_code == 201
    assert sorted(response.headers["x-cleverfox-ignored-attributes"].split(",")) == [
        "Colour",
        "Nmae",
    ]
    data = response.json()["data"]
    assert data["CompanyId"] != 999999 and data["DeviceCount"] == 0


def test_get_modify_put_round_trip(partner: Partner) -> None:
    fetched = partner.client.get(f"/api/companies/{partner.company_id}").json()["data"]
    fetched["Phone"] = "+64 9 555 0100"
    response = partner.client.put(f"/api/companies/{partner.company_id}", json=fetched)
    assert response.status_code == 200
    assert "x-cleverfox-ignored-attributes" not in response.headers
    assert response.json()["data"]["Phone"] == "+64 9 555 0100"


def test_names_match_case_insensitively_and_scalars_leniently(partner: Partner) -> None:
    body = {
        "partnerid": str(partner.partner_id),
        "PLANTYPEID": "1",
        "name": "Lenient",
        "isinactive": "TRUE",
    }
    response = partner.client.post("/api/companies", json=body)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["IsInactive"] is True and data["Name"] == "Lenient"


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("PlanTypeId", "one"),
        ("PlanTypeId", 1.5),
        ("PlanTypeId", True),
        ("PlanTypeId", {"a": 1}),
        ("IsInactive", "yes"),
        ("IsInactive", 2),
        ("Name", ["a"]),
        ("Name", True),
        ("PlanTypeId", 2**63),
        ("Name", "nul\x00byte"),
    ],
)
def test_wrong_types_are_validation_failures_naming_the_attribute(
    partner: Partner, attribute: str, value: object
) -> None:
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Typed", attribute: value}
    response = partner.client.post("/api/companies", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [e["attribute"] for e in error["errors"]] == [attribute]


def test_null_boolean_means_false(partner: Partner) -> None:
    body = {
        "PartnerId": partner.partner_id,
        "PlanTypeId": 1,
        "Name": "Nullbool",
        "IsInactive": None,
    }
    data = partner.client.post("/api/companies", json=body).json()["data"]
    assert data["IsInactive"] is False
    cid = data["CompanyId"]
    partner.client.put(f"/api/companies/{cid}", json={"IsInactive": True})
    assert (
        partner.client.put(f"/api/companies/{cid}", json={"IsInactive": None}).json()["data"][
            "IsInactive"
        ]
        is False
    )


def test_every_failing_attribute_is_listed_at_once(partner: Partner) -> None:
    response = partner.client.post("/api/companies", json={"Name": "", "Country": "x" * 51})
    attributes = {e["attribute"] for e in response.json()["error"]["errors"]}
    assert attributes == {"PartnerId", "PlanTypeId", "Name", "Country"}


def test_body_over_one_mebibyte_is_413(partner: Partner) -> None:
    big = '{"Name": "' + "x" * (1024 * 1024) + '"}'
    response = _post(partner, big, "application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_body_over_the_limit_is_413(partner: Partner) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"Name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = partner.client.post(
        "/api/companies", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
