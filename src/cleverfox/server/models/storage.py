"""Storage's tables: company keys, packs, the chunk index, manifests, orphans, staged pages.

The write order is the commit protocol (docs/storage-format.md): a pack's blob is durable
in the backend before its ``storage_packs`` and ``storage_chunks`` rows exist, and a
manifest's sealed stream before its ``storage_manifests`` row. Reference counts live on
the chunk rows; a chunk whose count is zero carries ``unreferenced_since`` and becomes
garbage after the grace period. Like the other history tables, nothing here has foreign
keys to companies or logs: deleting a company deletes its storage rows explicitly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cleverfox.server.models.base import Base, Id, IdType, UtcTime


class StorageCompany(Base):
    """One company's keys (``CompanyKeys`` wrapped by the server secret, a v2 envelope that
    ``cleverfox secret rotate`` re-wraps) and its running totals."""

    __tablename__ = "storage_companies"

    company_id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    wrapped_keys: Mapped[str] = mapped_column(Text)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    chunk_count: Mapped[int] = mapped_column(BigInteger, default=0)
    limit_mailed_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    added_on: Mapped[UtcTime]


class StoragePack(Base):
    """A write-once pack blob of one company. ``retired_on`` is set when garbage collection
    has moved its live chunks elsewhere; the blob is deleted after the grace period."""

    __tablename__ = "storage_packs"
    __table_args__ = (
        Index("ix_storage_packs_company_id_id", "company_id", "id"),
        Index("ix_storage_packs_retired_on", "retired_on"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    company_id: Mapped[int] = mapped_column(IdType)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer)
    added_on: Mapped[UtcTime]
    retired_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)


class StorageChunk(Base):
    """The index: where one company's chunk is stored, its facts, and how many manifests
    reference it. ``crc32`` is unsigned (BigInteger holds it on every engine)."""

    __tablename__ = "storage_chunks"
    __table_args__ = (
        PrimaryKeyConstraint("company_id", "chunk_id"),
        Index("ix_storage_chunks_pack_id", "pack_id"),
        Index("ix_storage_chunks_unreferenced_since", "unreferenced_since"),
    )

    company_id: Mapped[int] = mapped_column(IdType)
    chunk_id: Mapped[bytes] = mapped_column(LargeBinary(32))
    pack_id: Mapped[int] = mapped_column(IdType)
    offset: Mapped[int] = mapped_column(BigInteger)
    stored_length: Mapped[int] = mapped_column(Integer)
    codec: Mapped[int] = mapped_column(SmallInteger)
    size: Mapped[int] = mapped_column(Integer)
    crc32: Mapped[int] = mapped_column(BigInteger)
    refs: Mapped[int] = mapped_column(BigInteger, default=0)
    unreferenced_since: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    added_on: Mapped[UtcTime]


class StorageManifest(Base):
    """A committed backup file: the commit point of one Log Item's upload.

    ``blob_name`` is the sealed manifest stream in the backend; ``digest`` the manifest's
    (entries, zone, extensions), ``archive_digest`` the resolved stream's (the ETag's
    source). ``deleted_on`` is set when retention or a deletion removed the file: the row
    stays as the record that the Log Item's file is gone. Garbage collection then releases
    its references (``refs_released_on``) and, after the grace period, deletes its blob
    (``blob_deleted_on``).
    """

    __tablename__ = "storage_manifests"
    __table_args__ = (
        Index("ix_storage_manifests_company_id_id", "company_id", "id"),
        Index("ix_storage_manifests_log_id", "log_id"),
        Index("ix_storage_manifests_job_id_id", "job_id", "id"),
        Index("ix_storage_manifests_device_id", "device_id"),
        Index("ix_storage_manifests_deleted_on", "deleted_on"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    company_id: Mapped[int] = mapped_column(IdType)
    device_id: Mapped[int] = mapped_column(IdType)
    job_id: Mapped[int] = mapped_column(IdType)
    log_id: Mapped[int] = mapped_column(IdType)
    log_item_id: Mapped[int] = mapped_column(IdType, unique=True)
    blob_name: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    archive_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    archive_size: Mapped[int] = mapped_column(BigInteger)
    list_size: Mapped[int] = mapped_column(BigInteger)
    entry_count: Mapped[int] = mapped_column(BigInteger)
    plain_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(BigInteger)
    added_on: Mapped[UtcTime]
    deleted_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    refs_released_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    blob_deleted_on: Mapped[datetime | None] = mapped_column(DateTime(), default=None)


class StorageOrphan(Base):
    """A blob garbage collection found in the backend with no row naming it, and when it
    first saw it so: deleted once it has stayed an orphan for the grace period (an upload
    between its ``put`` and its commit looks the same for a moment)."""

    __tablename__ = "storage_orphans"

    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    seen_on: Mapped[datetime] = mapped_column(DateTime())


class StorageStagedPage(Base):
    """One page of a manifest sent in several requests (``"More": true``), kept until the
    last page commits them all; ``body`` is the page's entries, zlib-compressed JSON."""

    __tablename__ = "storage_staged_pages"
    __table_args__ = (PrimaryKeyConstraint("log_id", "job_item_id", "page_no"),)

    log_id: Mapped[int] = mapped_column(IdType)
    job_item_id: Mapped[int] = mapped_column(IdType)
    page_no: Mapped[int] = mapped_column(Integer)
    entry_count: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    added_on: Mapped[UtcTime]
