"""PostgreSQL items against the real server: stream, restore, credentials, failures."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from tests.agent.db.databases import (
    Scratch,
    children,
    path_without,
    postgres_connect,
    process_gone,
    read_all,
    stop_midway,
)

from cleverfox.agent.db import Dump, DumpFailed, open_dump
from cleverfox.agent.db.postgres import passfile_line

ROWS = 2_000


def fill(scratch: Scratch, rows: int = ROWS, width: int = 20) -> None:
    """A table owned by the scratch role, with ``rows`` rows of ``width``-character text."""
    with postgres_connect(scratch.database) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(scratch.username)))
        connection.execute("CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL)")
        connection.execute(
            "INSERT INTO items SELECT g, repeat(md5(g::text), %s) FROM generate_series(1, %s) g",
            (max(1, width // 32), rows),
        )


def item(scratch: Scratch, **overrides: Any) -> dict[str, Any]:
    return scratch.item("PGSQL", 5432, **overrides)


def read_dump(scratch: Scratch, work_dir: Path, **overrides: Any) -> tuple[bytes, Dump]:
    files, dump = read_all(item(scratch, **overrides), work_dir)
    assert list(files) == [f"{scratch.database}.sql"]
    return files[f"{scratch.database}.sql"], dump


def test_a_plain_dump_streams_and_loads_back_into_another_database(
    postgres_scratch: Scratch, postgres_target: str, work_dir: Path, tmp_path: Path
) -> None:
    fill(postgres_scratch)
    body, dump = read_dump(postgres_scratch, work_dir)
    assert body.startswith(b"--\n-- PostgreSQL database dump\n")
    assert b"CREATE TABLE public.items" in body
    assert dump.server_version and dump.server_version.split()[0].count(".") >= 1
    assert dump.server_edition and dump.server_edition.startswith("PostgreSQL")
    assert list(work_dir.iterdir()) == []  # the passfile went with the dump's folder

    dump_file = tmp_path / "dump.sql"
    dump_file.write_bytes(body)
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(
        [*psql, "-d", postgres_target, "-f", str(dump_file)],
        check=True,
        capture_output=True,
    )
    query = "SELECT count(*), md5(string_agg(label, ',' ORDER BY id)) FROM items"
    with postgres_connect(postgres_target) as restored:
        copied = restored.execute(query).fetchone()
    with postgres_connect(postgres_scratch.database) as source:
        original = source.execute(query).fetchone()
    assert copied == original
    assert copied is not None and copied[0] == ROWS


def test_an_unchanged_database_dumps_to_the_same_bytes_but_its_restrict_key(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch)
    first, _ = read_dump(postgres_scratch, work_dir)
    second, _ = read_dump(postgres_scratch, work_dir)

    def steady(body: bytes) -> list[bytes]:  # pg_dump ≥ 15.14 writes a random \restrict key
        return [
            line
            for line in body.splitlines()
            if not line.startswith((b"\\restrict", b"\\unrestrict"))
        ]

    assert steady(first) == steady(second)


def test_the_password_is_in_no_argv_and_no_environment_of_the_running_tool(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch, rows=20_000, width=64)  # far more than a pipe holds: pg_dump waits
    with open_dump(item(postgres_scratch), work_dir=work_dir) as dump:
        (streamed,) = dump.files()
        streamed.stream.read(1)
        (pid,) = children("pg_dump")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        modes = [stat.S_IMODE(p.stat().st_mode) for p in work_dir.rglob("*") if p.is_file()]
        streamed.stream.read()
    assert argv[0].endswith(b"pg_dump")
    assert not any(postgres_scratch.password.encode() in arg for arg in argv)
    assert not any(postgres_scratch.username.encode() in arg for arg in argv)
    assert postgres_scratch.password.encode() not in environ
    assert b"PGPASSFILE=" in environ
    assert modes == [0o600]
    assert process_gone(pid)


def test_a_missing_database_fails_before_the_dump_with_the_servers_message(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    with pytest.raises(DumpFailed, match='database "no_such_database" does not exist') as failed:
        read_dump(postgres_scratch, work_dir, DatabaseName="no_such_database")
    assert postgres_scratch.password not in str(failed.value)
    assert list(work_dir.iterdir()) == []


def test_a_role_that_cannot_log_in_fails_cleanly(
    postgres_scratch: Scratch, postgres_admin: psycopg.Connection[Any], work_dir: Path
) -> None:
    postgres_admin.execute(
        sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(postgres_scratch.username))
    )
    with pytest.raises(DumpFailed, match="is not permitted to log in"):
        read_dump(postgres_scratch, work_dir)


def test_a_dump_that_fails_midway_raises_when_the_context_exits(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch)
    with postgres_connect(postgres_scratch.database) as admin:
        admin.execute("CREATE TABLE secret_stuff (id integer)")  # owned by postgres, no grant
    with pytest.raises(DumpFailed, match=r"pg_dump failed \(exit code 1\).*permission denied"):
        read_all(item(postgres_scratch), work_dir)
    assert children("pg_dump") == []


def test_pg_dump_missing_from_path_is_a_clear_failure(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    with pytest.raises(DumpFailed, match=r"^pg_dump is not installed \(not found on PATH\)$"):
        read_all(item(postgres_scratch), work_dir, environ=path_without("pg_dump"))


def test_an_exception_while_reading_kills_and_reaps_the_tool(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch, rows=20_000, width=64)
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        stop_midway(item(postgres_scratch), work_dir, "pg_dump", pids, KeyboardInterrupt())
    (pid,) = pids
    assert process_gone(pid)
    assert list(work_dir.iterdir()) == []


def test_leaving_the_context_before_the_end_is_a_failure_not_a_good_dump(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch, rows=20_000, width=64)
    started = time.monotonic()
    pids: list[int] = []
    with pytest.raises(DumpFailed, match="pg_dump output was not read to its end"):
        stop_midway(item(postgres_scratch), work_dir, "pg_dump", pids, None)
    (pid,) = pids
    assert process_gone(pid)
    assert time.monotonic() - started < 30


def test_inherited_libpq_settings_do_not_redirect_the_dump(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch, rows=3)
    stray = {**os.environ, "PGDATABASE": "postgres", "PGPORT": "1", "PGSERVICE": "nothing"}
    files, _ = read_all(item(postgres_scratch), work_dir, environ=stray)
    assert b"CREATE TABLE public.items" in files[f"{postgres_scratch.database}.sql"]


@pytest.mark.parametrize(
    ("password", "line"),
    [
        ("plain", "*:*:*:*:plain\n"),
        ("a:b", "*:*:*:*:a\\:b\n"),
        ("back\\slash", "*:*:*:*:back\\\\slash\n"),
        ("#;' \"$(x)", "*:*:*:*:#;' \"$(x)\n"),
    ],
)
def test_a_passfile_line_escapes_what_libpq_reads_specially(password: str, line: str) -> None:
    assert passfile_line(password) == line


def test_a_password_with_a_line_break_is_refused_not_mangled() -> None:
    with pytest.raises(DumpFailed, match="line break"):
        passfile_line("one\ntwo")


def test_a_stream_closed_before_its_end_is_a_failure_not_a_good_dump(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    fill(postgres_scratch, rows=20_000, width=64)
    with pytest.raises(DumpFailed, match=r"pg_dump failed \((exit code 1|killed by signal 13)\)"):
        read_then_close(item(postgres_scratch), work_dir)
    assert children("pg_dump") == []


def read_then_close(job_item: dict[str, Any], work_dir: Path) -> None:
    with open_dump(job_item, work_dir=work_dir) as dump:
        (streamed,) = dump.files()
        streamed.stream.read(1000)
        streamed.stream.close()
