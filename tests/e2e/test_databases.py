"""Database items end to end: this machine's real PostgreSQL and MariaDB (scratch databases,
dropped after), dumped by a real agent, the dump downloaded and loaded into a fresh database;
a dump tool that fails makes the run Failed with the tool's message and no credentials."""

from __future__ import annotations

import json
import subprocess
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from tests.agent.db.databases import (
    POSTGRES_ADMIN,
    Scratch,
    mariadb,
    mariadb_root,
    mariadb_scratch,
    mariadb_target,
    postgres_admin,
    postgres_connect,
    postgres_scratch,
    postgres_target,
)
from tests.contract._fixtures_devices import created
from tests.e2e.conftest import AgentCli, MakeJob, download, log_of, read_tree
from tests.support.server import Partner

__all__ = [  # fixtures used by name
    "mariadb_root",
    "mariadb_scratch",
    "mariadb_target",
    "postgres_admin",
    "postgres_scratch",
    "postgres_target",
]

POSTGRESQL_TYPE, MYSQL_TYPE = 3, 4
MARKER = "e2e-marker-ünïcode"


def database_job(
    partner: Partner,
    file_job: MakeJob,
    tmp_path: Path,
    type_id: int,
    port: int,
    scratch: Scratch,
    **item: Any,
) -> dict[str, Any]:
    """A job with one database item of ``scratch`` (password authentication)."""
    job = file_job(tmp_path)  # a File item, replaced below by the database item
    answer = partner.client.delete(f"/api/jobitems/{job['JobItems'][0]['JobItemId']}")
    assert answer.status_code in (200, 204), answer.text
    body = {
        "JobId": job["JobId"],
        "Name": "Database",
        "BackupTypeId": type_id,
        "ServerName": "127.0.0.1",
        "Port": port,
        "DatabaseName": scratch.database,
        "AuthenticationMode": "S",
        "Username": scratch.username,
        "Password": scratch.password,
        **item,
    }
    job["JobItems"] = [created(partner.client.post("/api/jobitems", json=body))]
    return job


def one_run(agent: AgentCli, job_id: int) -> dict[str, Any]:
    done = agent.run("backup", str(job_id), "--json")
    assert "Traceback" not in done.stderr, done.stderr
    [run] = json.loads(done.stdout)
    return dict(run)


def dumped(partner: Partner, run: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The run's Log Item and its downloaded archive's files."""
    assert run["Status"] == "Completed", run
    [item] = log_of(partner, run["LogId"])["LogItems"]
    with zipfile.ZipFile(BytesIO(download(partner, item["LogItemId"]))) as opened:
        return item, {name: opened.read(name) for name in opened.namelist()}


def test_a_postgresql_database_dumped_downloaded_and_loaded_again(
    agent: AgentCli,
    file_job: MakeJob,
    partner: Partner,
    postgres_scratch: Scratch,
    postgres_target: str,
    tmp_path: Path,
) -> None:
    with postgres_connect(postgres_scratch.database) as connection:
        connection.execute(f'SET ROLE "{postgres_scratch.username}"')
        connection.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        connection.execute(
            "INSERT INTO notes SELECT n, %s || n FROM generate_series(1, 2000) n", (MARKER,)
        )
    job = database_job(partner, file_job, tmp_path, POSTGRESQL_TYPE, 5432, postgres_scratch)
    item, files = dumped(partner, one_run(agent, job["JobId"]))
    assert list(files) == [f"{postgres_scratch.database}.sql"]
    assert item["ServerVersion"] and "PostgreSQL" in (item["ServerEdition"] or "PostgreSQL")

    restored = tmp_path / "restored"
    agent.ok("restore", str(item["LogItemId"]), "--to", str(restored))
    assert read_tree(restored) == files

    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + postgres_target
    subprocess.run(
        ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-q", url],
        input=files[f"{postgres_scratch.database}.sql"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    with postgres_connect(postgres_target) as connection:
        count = connection.execute("SELECT count(*) FROM notes WHERE body LIKE %s", (MARKER + "%",))
        assert count.fetchone() == (2000,)


def test_a_mariadb_database_dumped_downloaded_and_loaded_again(
    agent: AgentCli,
    file_job: MakeJob,
    partner: Partner,
    mariadb_scratch: Scratch,
    mariadb_target: str,
    tmp_path: Path,
) -> None:
    mariadb(
        "CREATE TABLE notes (id int PRIMARY KEY, body text);"
        + "".join(f"INSERT INTO notes VALUES ({n}, '{MARKER}{n}');" for n in range(1, 301)),
        database=mariadb_scratch.database,
    )
    job = database_job(partner, file_job, tmp_path, MYSQL_TYPE, 3306, mariadb_scratch)
    item, files = dumped(partner, one_run(agent, job["JobId"]))
    [(name, dump)] = files.items()
    assert name == f"{mariadb_scratch.database}.sql"
    assert item["ServerVersion"]
    mariadb("", database=mariadb_target, stdin=dump)
    counted = mariadb(
        f"SELECT count(*) FROM notes WHERE body LIKE '{MARKER}%'", database=mariadb_target
    )
    assert counted.strip() == "300"


def test_a_dump_tool_that_fails_fails_the_run_with_its_message_and_no_credentials(
    agent: AgentCli,
    file_job: MakeJob,
    partner: Partner,
    postgres_scratch: Scratch,
    tmp_path: Path,
) -> None:
    missing = postgres_scratch.database + "_missing"
    wrong = Scratch(missing, postgres_scratch.username, postgres_scratch.password)
    job = database_job(partner, file_job, tmp_path, POSTGRESQL_TYPE, 5432, wrong)
    done = agent.run("backup", str(job["JobId"]), "--json")
    assert done.returncode == 1, done.stderr
    [run] = json.loads(done.stdout)
    log = log_of(partner, run["LogId"])
    assert log["JobStatus"] == "Failed"
    assert missing in log["ErrorMessages"], log["ErrorMessages"]
    everything = log["ErrorMessages"] + done.stdout + done.stderr
    assert postgres_scratch.password not in everything
    log_files = list(agent.data_dir.rglob("*.log*"))
    for path in log_files:
        assert postgres_scratch.password not in path.read_text(errors="replace")
