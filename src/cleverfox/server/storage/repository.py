"""SQL of a manifest commit: the committed manifest of a (Log, job item), staged pages,
reference counts, the company's totals and the storage-limit mail's day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cleverfox.server.models import (
    Company,
    LogItem,
    StorageChunk,
    StorageCompany,
    StorageManifest,
    StorageStagedPage,
    Subscription,
)
from cleverfox.server.storage.index import batches
from cleverfox.storage.ids import ChunkId


def committed(session: Session, log_id: int, job_item_id: int) -> StorageManifest | None:
    """The manifest already committed for this Log and job item (deleted or not), if any."""
    statement = (
        select(StorageManifest)
        .join(LogItem, LogItem.id == StorageManifest.log_item_id)
        .where(StorageManifest.log_id == log_id, LogItem.job_item_id == job_item_id)
    )
    return session.scalars(statement).first()


def committed_log_items(session: Session, log_id: int) -> dict[int, LogItem]:
    """The Log's Log Items that hold a committed manifest, by job item id."""
    statement = (
        select(LogItem)
        .join(StorageManifest, StorageManifest.log_item_id == LogItem.id)
        .where(StorageManifest.log_id == log_id)
    )
    return {item.job_item_id: item for item in session.scalars(statement) if item.job_item_id}


def staged_pages(session: Session, log_id: int, job_item_id: int) -> list[StorageStagedPage]:
    statement = (
        select(StorageStagedPage)
        .where(StorageStagedPage.log_id == log_id, StorageStagedPage.job_item_id == job_item_id)
        .order_by(StorageStagedPage.page_no)
    )
    return list(session.scalars(statement))


def drop_staged(session: Session, log_id: int, job_item_id: int, from_page: int = 1) -> None:
    """Forget the staged pages numbered ``from_page`` and later."""
    session.execute(
        delete(StorageStagedPage).where(
            StorageStagedPage.log_id == log_id,
            StorageStagedPage.job_item_id == job_item_id,
            StorageStagedPage.page_no >= from_page,
        )
    )


def staged_count(session: Session, log_id: int, job_item_id: int) -> tuple[int, int]:
    """``(pages, entries)`` staged so far."""
    row = session.execute(
        select(
            func.coalesce(func.max(StorageStagedPage.page_no), 0),
            func.coalesce(func.sum(StorageStagedPage.entry_count), 0),
        ).where(StorageStagedPage.log_id == log_id, StorageStagedPage.job_item_id == job_item_id)
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True)
class Referenced:
    """What adding one reference to each chunk found: how many there were, and the stored
    bytes of those no backup file referenced before."""

    found: int
    first_stored_bytes: int


def add_references(session: Session, company_id: int, chunk_ids: Sequence[ChunkId]) -> Referenced:
    """refs += 1 (and ``unreferenced_since`` cleared) on each of the distinct ``chunk_ids``.

    Rows are locked in id order, batch by batch, so two commits sharing chunks never
    deadlock; a row whose count becomes 1 had none, which is exact under concurrency."""
    found = first = 0
    for batch in batches(sorted(set(chunk_ids))):
        raw = [bytes(chunk_id) for chunk_id in batch]
        where = (StorageChunk.company_id == company_id, StorageChunk.chunk_id.in_(raw))
        locked = select(StorageChunk.chunk_id).where(*where).order_by(StorageChunk.chunk_id)
        list(session.execute(locked.with_for_update()))
        statement = (
            update(StorageChunk)
            .where(*where)
            .values(refs=StorageChunk.refs + 1, unreferenced_since=None)
            .returning(StorageChunk.refs, StorageChunk.stored_length)
            .execution_options(synchronize_session=False)
        )
        for refs, stored_length in session.execute(statement):
            found += 1
            if refs == 1:
                first += stored_length
    return Referenced(found, first)


def lock_company(session: Session, company_id: int) -> StorageCompany | None:
    statement = (
        select(StorageCompany)
        .where(StorageCompany.company_id == company_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


def stored_bytes(session: Session, company_id: int) -> int:
    found = session.scalar(
        select(StorageCompany.stored_bytes).where(StorageCompany.company_id == company_id)
    )
    return int(found or 0)


def sync_used_bytes(session: Session, company_id: int) -> None:
    """Copy the company's stored bytes to its own and its subscriptions' StorageUsedBytes
    (read-only on the wire; not a change of either: no UpdatedOn, no Event). Whatever
    changes ``storage_companies.stored_bytes`` calls this in the same transaction."""
    used = (
        select(StorageCompany.stored_bytes)
        .where(StorageCompany.company_id == company_id)
        .scalar_subquery()
    )
    session.execute(
        update(Subscription)
        .where(Subscription.company_id == company_id)
        .values(storage_used_bytes=func.coalesce(used, 0))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Company)
        .where(Company.id == company_id)
        .values(storage_used_bytes=func.coalesce(used, 0))
        .execution_options(synchronize_session=False)
    )
