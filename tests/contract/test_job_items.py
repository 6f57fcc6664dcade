"""Job Items over HTTPS: File and database types with their conditional rules, write-only
credentials encrypted at rest, references, filters and Events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    database,
    event_type_ids,
    events_of,
    file_item_body,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import JobItem

MSSQL, PGSQL, MYSQL, SQLITE = 2, 3, 4, 5


def errors_of(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 400, response.text
    return {(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]}


def new_job(partner: Partner) -> int:
    return int(create_job(partner, create_device(partner)["DeviceId"])["JobId"])


def database_body(job_id: int, backup_type_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "JobId": job_id,
        "BackupTypeId": backup_type_id,
        "Name": "Db",
        "ServerName": "sql01",
        "DatabaseName": "sales",
    }
    body.update(overrides)
    return body


def create_database_item(
    partner: Partner, job_id: int, backup_type_id: int, **overrides: object
) -> dict[str, Any]:
    return created(
        partner.client.post(
            "/api/jobitems", json=database_body(job_id, backup_type_id, **overrides)
        )
    )


def test_a_file_item_needs_a_folder_and_patterns(partner: Partner) -> None:
    jid = new_job(partner)
    response = partner.client.post("/api/jobitems", json=file_item_body(jid))
    assert response.status_code == 201, response.text
    item = response.json()["data"]
    assert response.headers["location"] == f"/api/jobitems/{item['JobItemId']}"
    assert item["BackupType"]["EngineId"] == "FILE" and item["IncludeSubFolders"] is True
    assert item["Username"] is None and item["Password"] is None and item["Token"] is None
    refused = partner.client.post(
        "/api/jobitems",
        json={"JobId": jid, "BackupTypeId": 1, "NoCompressExtensions": ".jpg\r\n.zip"},
    )
    assert errors_of(refused) == {("BaseFolder", "required"), ("SearchPatterns", "required")}
    too_long = partner.client.post("/api/jobitems", json=file_item_body(jid, BaseFolder="C" * 249))
    assert errors_of(too_long) == {("BaseFolder", "too_long")}
    assert errors_of(partner.client.post("/api/jobitems", json={"JobId": jid})) == {
        ("BackupTypeId", "required")
    }


def test_sql_server_needs_server_database_and_authentication(partner: Partner) -> None:
    jid = new_job(partner)
    bare = partner.client.post("/api/jobitems", json={"JobId": jid, "BackupTypeId": MSSQL})
    assert errors_of(bare) == {
        ("ServerName", "required"),
        ("DatabaseName", "required"),
        ("AuthenticationMode", "required"),
    }
    password = partner.client.post(
        "/api/jobitems", json=database_body(jid, MSSQL, AuthenticationMode="s")
    )
    assert errors_of(password) == {("Username", "required"), ("Password", "required")}
    windows = create_database_item(partner, jid, MSSQL, AuthenticationMode="w")
    assert windows["AuthenticationMode"] == "W" and windows["Port"] == 1433
    bad_mode = partner.client.post(
        "/api/jobitems", json=database_body(jid, MSSQL, AuthenticationMode="K")
    )
    assert errors_of(bad_mode) == {("AuthenticationMode", "invalid_choice")}


def test_postgresql_and_mysql_default_to_passwords_and_their_ports(partner: Partner) -> None:
    jid = new_job(partner)
    assert errors_of(partner.client.post("/api/jobitems", json=database_body(jid, PGSQL))) == {
        ("Username", "required"),
        ("Password", "required"),
    }
    pg = create_database_item(partner, jid, PGSQL, Username="backup", Password="pw")
    assert pg["AuthenticationMode"] == "S" and pg["Port"] == 5432
    my = create_database_item(partner, jid, MYSQL, AuthenticationMode="W", Port="3307")
    assert my["Port"] == 3307 and my["AuthenticationMode"] == "W"


def test_sqlite_needs_only_the_database_file(partner: Partner) -> None:
    jid = new_job(partner)
    assert errors_of(
        partner.client.post("/api/jobitems", json={"JobId": jid, "BackupTypeId": SQLITE})
    ) == {("DatabaseName", "required")}
    item = create_database_item(
        partner, jid, SQLITE, DatabaseName="/var/lib/app/app.db", ServerName=None
    )
    assert (
        item["ServerName"] is None and item["Port"] is None and item["AuthenticationMode"] is None
    )


def test_credentials_are_write_only_and_encrypted_at_rest(
    server: ServerProcess, partner: Partner
) -> None:
    jid = new_job(partner)
    item = create_database_item(
        partner, jid, MSSQL, AuthenticationMode="S", Username="sa", Password="s3cret!"
    )
    iid = item["JobItemId"]
    assert item["Username"] is None and item["Password"] is None
    with database(server) as session:
        row = session.scalars(select(JobItem).where(JobItem.id == iid)).one()
        stored = (row.username_encrypted, row.password_encrypted)
    assert all(value and "s3cret" not in value and value != "sa" for value in stored)
    secret = load_or_create_secret(server.data_dir / "secret.key")
    assert (secret.decrypt(stored[0] or ""), secret.decrypt(stored[1] or "")) == ("sa", "s3cret!")
    fetched = partner.client.get(f"/api/jobitems/{iid}").json()["data"]
    kept = partner.client.put(f"/api/jobitems/{iid}", json=fetched)  # nulls keep them
    assert kept.status_code == 200 and kept.json()["data"]["UpdatedOn"] is None
    same = partner.client.put(f"/api/jobitems/{iid}", json={"Password": "s3cret!"})
    assert same.status_code == 200 and event_type_ids(partner, JobId=jid).count(44) == 0
    partner.client.put(f"/api/jobitems/{iid}", json={"Password": "n3w", "Port": 14330})
    modified = [e for e in events_of(partner, JobId=jid) if e["EventTypeId"] == 44]
    assert modified[0]["Changes"] == {"Password": ["***", "***"], "Port": [1433, 14330]}
    assert "n3w" not in str(events_of(partner, JobId=jid))


def test_rules_are_checked_on_the_item_after_the_change(partner: Partner) -> None:
    jid = new_job(partner)
    item = create_database_item(partner, jid, MSSQL, AuthenticationMode="W")
    iid = item["JobItemId"]
    to_password = partner.client.put(f"/api/jobitems/{iid}", json={"AuthenticationMode": "S"})
    assert errors_of(to_password) == {("Username", "required"), ("Password", "required")}
    to_file = partner.client.put(f"/api/jobitems/{iid}", json={"BackupTypeId": 1})
    assert errors_of(to_file) == {("BaseFolder", "required"), ("SearchPatterns", "required")}
    to_pg = partner.client.put(
        f"/api/jobitems/{iid}", json={"BackupTypeId": PGSQL, "AuthenticationMode": "W"}
    )
    assert to_pg.status_code == 200, to_pg.text
    assert to_pg.json()["data"]["Port"] == 5432  # the old type's default became the new one's
    assert to_pg.json()["data"]["BackupType"]["EngineId"] == "PGSQL"
    refused = partner.client.put(f"/api/jobitems/{iid}", json={"ServerName": None})
    assert errors_of(refused) == {("ServerName", "required")}
    assert errors_of(partner.client.put(f"/api/jobitems/{iid}", json={"BackupTypeId": 99})) == {
        ("BackupTypeId", "invalid_reference")
    }


def test_references_isolation_filters_and_events(partner: Partner, partner_second: Partner) -> None:
    device = create_device(partner)
    first = create_job(partner, device["DeviceId"])["JobId"]
    second = create_job(partner, create_device(partner)["DeviceId"])["JobId"]
    a = create_item(partner, first)["JobItemId"]
    b = create_database_item(partner, second, SQLITE, DatabaseName="x.db")["JobItemId"]

    def ids(**params: Any) -> list[int]:
        rows = partner.client.get("/api/jobitems", params=params).json()["data"]
        return [row["JobItemId"] for row in rows]

    assert ids(JobId=first) == [a] and ids(DeviceId=device["DeviceId"]) == [a]
    assert ids(BackupTypeId=SQLITE) == [b] and ids() == [b, a]
    theirs = new_job(partner_second)
    assert errors_of(partner.client.post("/api/jobitems", json=file_item_body(theirs))) == {
        ("JobId", "invalid_reference")
    }
    their_item = create_item(partner_second, theirs)["JobItemId"]
    assert partner.client.get(f"/api/jobitems/{their_item}").status_code == 404
    assert partner.client.put(f"/api/jobitems/{their_item}", json={"Name": "x"}).status_code == 404
    assert partner.client.delete(f"/api/jobitems/{their_item}").status_code == 404
    renamed = partner.client.put(f"/api/jobitems/{a}", json={"Name": "Photos", "JobId": second})
    assert renamed.json()["data"]["JobId"] == first  # JobId is read-only after POST
    deleted = partner.client.delete(f"/api/jobitems/{a}")
    assert deleted.status_code == 200 and deleted.json()["data"]["JobItemId"] == a
    assert event_type_ids(partner, JobId=first) == [40, 43, 44, 45]
    added = next(e for e in events_of(partner, JobId=first) if e["EventTypeId"] == 43)
    assert added["JobItemId"] == a and added["DeviceId"] == device["DeviceId"]
    assert added["BackupTypeId"] == 1
