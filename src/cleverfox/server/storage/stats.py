"""``cleverfox storage stats``: per company, what storage holds and what is garbage waiting.

Read from the database alone (a few aggregate queries per company, no backend reads):

- ``StoredBytes`` / ``Chunks``: the company's totals (sealed bytes of its indexed chunks,
  counted once each — the StorageUsedBytes of its subscription);
- ``Packs`` / ``PackBytes``: its packs not yet retired;
- ``BackupFiles`` / ``LogicalBytes``: its live backup files and the bytes of the files in
  them; ``DedupRatio`` is LogicalBytes over StoredBytes (what deduplication and compression
  save together; ``None`` while nothing is stored);
- garbage waiting: ``UnreferencedChunks`` / ``UnreferencedBytes`` (refs 0, deleted by GC
  after the grace unless a commit revives them), ``RetiredPacks`` / ``RetiredPackBytes``
  (blobs GC deletes after the grace), ``FilesToRelease`` (deleted files whose references GC
  has yet to release).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.models import StorageChunk, StorageCompany, StorageManifest, StoragePack


def storage_stats(db: Database) -> list[dict[str, Any]]:
    """One dict per company that ever stored anything, by company id."""
    with db.reading() as session:
        companies = session.execute(
            select(
                StorageCompany.company_id, StorageCompany.stored_bytes, StorageCompany.chunk_count
            ).order_by(StorageCompany.company_id)
        ).all()
        return [_company(session, *row) for row in companies]


def _company(session: Session, company_id: int, stored: int, chunks: int) -> dict[str, Any]:
    unreferenced, unreferenced_bytes = session.execute(
        select(func.count(), func.coalesce(func.sum(StorageChunk.stored_length), 0)).where(
            StorageChunk.company_id == company_id, StorageChunk.refs == 0
        )
    ).one()
    packs = {
        retired: (count, size)
        for retired, count, size in session.execute(
            select(
                StoragePack.retired_on.is_not(None),
                func.count(),
                func.coalesce(func.sum(StoragePack.size_bytes), 0),
            )
            .where(StoragePack.company_id == company_id)
            .group_by(StoragePack.retired_on.is_not(None))
        )
    }
    files, logical = session.execute(
        select(func.count(), func.coalesce(func.sum(StorageManifest.plain_bytes), 0)).where(
            StorageManifest.company_id == company_id, StorageManifest.deleted_on.is_(None)
        )
    ).one()
    to_release = session.scalar(
        select(func.count()).where(
            StorageManifest.company_id == company_id,
            StorageManifest.deleted_on.is_not(None),
            StorageManifest.refs_released_on.is_(None),
        )
    )
    live_packs, retired_packs = packs.get(False, (0, 0)), packs.get(True, (0, 0))
    return {
        "CompanyId": company_id,
        "StoredBytes": stored,
        "Chunks": chunks,
        "Packs": live_packs[0],
        "PackBytes": live_packs[1],
        "BackupFiles": files,
        "LogicalBytes": logical,
        "DedupRatio": round(logical / stored, 3) if stored else None,
        "UnreferencedChunks": unreferenced,
        "UnreferencedBytes": unreferenced_bytes,
        "RetiredPacks": retired_packs[0],
        "RetiredPackBytes": retired_packs[1],
        "FilesToRelease": to_release,
    }
