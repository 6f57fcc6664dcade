"""``cleverfox secret rotate | status | prune`` end to end.

Each test runs its own server on its own data directory and database (SQLite, or a fresh
PostgreSQL database when ``CLEVERFOX_TEST_POSTGRES`` is set): rotating the session server's
secret would strand every other test. Data is made the way users make it — the operator's
``partner create`` and the public API — and proven through the API again after rotation.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from tests.support.server import ServerProcess, postgres_database, start_server, stop_server

from cleverfox.cli.main import cli
from cleverfox.server.app import RESOLVERS
from cleverfox.server.kit.access import resolve_key
from cleverfox.server.kit.auth import DevicePrincipal, PartnerPrincipal, Principal
from cleverfox.server.kit.conflicts import Conflicts
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.ratelimit import TokenBuckets
from cleverfox.server.kit.secrets import ServerSecret, read_secret
from cleverfox.server.kit.services import Services
from cleverfox.server.models import Device, JobItem, Partner, StorageCompany
from cleverfox.server.secrets_rotation import service as secrets_rotation
from cleverfox.server.storage.keys import unwrap
from cleverfox.settings import Settings

POSTGRES = os.environ.get("CLEVERFOX_TEST_POSTGRES") or None
CLEAN_ENV = {name: None for name in os.environ if name.startswith("CLEVERFOX_")}
LARGE_PLAN, MSSQL = 3, 2
CREDENTIALS = ("sa", "s3cret!")
RESTART = "Restart every server process"


@dataclass
class Rig:
    """A server of its own with a partner, a device and a job item holding credentials."""

    server: ServerProcess
    args: list[str]
    partner_id: int
    partner_key: str
    device_id: int
    device_key: str
    job_item_id: int

    @property
    def secret_file(self) -> Path:
        return self.server.data_dir / "secret.key"

    def restart(self) -> None:
        stop_server(self.server)
        self.server = start_server(
            self.server.data_dir, self.server.database_url, "--rate-limit", "0"
        )


def invoke(rig: Rig, *args: str) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(cli, [*args, *rig.args])


def run(rig: Rig, *args: str) -> Any:
    result = invoke(rig, *args, "--json")
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return json.loads(result.stdout)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture
def own_database() -> Iterator[str | None]:
    if POSTGRES is None:
        yield None
        return
    with postgres_database(POSTGRES) as url:
        yield url


@pytest.fixture
def rig(tmp_path: Path, own_database: str | None) -> Iterator[Rig]:
    server = start_server(tmp_path / "data", own_database, "--rate-limit", "0")
    args = ["--data-dir", str(server.data_dir)]
    args += ["--database-url", own_database] if own_database else []
    made = Rig(server, args, 0, "", 0, "", 0)
    try:
        _populate(made)
        yield made
    finally:
        stop_server(made.server)


def _populate(rig: Rig) -> None:
    partner = run(rig, "partner", "create", "--name", "Rotating Partner")
    rig.partner_id, rig.partner_key = partner["PartnerId"], partner["ApiKey"]
    company_id = partner["CompanyId"]
    with rig.server.client(rig.partner_key) as api:
        subscription = created(
            api.post("/api/subscriptions", json={"CompanyId": company_id, "PlanId": LARGE_PLAN})
        )
        device = created(
            api.post(
                "/api/devices",
                json={
                    "CompanyId": company_id,
                    "SubscriptionId": subscription["SubscriptionId"],
                    "Name": "FileServer",
                    "TimeZoneId": "UTC",
                },
            )
        )
        rig.device_id, rig.device_key = device["DeviceId"], device["ApiKey"]
        job = created(
            api.post(
                "/api/jobs",
                json={
                    "DeviceId": rig.device_id,
                    "Name": "Nightly",
                    "Frequency": "Daily",
                    "NextRunOn": (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                    "LateAfter": 60,
                    "Every": 1,
                    "CloudKeepLast": 7,
                    "LocalKeepLast": 3,
                },
            )
        )
        item = created(
            api.post(
                "/api/jobitems",
                json={
                    "JobId": job["JobId"],
                    "BackupTypeId": MSSQL,
                    "Name": "Db",
                    "ServerName": "sql01",
                    "DatabaseName": "sales",
                    "AuthenticationMode": "S",
                    "Username": CREDENTIALS[0],
                    "Password": CREDENTIALS[1],
                },
            )
        )
        rig.job_item_id = item["JobItemId"]


@contextmanager
def database(rig: Rig) -> Iterator[Database]:
    db = Database(rig.server.sqlalchemy_url, pool_size=1)
    try:
        yield db
    finally:
        db.dispose()


def resolve(rig: Rig, secret: ServerSecret, key: str) -> Principal | None:
    """What a server process holding ``secret`` makes of ``key`` (the auth path's look-up)."""
    with database(rig) as db:
        services = Services(
            settings=Settings(data_dir=rig.server.data_dir),
            db=db,
            secret=secret,
            resolvers=RESOLVERS,
            conflicts=Conflicts(()),
            rate=None,
            auth_failures=TokenBuckets(1, 1),
        )
        return resolve_key(services, key)


@dataclass(frozen=True)
class Stored:
    """The columns rotation touches, as the database holds them."""

    device_key: str
    device_digest: str
    username: str | None
    password: str | None
    partner_digest: str | None


def stored(rig: Rig) -> Stored:
    with database(rig) as db, db.reading() as session:
        device = session.get_one(Device, rig.device_id)
        item = session.get_one(JobItem, rig.job_item_id)
        partner = session.get_one(Partner, rig.partner_id)
        return Stored(
            device.api_key_encrypted,
            device.api_key_digest,
            item.username_encrypted,
            item.password_encrypted,
            partner.api_key_digest,
        )


def check_in(rig: Rig, key: str) -> httpx.Response:
    with rig.server.client(key) as agent:
        return agent.post("/api/agent/checkin", json={})


def credentials_checked_in(rig: Rig) -> tuple[str, str]:
    response = check_in(rig, rig.device_key)
    assert response.status_code == 200, response.text
    [job] = response.json()["data"]["Jobs"]
    [item] = job["JobItems"]
    return item["Username"], item["Password"]


def partner_status(rig: Rig, key: str) -> int:
    with rig.server.client(key) as api:
        return api.get("/api/companies").status_code


def status_within_auth_cache(probe: Callable[[], int], status: int) -> int:
    """The first ``status`` within the auth cache's window (2 s by default, and a second to
    spare; docs/api.md), else the last: a process trusts a key it served recently that long."""
    deadline = time.monotonic() + 3.0
    seen = probe()
    while seen != status and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = probe()
    return seen


def test_rotation_keeps_every_stored_key_and_credential_working(rig: Rig) -> None:
    before = read_secret(rig.secret_file)
    assert credentials_checked_in(rig) == CREDENTIALS
    id_key = check_in(rig, rig.device_key).json()["data"]["Storage"]["IdKey"]

    result = invoke(rig, "secret", "rotate", "--json")
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    rotated = json.loads(result.stdout)
    secret = read_secret(rig.secret_file)
    assert rotated == {
        "KeyId": secret.key_id,
        "OlderKeyIds": [before.key_id],
        "DevicesReEncrypted": 1,
        "JobItemsReEncrypted": 1,
        "CompanyKeysReEncrypted": 1,  # the check-in made the company's storage keys
        "RestartRequired": True,
    }
    assert secret.key_ids == (rotated["KeyId"], before.key_id) and RESTART in result.stderr

    # In the database: everything decryptable moved to the new key; the partner's digest could not.
    now = stored(rig)
    assert now.device_key.startswith(secret.envelope_prefix())
    assert secret.decrypt(now.device_key) == rig.device_key
    assert now.device_digest == secret.digest(rig.device_key)
    with database(rig) as db, db.reading() as session:  # company keys: re-wrapped, unchanged
        [company] = session.scalars(select(StorageCompany)).all()
        assert company.wrapped_keys.startswith(secret.envelope_prefix())
        assert base64.b64encode(unwrap(secret, company.wrapped_keys).id_key).decode() == id_key
    assert now.username and now.password
    assert all(v.startswith(secret.envelope_prefix()) for v in (now.username, now.password))
    assert (secret.decrypt(now.username), secret.decrypt(now.password)) == CREDENTIALS
    assert now.partner_digest == before.digest(rig.partner_key) != secret.digest(rig.partner_key)

    # The auth look-up: the device by its new digest, the partner through the older key.
    found_device = resolve(rig, secret, rig.device_key)
    assert isinstance(found_device, DevicePrincipal) and found_device.device_id == rig.device_id
    assert found_device.key_digest == secret.digest(rig.device_key)
    found_partner = resolve(rig, secret, rig.partner_key)
    assert isinstance(found_partner, PartnerPrincipal)
    assert found_partner.partner_id == rig.partner_id
    assert resolve(rig, secret.without_older(), rig.partner_key) is None

    # Why the restart is required: the running process does not know the new key.
    assert partner_status(rig, rig.partner_key) == 200
    assert check_in(rig, rig.device_key).status_code == 401

    rig.restart()
    assert partner_status(rig, rig.partner_key) == 200
    assert credentials_checked_in(rig) == CREDENTIALS
    with rig.server.client(rig.partner_key) as api:
        shown = created(api.get(f"/api/devices/{rig.device_id}"))
    assert shown["ApiKey"] == rig.device_key

    assert run(rig, "secret", "status") == {
        "KeyId": secret.key_id,
        "OlderKeyIds": [before.key_id],
        "Devices": 1,
        "DevicesOnOlderKeys": 0,
        "JobItemsWithCredentials": 1,
        "JobItemsOnOlderKeys": 0,
        "PartnersWithApiKeys": 1,
    }

    # A key issued now is stored under the current key, and works at once.
    new_key = run(rig, "partner", "apikey", str(rig.partner_id))["ApiKey"]
    assert stored(rig).partner_digest == secret.digest(new_key)
    assert partner_status(rig, new_key) == 200
    assert status_within_auth_cache(lambda: partner_status(rig, rig.partner_key), 401) == 401


def test_prune_needs_force_then_drops_older_keys_and_keeps_current_data(rig: Rig) -> None:
    first = run(rig, "secret", "rotate")
    new_key = run(rig, "partner", "apikey", str(rig.partner_id))["ApiKey"]
    keyring = rig.secret_file.read_text()

    refused = invoke(rig, "secret", "prune")
    assert refused.exit_code != 0 and "--force" in refused.output + refused.stderr
    assert rig.secret_file.read_text() == keyring

    pruned = run(rig, "secret", "prune", "--force")
    assert pruned == {
        "KeyId": first["KeyId"],
        "RemovedKeyIds": first["OlderKeyIds"],
        "DevicesReEncrypted": 0,
        "JobItemsReEncrypted": 0,
        "CompanyKeysReEncrypted": 0,
    }
    assert read_secret(rig.secret_file).key_ids == (first["KeyId"],)
    assert len(rig.secret_file.read_text().split()) == 1

    rig.restart()
    assert partner_status(rig, new_key) == 200
    assert credentials_checked_in(rig) == CREDENTIALS


def test_a_rotation_cut_short_after_the_keyring_is_written_loses_nothing(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keyring is written first: with the transaction lost, old ciphertexts (v2 and the
    v1 of servers before keyrings) still open, and ``prune`` finishes the move."""
    before = read_secret(rig.secret_file)
    v1 = _v1_envelope(rig.secret_file.read_text().split()[0], CREDENTIALS[1])
    with database(rig) as db, db.writing() as session:
        item = session.get_one(JobItem, rig.job_item_id)
        item.password_encrypted = v1

    def crash(*_args: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(secrets_rotation, "re_encrypt", crash)
    assert isinstance(invoke(rig, "secret", "rotate").exception, RuntimeError)
    monkeypatch.undo()

    secret = read_secret(rig.secret_file)
    assert secret.key_ids[1:] == before.key_ids  # the new key is current, the old one kept
    cut_short = stored(rig)
    assert cut_short.password == v1 and secret.decrypt(v1) == CREDENTIALS[1]
    assert secret.decrypt(cut_short.device_key) == rig.device_key
    assert isinstance(resolve(rig, secret, rig.device_key), DevicePrincipal)
    status = run(rig, "secret", "status")
    assert (status["DevicesOnOlderKeys"], status["JobItemsOnOlderKeys"]) == (1, 1)

    pruned = run(rig, "secret", "prune", "--force")
    assert (pruned["DevicesReEncrypted"], pruned["JobItemsReEncrypted"]) == (1, 1)
    only = read_secret(rig.secret_file)
    assert only.key_ids == (secret.key_id,)
    finished = stored(rig)
    assert finished.password and only.decrypt(finished.password) == CREDENTIALS[1]
    assert finished.device_digest == only.digest(rig.device_key)
    assert isinstance(resolve(rig, only, rig.device_key), DevicePrincipal)
    assert resolve(rig, only, rig.partner_key) is None  # what prune's --force warns about


def test_another_databases_keyring_is_refused_before_anything_changes(
    rig: Rig, tmp_path: Path
) -> None:
    other = tmp_path / "other.key"
    other.write_text(ServerSecret(os.urandom(32)).keyring_text())
    kept = other.read_text()
    run(rig, "secret", "rotate")  # everything stored is now v2, naming its key
    refused = invoke(rig, "secret", "rotate", "--secret-key-file", str(other))
    assert refused.exit_code == 1 and "does not hold" in refused.stderr
    assert other.read_text() == kept
    assert run(rig, "secret", "status")["DevicesOnOlderKeys"] == 0


def test_a_missing_secret_file_fails_without_making_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "nowhere"
    for command in ("rotate", "status"):
        result = CliRunner(env=CLEAN_ENV).invoke(
            cli, ["secret", command, "--data-dir", str(data_dir)]
        )
        assert result.exit_code == 1 and "no server secret at" in result.output + result.stderr
    assert not data_dir.exists()


def _v1_envelope(master_hex: str, plaintext: str) -> str:
    """An envelope as servers wrote them before keyrings (``v1:``, no key id)."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from cleverfox.server.kit.secrets import _derive

    aead = AESGCM(_derive(bytes.fromhex(master_hex), b"cleverfox encryption"))
    nonce = os.urandom(12)
    return "v1:" + base64.b64encode(nonce + aead.encrypt(nonce, plaintext.encode(), None)).decode()
