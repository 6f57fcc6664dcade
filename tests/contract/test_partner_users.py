"""Partner Users over HTTPS: attributes, Email rules, the account owner, invitations, Events."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Select, select
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import Mail, PartnerUser
from cleverfox.server.partners import operator

T = TypeVar("T")
ADDED, MODIFIED, DELETED = 3, 4, 5
MESSAGE_ID = re.compile(r"<invite-partner-(\d+)-[0-9a-f]+@cleverfox>")


@pytest.fixture(scope="module")
def db(server: ServerProcess) -> Iterator[Database]:
    """The server's database, read directly to see what the API wrote beside the object."""
    database = Database(server.sqlalchemy_url, pool_size=2)
    yield database
    database.dispose()


def unique_email(name: str = "ada") -> str:
    return f"{name}.{secrets.token_hex(4)}@example.com"


def user_body(partner: Partner, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "PartnerId": partner.partner_id,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": unique_email(),
    }
    body.update(overrides)
    return body


def create_user(partner: Partner, **overrides: object) -> dict[str, Any]:
    response = partner.client.post("/api/partnerusers", json=user_body(partner, **overrides))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def rows(db: Database, stmt: Select[T]) -> list[T]:
    """The rows ``stmt`` selects, detached so they stay readable after the read ends."""
    with db.reading() as session:
        found = list(session.scalars(stmt))
        session.expunge_all()
    return found


def events(partner: Partner, partner_user_id: int) -> list[dict[str, Any]]:
    """The user's Events as ``/api/events`` shows them, oldest first."""
    response = partner.client.get("/api/events", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    found = [e for e in response.json()["data"] if e["PartnerUserId"] == partner_user_id]
    return sorted(found, key=lambda e: e["EventId"])


def mails_to(db: Database, email: str) -> list[Mail]:
    return rows(db, select(Mail).where(Mail.to_addresses == email))


def partner_with_owner(server: ServerProcess, email: str) -> Partner:
    """A partner made as ``partner create --owner-email`` makes it."""
    database = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with database.writing() as session:
            secret = load_or_create_secret(server.data_dir / "secret.key")
            owner = operator.Owner(email, "Olive", "Owner")
            made = operator.create_partner(session, secret, "Owned Partner", 1, owner)
    finally:
        database.dispose()
    return Partner(made.partner_id, made.company_id, made.api_key, server.client(made.api_key))


def test_create_returns_201_with_location_and_embedded_partner(partner: Partner) -> None:
    body = user_body(partner, MobilePhone="+64 21 555")
    response = partner.client.post("/api/partnerusers", json=body)
    assert response.status_code == 201
    data = response.json()["data"]
    assert response.headers["location"] == f"/api/partnerusers/{data['PartnerUserId']}"
    assert data["PartnerId"] == partner.partner_id
    assert data["MobilePhone"] == "+64 21 555"
    assert data["Partner"]["PartnerId"] == partner.partner_id
    assert data["Partner"]["PlanType"] is None  # one level only
    assert data["IsInactive"] is False
    assert data["HomePhone"] is None
    assert data["Token"] is None
    assert data["UpdatedOn"] is None
    assert data["AddedOn"]
    fetched = partner.client.get(f"/api/partnerusers/{data['PartnerUserId']}")
    assert fetched.status_code == 200
    assert fetched.json()["data"] == data


def test_the_first_user_is_the_account_owner_and_only_the_first(partner: Partner) -> None:
    first = create_user(partner)
    second = create_user(partner, IsAccountOwner=True)  # read-only: ignored
    assert first["IsAccountOwner"] is True
    assert second["IsAccountOwner"] is False
    listed = partner.client.get("/api/partnerusers").json()["data"]
    assert [(u["PartnerUserId"], u["IsAccountOwner"]) for u in listed] == [
        (second["PartnerUserId"], False),
        (first["PartnerUserId"], True),
    ]


def test_required_attributes_and_lengths_are_all_reported(partner: Partner) -> None:
    missing = partner.client.post("/api/partnerusers", json={"PartnerId": partner.partner_id})
    assert missing.status_code == 400
    missing_names = {e["attribute"] for e in error_of(missing)["errors"]}
    assert missing_names == {"FirstName", "LastName", "Email"}
    too_long = partner.client.post(
        "/api/partnerusers",
        json=user_body(
            partner,
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
    no_partner = partner.client.post(
        "/api/partnerusers", json={"FirstName": "A", "LastName": "B", "Email": unique_email()}
    )
    assert [e["attribute"] for e in error_of(no_partner)["errors"]] == ["PartnerId"]


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada lovelace@example.com",
        " ada@example.com",
        "ada@example.com\r\nBcc: eve@example.com",
        "Ada <ada@example.com>",
        "ada@example.com, bob@example.com",
        "ada@localhost",
        "ada@example.test",
        "ada..l@example.com",
        12345,
    ],
)
def test_an_email_that_is_not_one_valid_address_is_a_validation_failure(
    partner: Partner, email: object
) -> None:
    response = partner.client.post("/api/partnerusers", json=user_body(partner, Email=email))
    assert response.status_code == 400, response.text
    errors = error_of(response)["errors"]
    assert [e["attribute"] for e in errors] == ["Email"]
    assert errors[0]["code"] == "invalid_email"


def test_put_checks_the_email_too_and_refuses_null_for_required(partner: Partner) -> None:
    uid = create_user(partner)["PartnerUserId"]
    bad = partner.client.put(f"/api/partnerusers/{uid}", json={"Email": "nobody"})
    assert bad.status_code == 400
    assert error_of(bad)["errors"][0]["attribute"] == "Email"
    cleared = partner.client.put(f"/api/partnerusers/{uid}", json={"LastName": None, "Email": ""})
    assert cleared.status_code == 400
    assert {(e["attribute"], e["code"]) for e in error_of(cleared)["errors"]} == {
        ("LastName", "required"),
        ("Email", "required"),
    }


def test_email_is_unique_per_partner_compared_case_insensitively(
    partner: Partner, partner_second: Partner
) -> None:
    email = unique_email("Grace")
    create_user(partner, Email=email)
    again = partner.client.post("/api/partnerusers", json=user_body(partner, Email=email.upper()))
    assert again.status_code == 409
    assert error_of(again)["code"] == "email_taken"
    other_partner = partner_second.client.post(
        "/api/partnerusers", json=user_body(partner_second, Email=email.lower())
    )
    assert other_partner.status_code == 201
    second = create_user(partner)
    moved = partner.client.put(
        f"/api/partnerusers/{second['PartnerUserId']}", json={"Email": email.swapcase()}
    )
    assert moved.status_code == 409
    assert error_of(moved)["code"] == "email_taken"


def test_changing_only_the_case_of_ones_own_email_is_allowed(partner: Partner) -> None:
    email = unique_email("mixed")
    uid = create_user(partner, Email=email)["PartnerUserId"]
    response = partner.client.put(f"/api/partnerusers/{uid}", json={"email": email.upper()})
    assert response.status_code == 200
    assert response.json()["data"]["Email"] == email.upper()
    found = partner.client.get("/api/partnerusers", params={"Email": email})
    assert [u["PartnerUserId"] for u in found.json()["data"]] == [uid]


def test_a_deleted_users_email_may_be_reused_at_once(partner: Partner) -> None:
    create_user(partner)  # the owner
    email = unique_email()
    uid = create_user(partner, Email=email)["PartnerUserId"]
    assert partner.client.delete(f"/api/partnerusers/{uid}").status_code == 200
    create_user(partner, Email=email.upper())


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [u["PartnerUserId"] for u in response.json()["data"]]


def test_filters_email_case_insensitive_and_is_inactive(partner: Partner) -> None:
    owner = create_user(partner, Email=unique_email("owner"))
    email = unique_email("Filter")
    match = create_user(partner, Email=email)
    inactive = create_user(partner, IsInactive=True)
    assert ids(partner.client.get("/api/partnerusers", params={"email": email.upper()})) == [
        match["PartnerUserId"]
    ]
    nobody = partner.client.get("/api/partnerusers", params={"Email": "nobody@example.com"})
    assert ids(nobody) == []
    assert ids(partner.client.get("/api/partnerusers", params={"IsInactive": "true"})) == [
        inactive["PartnerUserId"]
    ]
    assert ids(partner.client.get("/api/partnerusers", params={"IsInactive": "false"})) == [
        match["PartnerUserId"],
        owner["PartnerUserId"],
    ]
    bad = partner.client.get("/api/partnerusers", params={"IsInactive": "maybe"})
    assert bad.status_code == 400
    assert error_of(bad)["code"] == "invalid_parameter"


def test_partner_id_of_another_partner_is_a_validation_failure(
    partner: Partner, partner_second: Partner
) -> None:
    response = partner.client.post(
        "/api/partnerusers", json=user_body(partner, PartnerId=partner_second.partner_id)
    )
    assert response.status_code == 400
    assert error_of(response)["errors"][0]["attribute"] == "PartnerId"
    assert partner_second.client.get("/api/partnerusers").json()["data"] == []


def test_another_partners_user_is_404_on_every_verb(
    partner: Partner, partner_second: Partner
) -> None:
    theirs = create_user(partner_second)
    create_user(partner_second)
    uid = theirs["PartnerUserId"]
    assert partner.client.get(f"/api/partnerusers/{uid}").status_code == 404
    changed = partner.client.put(f"/api/partnerusers/{uid}", json={"FirstName": "Eve"})
    assert changed.status_code == 404
    assert partner.client.delete(f"/api/partnerusers/{uid}").status_code == 404
    assert partner.client.get("/api/partnerusers").json()["data"] == []
    kept = partner_second.client.get(f"/api/partnerusers/{uid}").json()["data"]
    assert kept["FirstName"] == "Ada"


def test_a_path_id_that_cannot_exist_is_404(partner: Partner) -> None:
    for path in ("abc", "0", "-1", "99999999999999999999"):
        assert partner.client.get(f"/api/partnerusers/{path}").status_code == 404


def test_the_account_owner_cannot_be_deleted_or_deactivated(partner: Partner) -> None:
    owner = create_user(partner)
    oid = owner["PartnerUserId"]
    deleted = partner.client.delete(f"/api/partnerusers/{oid}")
    assert deleted.status_code == 409
    assert error_of(deleted)["code"] == "account_owner"
    deactivated = partner.client.put(f"/api/partnerusers/{oid}", json={"IsInactive": "true"})
    assert deactivated.status_code == 409
    assert error_of(deactivated)["code"] == "account_owner"
    unchanged = partner.client.put(
        f"/api/partnerusers/{oid}", json={**owner, "IsInactive": False, "IsAccountOwner": False}
    )
    assert unchanged.status_code == 200
    assert unchanged.json()["data"]["IsAccountOwner"] is True
    assert partner.client.get(f"/api/partnerusers/{oid}").json()["data"]["IsInactive"] is False


def test_other_users_can_be_deactivated_and_deleted(partner: Partner) -> None:
    create_user(partner)
    uid = create_user(partner)["PartnerUserId"]
    response = partner.client.put(f"/api/partnerusers/{uid}", json={"IsInactive": True})
    assert response.status_code == 200
    assert response.json()["data"]["IsInactive"] is True
    deleted = partner.client.delete(f"/api/partnerusers/{uid}")
    assert deleted.status_code == 200
    assert deleted.json()["data"]["PartnerUserId"] == uid
    assert partner.client.get(f"/api/partnerusers/{uid}").status_code == 404


def test_the_first_user_cannot_be_created_inactive(partner: Partner) -> None:
    refused = partner.client.post("/api/partnerusers", json=user_body(partner, IsInactive=True))
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "account_owner"
    assert create_user(partner)["IsAccountOwner"] is True
    assert create_user(partner, IsInactive=True)["IsInactive"] is True


def test_the_operators_owner_is_the_account_owner(server: ServerProcess, db: Database) -> None:
    email = unique_email("Olive")
    owned = partner_with_owner(server, email)
    try:
        listed = owned.client.get("/api/partnerusers").json()["data"]
        assert [(u["Email"], u["IsAccountOwner"]) for u in listed] == [(email, True)]
        oid = listed[0]["PartnerUserId"]
        taken = owned.client.post("/api/partnerusers", json=user_body(owned, Email=email.upper()))
        assert taken.status_code == 409
        assert error_of(taken)["code"] == "email_taken"
        assert create_user(owned)["IsAccountOwner"] is False
        assert owned.client.delete(f"/api/partnerusers/{oid}").status_code == 409
        mails = rows(db, select(Mail).where(Mail.partner_id == owned.partner_id))
        invited = [m.to_addresses for m in mails]
        assert len(invited) == 1
        assert email not in invited
    finally:
        owned.client.close()


def test_creating_a_user_queues_one_invitation_mail(partner: Partner, db: Database) -> None:
    email = unique_email("Invitee")
    user = create_user(partner, FirstName="Ivy", Email=email)
    mails = mails_to(db, email)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.kind == "invitation"
    assert mail.partner_id == partner.partner_id
    match = MESSAGE_ID.fullmatch(mail.message_id)
    assert match is not None
    assert int(match.group(1)) == user["PartnerUserId"]
    assert "Test Partner" in mail.subject
    assert "Ivy" in mail.body
    # written due now; the server's mail duty may already have tried it (attempts unchecked)
    assert mail.next_attempt_at is not None
    assert mail.added_on is not None
    refused = partner.client.post("/api/partnerusers", json=user_body(partner, Email=email))
    assert refused.status_code == 409
    assert len(mails_to(db, email)) == 1  # a refused request writes nothing


def test_the_invitation_is_delivered_by_the_servers_mail_duty(
    server: ServerProcess, partner: Partner, db: Database
) -> None:
    pytest.importorskip("cleverfox.server.mail.dispatch", reason="the mail duty is not built yet")
    email = unique_email("Delivered")
    create_user(partner, Email=email)
    (mail,) = mails_to(db, email)
    # No --smtp-url: mail goes to the data directory of whichever server process sent it
    # (the session may run a second process on the same database).
    data_dirs = server.data_dir.parent
    deadline, sent = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        sent = sorted(  # resolved: pytest also links "<name>current" to each temp folder
            {
                p.resolve()
                for p in data_dirs.glob("*/outbox/*.eml")
                if mail.message_id.strip("<>") in p.name
            }
        )
        if sent:
            break
        time.sleep(0.25)
    assert len(sent) == 1
    text = sent[0].read_text()
    assert f"To: {email}" in text
    assert f"Message-ID: {mail.message_id}" in text


def test_names_with_line_breaks_do_not_break_the_mail_subject(
    partner: Partner, db: Database
) -> None:
    email = unique_email()
    create_user(partner, FirstName="Ivy\r\nBcc: x", Email=email)
    (mail,) = mails_to(db, email)
    assert "\n" not in mail.subject
    assert "Hello Ivy Bcc: x," in mail.body


def test_every_change_writes_its_event(partner: Partner) -> None:
    uid = create_user(partner, FirstName="Old")["PartnerUserId"]
    assert (
        partner.client.put(
            f"/api/partnerusers/{uid}", json={"FirstName": "New", "WorkPhone": "555"}
        ).status_code
        == 200
    )
    same = partner.client.put(f"/api/partnerusers/{uid}", json={"FirstName": "New"})
    assert same.status_code == 200
    other = create_user(partner)["PartnerUserId"]
    assert partner.client.delete(f"/api/partnerusers/{other}").status_code == 200
    written = events(partner, uid)
    assert [(e["EventTypeId"], e["Actor"], e["PartnerId"]) for e in written] == [
        (ADDED, "Api", partner.partner_id),
        (MODIFIED, "Api", partner.partner_id),
    ]
    assert written[0]["Changes"] is None
    assert written[1]["Changes"] == {"FirstName": ["Old", "New"], "WorkPhone": [None, "555"]}
    assert [(e["EventTypeId"], e["Changes"]) for e in events(partner, other)] == [
        (ADDED, None),
        (DELETED, None),
    ]


def test_a_refused_change_writes_no_event(partner: Partner) -> None:
    oid = create_user(partner)["PartnerUserId"]
    partner.client.put(f"/api/partnerusers/{oid}", json={"IsInactive": True})
    partner.client.delete(f"/api/partnerusers/{oid}")
    assert [e["EventTypeId"] for e in events(partner, oid)] == [ADDED]


def test_a_repeated_token_is_not_applied_twice(partner: Partner) -> None:
    first = create_user(partner, Token="invite-1")
    again = partner.client.post("/api/partnerusers", json=user_body(partner, Token="invite-1"))
    assert again.status_code == 409
    assert error_of(again)["code"] == "duplicate_request"
    assert error_of(again)["id"] == first["PartnerUserId"]
    assert error_of(again)["resource"] == "partnerusers"


def _post_all(
    server: ServerProcess, partner: Partner, bodies: list[dict[str, object]]
) -> list[httpx.Response]:
    def post(body: dict[str, object]) -> httpx.Response:
        with server.client(partner.api_key) as client:
            return client.post("/api/partnerusers", json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_concurrent_first_users_make_exactly_one_owner(
    server: ServerProcess, partner: Partner, db: Database
) -> None:
    responses = _post_all(server, partner, [user_body(partner) for _ in range(8)])
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    made = [r.json()["data"] for r in responses]
    owners = [u["PartnerUserId"] for u in made if u["IsAccountOwner"]]
    assert len(owners) == 1
    stored = rows(
        db,
        select(PartnerUser.id).where(
            PartnerUser.partner_id == partner.partner_id, PartnerUser.is_account_owner.is_(True)
        ),
    )
    assert stored == owners


def test_concurrent_creates_with_one_email_make_one_user(
    server: ServerProcess, partner: Partner
) -> None:
    email = unique_email("Race")
    cases = [email, email.upper(), email.lower(), email.title()] * 2
    responses = _post_all(server, partner, [user_body(partner, Email=e) for e in cases])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    assert {error_of(r)["code"] for r in responses if r.status_code == 409} == {"email_taken"}
