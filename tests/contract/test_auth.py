"""README §2: who may call — Basic auth with the API key, Partner Plan, tenant isolation."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import httpx
import pytest
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database
from cleverfox.server.partners import operator


def test_missing_key_is_401_with_challenge(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/api/companies")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="CleverFox Backup"'
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Basic", "Basic !!!notbase64", "Bearer abc", "Basic " + "Og==", "Digest username=x"],
)
def test_malformed_authorization_is_401(server: ServerProcess, header: str) -> None:
    with server.client() as client:
        response = client.get("/api/companies", headers={"Authorization": header})
    assert response.status_code == 401


# Raw header bytes, as a client sends them: UTF-8 ("Basic ключ") and Latin-1 text where
# base64 belongs, a non-ASCII scheme, and base64 of a username that is not UTF-8.
NON_ASCII_AUTHORIZATION = [
    "Basic ключ".encode(),
    "Basic clé".encode("latin-1"),
    "Básic Y2ZwX2tleTo=".encode("latin-1"),
    b"Basic " + base64.b64encode("clé:".encode("latin-1")),
]


@pytest.mark.parametrize("header", NON_ASCII_AUTHORIZATION)
@pytest.mark.parametrize("path", ["/api/companies", "/api/companies/1", "/api/agent/checkin"])
def test_non_ascii_authorization_is_401_with_challenge(
    server: ServerProcess, header: bytes, path: str
) -> None:
    """It reached base64 decoding uncaught: 500 with a traceback (issue 9, defect 1). The
    hot GET (``/api/companies/1``) and the agent's POST make the same check."""
    with server.client() as client:
        method = "POST" if path.startswith("/api/agent/") else "GET"
        response = client.request(method, path, headers={"Authorization": header}, json={})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Basic realm="CleverFox Backup"'
    assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_key_is_401(server: ServerProcess) -> None:
    with server.client("cfp_not-a-key") as client:
        assert client.get("/api/companies").status_code == 401


def test_password_is_ignored(server: ServerProcess, partner: Partner) -> None:
    with httpx.Client(
        base_url=server.url, verify=False, auth=(partner.api_key, "anything")
    ) as client:
        assert client.get("/api/companies").status_code == 200


def _set_active(server: ServerProcess, partner_id: int, active: bool) -> None:
    db = Database(server.sqlalchemy_url, pool_size=1)
    with db.writing() as session:
        operator.set_partner_active(session, partner_id, active)
    db.dispose()


def test_inactive_partner_is_403_partner_plan_required(
    server: ServerProcess, partner: Partner
) -> None:
    _set_active(server, partner.partner_id, False)
    response = partner.client.get("/api/companies")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "partner_plan_required"
    _set_active(server, partner.partner_id, True)
    assert partner.client.get("/api/companies").status_code == 200


def test_rotated_partner_key_stops_working(server: ServerProcess, partner: Partner) -> None:
    db = Database(server.sqlalchemy_url, pool_size=1)
    with db.writing() as session:
        from cleverfox.server.kit.secrets import load_or_create_secret

        new_key = operator.rotate_partner_key(
            session, load_or_create_secret(server.data_dir / "secret.key"), partner.partner_id
        )
    db.dispose()
    assert partner.client.get("/api/companies").status_code == 401
    with server.client(new_key) as client:
        assert client.get("/api/companies").status_code == 200


AUTH_CACHE_SECONDS = 2.0  # the server's default CLEVERFOX_AUTH_CACHE_SECONDS


def _seconds_until(request: Callable[[], httpx.Response], status: int) -> float:
    """How long until ``request`` answers ``status`` (polled; fails after the window + 1 s)."""
    started = time.monotonic()
    while (answer := request()).status_code != status:
        assert time.monotonic() - started < AUTH_CACHE_SECONDS + 1, answer.status_code
        time.sleep(0.05)
    return time.monotonic() - started


def test_changes_to_a_key_in_use_take_effect_within_the_auth_cache_window(
    server: ServerProcess, partner: Partner
) -> None:
    """A process trusts a partner key it authenticated for ``CLEVERFOX_AUTH_CACHE_SECONDS``
    (docs/api.md): deactivating, then rotating, a key just used is refused within that window,
    and what lifts a refusal (activation, the new key) works at once: failures are not cached.
    """

    def companies() -> httpx.Response:
        return partner.client.get("/api/companies")

    assert companies().status_code == 200
    _set_active(server, partner.partner_id, False)
    assert _seconds_until(companies, 403) < AUTH_CACHE_SECONDS + 1
    _set_active(server, partner.partner_id, True)
    assert companies().status_code == 200
    db = Database(server.sqlalchemy_url, pool_size=1)
    with db.writing() as session:
        from cleverfox.server.kit.secrets import load_or_create_secret

        new_key = operator.rotate_partner_key(
            session, load_or_create_secret(server.data_dir / "secret.key"), partner.partner_id
        )
    db.dispose()
    assert _seconds_until(companies, 401) < AUTH_CACHE_SECONDS + 1
    with server.client(new_key) as client:
        assert client.get("/api/companies").status_code == 200


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE"])
def test_another_partners_company_is_404_on_every_verb(
    partner: Partner, partner_second: Partner, verb: str
) -> None:
    url = f"/api/companies/{partner_second.company_id}"
    kwargs = {"json": {"Name": "stolen"}} if verb == "PUT" else {}
    response = partner.client.request(verb, url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 404
    assert partner_second.client.get(url).json()["data"]["Name"] != "stolen"


def test_another_partner_record_is_404(partner: Partner, partner_second: Partner) -> None:
    assert partner.client.get(f"/api/partners/{partner_second.partner_id}").status_code == 404
    put = partner.client.put(f"/api/partners/{partner_second.partner_id}", json={"Name": "x"})
    assert put.status_code == 404
    mine = partner.client.get("/api/partners").json()["data"]
    assert [p["PartnerId"] for p in mine] == [partner.partner_id]


def test_filter_naming_an_invisible_object_matches_nothing(
    partner: Partner, partner_second: Partner
) -> None:
    response = partner.client.get("/api/companies", params={"ExternalId": "anything"})
    assert response.status_code == 200 and response.json()["data"] == []


def test_shared_catalogues_are_visible(partner: Partner) -> None:
    plans = partner.client.get("/api/plans", params={"PageSize": 1000}).json()["data"]
    small = next(p for p in plans if p["PlanId"] == 1)
    assert (small["Name"], small["DeviceLimit"], small["StorageLimit"], small["DownloadLimit"]) == (
        "Small Plan",
        1,
        25,
        False,
    )
    types = partner.client.get("/api/backuptypes").json()["data"]
    assert {t["EngineId"]: t["Port"] for t in types if t["BackupTypeId"] <= 5} == {
        "FILE": None,
        "MSSQL": 1433,
        "PGSQL": 5432,
        "MYSQL": 3306,
        "SQLITE": None,
    }
    plan_type = partner.client.get("/api/plantypes/1").json()["data"]
    assert plan_type == {
        "PlanTypeId": 1,
        "Name": "CleverFox Backup",
        "IsInactive": False,
        "HasApiAccess": True,
    }
    event_types = partner.client.get("/api/eventtypes", params={"PageSize": 100}).json()["data"]
    assert {"EventTypeId": 32, "Name": "Device Modified"} in event_types
