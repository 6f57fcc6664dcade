"""The SQL chunk index on the run's engine: first location wins, totals follow, look-ups batch."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, select
from sqlalchemy.orm import Session

from cleverfox.server import migrate
from cleverfox.server.models import StorageChunk, StorageCompany, StoragePack
from cleverfox.server.storage.index import BATCH, SqlChunkIndex
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import PackEntry
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import SEAL_OVERHEAD

COMPANY = 4_000_000_001  # beyond any company the shared test database makes


@pytest.fixture
def engine(tmp_path: Path, database_url: str | None) -> Iterator[Engine]:
    made = create_engine(database_url or f"sqlite:///{tmp_path / 'index.db'}")
    migrate.upgrade(made)
    yield made
    with Session(made) as session, session.begin():
        for table in (StorageChunk, StoragePack, StorageCompany):
            session.execute(delete(table).where(table.company_id.in_([COMPANY, COMPANY + 1])))
    made.dispose()


def entries(count: int, start: int = 0) -> list[tuple[ChunkId, PackEntry]]:
    key = b"k" * 32
    made = []
    for number in range(start, start + count):
        cid = chunk_id(key, number.to_bytes(8, "big"))
        made.append((cid, PackEntry(cid, 8 + number * 100, 100, Codec.PLAIN, 72, number)))
    return made


def test_a_pack_indexes_new_ids_and_keeps_the_first_location(engine: Engine) -> None:
    first = entries(3)
    with Session(engine) as session, session.begin():
        session.add(StorageCompany(company_id=COMPANY, wrapped_keys="x"))
        index = SqlChunkIndex(session, COMPANY)
        assert index.add_pack("packs/a", [e for _, e in first]) == 3
    again = entries(2, start=2)  # one id already indexed, one new
    with Session(engine) as session, session.begin():
        index = SqlChunkIndex(session, COMPANY)
        assert index.add_pack("packs/b", [e for _, e in again]) == 1
        ids = [cid for cid, _ in first + again]
        locations = index.locations(ids)
        facts = index.facts(ids)
        assert locations[first[2][0]].pack_name == "packs/a"
        assert locations[again[1][0]].pack_name == "packs/b"
        assert facts[first[1][0]].piece_length == 100 - SEAL_OVERHEAD
        assert facts[first[1][0]].crc32 == 1
        totals = session.scalars(
            select(StorageCompany).where(StorageCompany.company_id == COMPANY)
        ).one()
        assert (totals.chunk_count, totals.stored_bytes) == (4, 400)
        # Another company sees none of it.
        assert SqlChunkIndex(session, COMPANY + 1).missing(ids[:2]) == ids[:2]


def test_missing_is_in_request_order_once_each_across_batches(engine: Engine) -> None:
    made = entries(BATCH + 10)
    with Session(engine) as session, session.begin():
        session.add(StorageCompany(company_id=COMPANY, wrapped_keys="x"))
        index = SqlChunkIndex(session, COMPANY)
        index.add_pack("packs/c", [e for i, (_, e) in enumerate(made) if i % 2 == 0])
        unknown = chunk_id(b"k" * 32, os.urandom(8))
        asked = [unknown] + [cid for cid, _ in made] + [unknown]
        expected = [unknown] + [cid for i, (cid, _) in enumerate(made) if i % 2 == 1]
        assert index.missing(asked) == expected
