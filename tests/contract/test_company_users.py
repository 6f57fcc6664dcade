"""Company Users over HTTPS: attributes, Email rules, the account owner, invitations, Events."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Select, select
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database
from cleverfox.server.models import CompanyUser, Mail

T = TypeVar("T")
ADDED, MODIFIED, DELETED = 13, 14, 15
MESSAGE_ID = re.compile(r"<invite-company-(\d+)-[0-9a-f]+@cleverfox>")
URL = "/api/companyusers"


@pytest.fixture(scope="module")
def db(server: ServerProcess) -> Iterator[Database]:
    """The server's database, read directly to see what the API wrote beside the object."""
    database = Database(server.sqlalchemy_url, pool_size=2)
    yield database
    database.dispose()


def rows(db: Database, stmt: Select[T]) -> list[T]:
    """The rows ``stmt`` selects, detached so they stay readable after the read ends."""
    with db.reading() as session:
        found = list(session.scalars(stmt))
        session.expunge_all()
    return found


def unique_email(name: str = "ada") -> str:
    return f"{name}.{secrets.token_hex(4)}@example.com"


def user_body(company_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "CompanyId": company_id,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": unique_email(),
    }
    body.update(overrides)
    return body


def create_user(
    partner: Partner, company_id: int | None = None, **overrides: object
) -> dict[str, Any]:
    body = user_body(company_id or partner.company_id, **overrides)
    response = partner.client.post(URL, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def create_company(partner: Partner, name: str = "Contoso") -> int:
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": name}
    response = partner.client.post("/api/companies", json=body)
    assert response.status_code == 201, response.text
    company_id: int = response.json()["data"]["CompanyId"]
    return company_id


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [u["CompanyUserId"] for u in response.json()["data"]]


def events(partner: Partner, company_user_id: int) -> list[dict[str, Any]]:
    """The user's Events as ``/api/events`` shows them, oldest first."""
    response = partner.client.get("/api/events", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    found = [e for e in response.json()["data"] if e["CompanyUserId"] == company_user_id]
    return sorted(found, key=lambda e: e["EventId"])


def test_create_returns_201_with_location_and_embedded_company(partner: Partner) -> None:
    response = partner.client.post(URL, json=user_body(partner.company_id, WorkPhone="555 0100"))
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["location"] == f"{URL}/{data['CompanyUserId']}"
    assert data["CompanyId"] == partner.company_id
    assert data["WorkPhone"] == "555 0100"
    assert data["Company"]["CompanyId"] == partner.company_id
    assert data["Company"]["Partner"] is None  # one level only
    assert data["Company"]["PlanType"] is None
    assert data["Token"] is None
    assert data["UpdatedOn"] is None
    assert "PartnerId" not in data
    fetched = partner.client.get(f"{URL}/{data['CompanyUserId']}")
    assert fetched.json()["data"] == data


def test_each_companys_first_user_is_its_account_owner(partner: Partner) -> None:
    other_company = create_company(partner)
    first = create_user(partner)
    second = create_user(partner, IsAccountOwner=True)  # read-only: ignored
    elsewhere = create_user(partner, other_company)
    assert first["IsAccountOwner"] is True
    assert second["IsAccountOwner"] is False
    assert elsewhere["IsAccountOwner"] is True


def test_required_attributes_and_lengths_are_all_reported(partner: Partner) -> None:
    missing = partner.client.post(URL, json={"CompanyId": partner.company_id})
    assert missing.status_code == 400
    missing_names = {e["attribute"] for e in error_of(missing)["errors"]}
    assert missing_names == {"FirstName", "LastName", "Email"}
    too_long = partner.client.post(
        URL,
        json=user_body(
            partner.company_id,
            FirstName="f" * 26,
            LastName="l" * 26,
            Email="a" * 250 + "@example.com",
            HomePhone="1" * 21,
            MobilePhone="2" * 21,
            WorkPhone="3" * 21,
        ),
    )
    assert too_long.status_code == 400
    assert {(e["attribute"], e["code"]) for e in error_of(too_long)["errors"]} == {
        ("FirstName", "too_long"),
        ("LastName", "too_long"),
        ("Email", "too_long"),
        ("HomePhone", "too_long"),
        ("MobilePhone", "too_long"),
        ("WorkPhone", "too_long"),
    }
    no_company = partner.client.post(
        URL, json={"FirstName": "A", "LastName": "B", "Email": unique_email()}
    )
    assert [e["attribute"] for e in error_of(no_company)["errors"]] == ["CompanyId"]


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "ada@example",
        "ada lovelace@example.com",
        "ada@example.com\nBcc: eve@example.com",
        "Ada <ada@example.com>",
        "ada@example.com;bob@example.com",
        "ada@example.invalid",
    ],
)
def test_an_email_that_is_not_one_valid_address_is_a_validation_failure(
    partner: Partner, email: str
) -> None:
    response = partner.client.post(URL, json=user_body(partner.company_id, Email=email))
    assert response.status_code == 400, response.text
    assert [(e["attribute"], e["code"]) for e in error_of(response)["errors"]] == [
        ("Email", "invalid_email")
    ]
    uid = create_user(partner)["CompanyUserId"]
    changed = partner.client.put(f"{URL}/{uid}", json={"Email": email})
    assert changed.status_code == 400


def test_company_id_must_be_a_company_of_the_caller(
    partner: Partner, partner_second: Partner
) -> None:
    for company_id in (partner_second.company_id, 2**62):
        response = partner.client.post(URL, json=user_body(company_id))
        assert response.status_code == 400
        assert [(e["attribute"], e["code"]) for e in error_of(response)["errors"]] == [
            ("CompanyId", "invalid_reference")
        ]
    assert ids(partner_second.client.get(URL)) == []


def test_company_id_cannot_change_on_put(partner: Partner) -> None:
    other_company = create_company(partner)
    uid = create_user(partner)["CompanyUserId"]
    response = partner.client.put(f"{URL}/{uid}", json={"CompanyId": other_company})
    assert response.status_code == 200
    assert response.json()["data"]["CompanyId"] == partner.company_id


def test_email_is_unique_within_the_company_compared_case_insensitively(partner: Partner) -> None:
    other_company = create_company(partner)
    email = unique_email("Grace")
    create_user(partner, Email=email)
    again = partner.client.post(URL, json=user_body(partner.company_id, Email=email.upper()))
    assert again.status_code == 409
    assert error_of(again)["code"] == "email_taken"
    create_user(partner, other_company, Email=email.lower())  # another company may use it
    second = create_user(partner)
    moved = partner.client.put(f"{URL}/{second['CompanyUserId']}", json={"Email": email.swapcase()})
    assert moved.status_code == 409
    assert error_of(moved)["code"] == "email_taken"


def test_filters_company_email_and_is_inactive(partner: Partner, partner_second: Partner) -> None:
    other_company = create_company(partner)
    owner = create_user(partner)
    email = unique_email("Filter")
    match = create_user(partner, Email=email, IsInactive=True)
    elsewhere = create_user(partner, other_company, Email=email)
    assert ids(partner.client.get(URL, params={"email": email.upper()})) == [
        elsewhere["CompanyUserId"],
        match["CompanyUserId"],
    ]
    assert ids(partner.client.get(URL, params={"CompanyId": partner.company_id})) == [
        match["CompanyUserId"],
        owner["CompanyUserId"],
    ]
    both: dict[str, str | int] = {"CompanyId": partner.company_id, "IsInactive": "false"}
    assert ids(partner.client.get(URL, params=both)) == [owner["CompanyUserId"]]
    theirs = {"CompanyId": partner_second.company_id}
    assert ids(partner.client.get(URL, params=theirs)) == []
    bad = partner.client.get(URL, params={"CompanyId": "x"})
    assert bad.status_code == 400
    assert error_of(bad)["code"] == "invalid_parameter"


def test_another_partners_user_is_404_on_every_verb(
    partner: Partner, partner_second: Partner
) -> None:
    uid = create_user(partner_second)["CompanyUserId"]
    create_user(partner_second)
    assert partner.client.get(f"{URL}/{uid}").status_code == 404
    assert partner.client.put(f"{URL}/{uid}", json={"FirstName": "Eve"}).status_code == 404
    assert partner.client.delete(f"{URL}/{uid}").status_code == 404
    assert ids(partner.client.get(URL)) == []
    assert partner_second.client.get(f"{URL}/{uid}").json()["data"]["FirstName"] == "Ada"


def test_the_account_owner_cannot_be_deleted_or_deactivated(partner: Partner) -> None:
    owner = create_user(partner)
    oid = owner["CompanyUserId"]
    deleted = partner.client.delete(f"{URL}/{oid}")
    assert deleted.status_code == 409
    assert error_of(deleted)["code"] == "account_owner"
    deactivated = partner.client.put(f"{URL}/{oid}", json={"isinactive": True})
    assert deactivated.status_code == 409
    assert error_of(deactivated)["code"] == "account_owner"
    round_trip = partner.client.put(f"{URL}/{oid}", json={**owner, "LastName": "Byron"})
    assert round_trip.status_code == 200
    assert round_trip.json()["data"]["IsAccountOwner"] is True


def test_other_users_can_be_deactivated_and_deleted(partner: Partner) -> None:
    create_user(partner)
    uid = create_user(partner)["CompanyUserId"]
    response = partner.client.put(f"{URL}/{uid}", json={"IsInactive": "true"})
    assert response.json()["data"]["IsInactive"] is True
    deleted = partner.client.delete(f"{URL}/{uid}")
    assert deleted.status_code == 200
    assert deleted.json()["data"]["CompanyUserId"] == uid
    assert partner.client.get(f"{URL}/{uid}").status_code == 404


def test_the_first_user_cannot_be_created_inactive(partner: Partner) -> None:
    refused = partner.client.post(URL, json=user_body(partner.company_id, IsInactive=True))
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "account_owner"
    assert create_user(partner)["IsAccountOwner"] is True


def test_deleting_the_company_deletes_its_users(partner: Partner) -> None:
    company_id = create_company(partner)
    owner = create_user(partner, company_id)["CompanyUserId"]
    other = create_user(partner, company_id)["CompanyUserId"]
    assert partner.client.delete(f"/api/companies/{company_id}").status_code == 200
    for uid in (owner, other):
        assert partner.client.get(f"{URL}/{uid}").status_code == 404
        assert [e["EventTypeId"] for e in events(partner, uid)] == [ADDED, DELETED]


def test_creating_a_user_queues_one_invitation_mail(partner: Partner, db: Database) -> None:
    company_id = create_company(partner, "Northwind")
    email = unique_email("Invitee")
    user = create_user(partner, company_id, FirstName="Ivy", Email=email)
    mails = rows(db, select(Mail).where(Mail.to_addresses == email))
    assert len(mails) == 1
    (mail,) = mails
    assert mail.kind == "invitation"
    assert mail.partner_id == partner.partner_id
    match = MESSAGE_ID.fullmatch(mail.message_id)
    assert match is not None
    assert int(match.group(1)) == user["CompanyUserId"]
    assert "Northwind" in mail.subject
    assert "Ivy" in mail.body
    # written due now; the server's mail duty may already have tried it (attempts unchecked)
    assert mail.next_attempt_at is not None
    assert mail.added_on is not None


def test_every_change_writes_its_event(partner: Partner) -> None:
    uid = create_user(partner, LastName="Old")["CompanyUserId"]
    changed = partner.client.put(f"{URL}/{uid}", json={"LastName": "New", "HomePhone": "1"})
    assert changed.status_code == 200
    assert partner.client.put(f"{URL}/{uid}", json={"LastName": "New"}).status_code == 200
    other = create_user(partner)["CompanyUserId"]
    assert partner.client.delete(f"{URL}/{other}").status_code == 200
    written = events(partner, uid)
    assert [(e["EventTypeId"], e["Actor"], e["PartnerId"], e["CompanyId"]) for e in written] == [
        (ADDED, "Api", partner.partner_id, partner.company_id),
        (MODIFIED, "Api", partner.partner_id, partner.company_id),
    ]
    assert written[0]["Changes"] is None
    assert written[1]["Changes"] == {"LastName": ["Old", "New"], "HomePhone": [None, "1"]}
    assert [(e["EventTypeId"], e["CompanyId"]) for e in events(partner, other)] == [
        (ADDED, partner.company_id),
        (DELETED, partner.company_id),
    ]


def _post_all(
    server: ServerProcess, partner: Partner, bodies: list[dict[str, object]]
) -> list[httpx.Response]:
    def post(body: dict[str, object]) -> httpx.Response:
        with server.client(partner.api_key) as client:
            return client.post(URL, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_concurrent_first_users_make_exactly_one_owner(
    server: ServerProcess, partner: Partner, db: Database
) -> None:
    company_id = create_company(partner)
    responses = _post_all(server, partner, [user_body(company_id) for _ in range(8)])
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    made = [r.json()["data"] for r in responses]
    owners = [u["CompanyUserId"] for u in made if u["IsAccountOwner"]]
    assert len(owners) == 1
    stored = rows(
        db,
        select(CompanyUser.id).where(
            CompanyUser.company_id == company_id, CompanyUser.is_account_owner.is_(True)
        ),
    )
    assert stored == owners
