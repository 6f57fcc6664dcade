"""The dump formats deduplicate: after a 1 % change, few chunks of the next dump are new.

The dump streams straight into the storage engine's chunker, as the backup pipeline reads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from psycopg import sql
from tests.agent.db.databases import Scratch, mariadb, postgres_connect

from cleverfox.agent.db import open_dump
from cleverfox.storage.chunking import Chunker, ChunkingParams

ROWS = 20_000
SMALL_CHUNKS = Chunker(ChunkingParams(min_bytes=1024, avg_bytes=4096, max_bytes=16384))
CHANGE_ONE_PERCENT = (
    "UPDATE items SET label = CONCAT('changed ', id) WHERE id BETWEEN 5000 AND 5199"
)
MOST_NEW = 0.10  # measured here: PostgreSQL 1.5 %, MariaDB 0.5 % (4 KiB chunks)


def chunk_ids(item: dict[str, Any], work_dir: Path) -> list[bytes]:
    with open_dump(item, work_dir=work_dir) as dump:
        return [
            hashlib.blake2b(chunk, digest_size=16).digest()
            for streamed in dump.files()
            for chunk in SMALL_CHUNKS.chunks_of_stream(streamed.stream)
        ]


def new_fraction(before: list[bytes], after: list[bytes]) -> float:
    known = set(before)
    return sum(chunk not in known for chunk in after) / len(after)


def test_a_postgresql_dump_after_a_one_percent_change_is_mostly_old_chunks(
    postgres_scratch: Scratch, work_dir: Path
) -> None:
    with postgres_connect(postgres_scratch.database) as connection:
        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(postgres_scratch.username)))
        connection.execute("CREATE TABLE items (id integer PRIMARY KEY, label text)")
        connection.execute(
            "INSERT INTO items SELECT g, md5(g::text) || md5((g * 7)::text)"
            " FROM generate_series(1, %s) g",
            (ROWS,),
        )
        item = postgres_scratch.item("PGSQL", 5432)
        before = chunk_ids(item, work_dir)
        # Not an UPDATE nor an INSERT into this table: pg_dump writes rows in heap order, and
        # a new row lands in whichever page has room (one in each page here) — the table's
        # layout, which any dump format inherits. Removing 1 % of the rows and adding as many
        # elsewhere changes the dump by exactly those rows.
        connection.execute("DELETE FROM items WHERE id BETWEEN 5000 AND 5199")
        connection.execute(
            "CREATE TABLE orders AS SELECT g AS id, 'new ' || g AS label"
            " FROM generate_series(1, 200) g"
        )
        after = chunk_ids(item, work_dir)
    assert len(after) > 100
    assert new_fraction(before, after) < MOST_NEW


def test_a_mariadb_dump_after_a_one_percent_change_is_mostly_old_chunks(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    database = mariadb_scratch.database
    mariadb(
        "CREATE TABLE items (id INT PRIMARY KEY, label TEXT);"
        " INSERT INTO items SELECT seq, CONCAT(MD5(seq), MD5(seq * 7))"
        f" FROM seq_1_to_{ROWS};",
        database,
    )
    item = mariadb_scratch.item("MYSQL", 3306)
    before = chunk_ids(item, work_dir)
    mariadb(
        "UPDATE items SET label = CONCAT('changed ', id) WHERE id BETWEEN 5000 AND 5199", database
    )
    after = chunk_ids(item, work_dir)
    assert len(after) > 100
    assert new_fraction(before, after) < MOST_NEW
