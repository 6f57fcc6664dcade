"""Companies over HTTPS: every attribute rule, filter and conflict of resources.md."""

from __future__ import annotations

from tests.support.server import Partner


def company_body(partner: Partner, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Contoso"}
    body.update(overrides)
    return body


def create_company(partner: Partner, **overrides: object) -> dict[str, object]:
    response = partner.client.post("/api/companies", json=company_body(partner, **overrides))
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_every_partner_starts_with_its_own_company(partner: Partner) -> None:
    response = partner.client.get("/api/companies")
    assert response.status_code == 200
    body = response.json()
    assert [c["CompanyId"] for c in body["data"]] == [partner.company_id]
    assert body["has_more"] is False and body["page_no"] == 1 and body["page_size"] == 25


def test_create_returns_201_with_location_and_embedded_objects(partner: Partner) -> None:
    response = partner.client.post(
        "/api/companies", json=company_body(partner, StateProvidence="WA")
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["location"] == f"/api/companies/{data['CompanyId']}"
    assert data["StateProvidence"] == "WA"
    assert data["Partner"]["PartnerId"] == partner.partner_id
    assert data["Partner"]["PlanType"] is None  # one level only
    assert data["PlanType"]["PlanTypeId"] == 1
    assert data["Token"] is None and data["UpdatedOn"] is None and data["DeviceCount"] == 0


def test_name_is_required_and_limited_to_100(partner: Partner) -> None:
    response = partner.client.post(
        "/api/companies", json=company_body(partner, Name="x" * 101, Phone="1" * 51)
    )
    assert response.status_code == 400
    errors = response.json()["error"]["errors"]
    assert {(e["attribute"], e["code"]) for e in errors} == {
        ("Name", "too_long"),
        ("Phone", "too_long"),
    }
    missing = partner.client.post(
        "/api/companies", json={"PartnerId": partner.partner_id, "PlanTypeId": 1}
    )
    assert [e["attribute"] for e in missing.json()["error"]["errors"]] == ["Name"]


def test_partner_id_of_another_partner_is_a_validation_failure(
    partner: Partner, partner_second: Partner
) -> None:
    response = partner.client.post(
        "/api/companies", json=company_body(partner, PartnerId=partner_second.partner_id)
    )
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["attribute"] == "PartnerId"


def test_external_id_unique_per_partner(partner: Partner, partner_second: Partner) -> None:
    create_company(partner, ExternalId="crm-1")
    again = partner.client.post("/api/companies", json=company_body(partner, ExternalId="crm-1"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "external_id_taken"
    other = partner_second.client.post(
        "/api/companies", json=company_body(partner_second, ExternalId="crm-1")
    )
    assert other.status_code == 201


def test_put_changes_only_what_is_sent_and_writes_one_event(partner: Partner) -> None:
    company = create_company(partner, Phone="555", Country="NZ")
    cid = company["CompanyId"]
    response = partner.client.put(f"/api/companies/{cid}", json={"phone": "777"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["Phone"] == "777" and data["Country"] == "NZ" and data["UpdatedOn"] is not None
    unchanged = partner.client.put(f"/api/companies/{cid}", json={"Phone": "777"})
    assert unchanged.status_code == 200
    assert unchanged.json()["data"]["UpdatedOn"] == data["UpdatedOn"]


def test_null_clears_optional_and_is_refused_for_required(partner: Partner) -> None:
    cid = create_company(partner, Phone="555")["CompanyId"]
    cleared = partner.client.put(f"/api/companies/{cid}", json={"Phone": None, "Country": ""})
    assert cleared.json()["data"]["Phone"] is None and cleared.json()["data"]["Country"] is None
    refused = partner.client.put(f"/api/companies/{cid}", json={"Name": ""})
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0] == {
        "attribute": "Name",
        "code": "required",
        "message": "Name is required.",
    }


def test_filters_name_contains_escapes_wildcards(partner: Partner) -> None:
    create_company(partner, Name="100% Dental")
    create_company(partner, Name="100 Dentists")
    create_company(partner, Name="Big_Corp", IsInactive=True)
    names = lambda r: [c["Name"] for c in r.json()["data"]]  # noqa: E731
    assert names(partner.client.get("/api/companies", params={"NameContains": "0% d"})) == [
        "100% Dental"
    ]
    assert names(partner.client.get("/api/companies", params={"namecontains": "g_c"})) == [
        "Big_Corp"
    ]
    assert names(partner.client.get("/api/companies", params={"IsInactive": "true"})) == [
        "Big_Corp"
    ]


def test_delete_returns_the_object_and_then_404(partner: Partner) -> None:
    cid = create_company(partner)["CompanyId"]
    deleted = partner.client.delete(f"/api/companies/{cid}")
    assert deleted.status_code == 200 and deleted.json()["data"]["CompanyId"] == cid
    assert partner.client.get(f"/api/companies/{cid}").status_code == 404
