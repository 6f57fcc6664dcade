"""The download rules: who may download which Log Item's file, the URLs, their Events.

A download call (``offer``) checks, in order: the Log Item is the caller's (else 404), the
plan allows downloads (else 403 ``download_limited``), the file is live (else 404
``backup_file_not_available``); then it signs the URL and records Event 60 (the backup file
or one of its entries) or 61 (the list) in the same transaction.

DownloadLimit: the plan of the Log's subscription as it is now (the Log's own plan snapshot
once the subscription is gone) forbids downloads when its DownloadLimit is true, unless the
subscription's DownloadLimitExpireOn has passed — the limit expires then.

The file URL (``served``) needs no key: the signature is the permission, checked before any
row is read. It serves what the manifest says at the time of the request; a file deleted
since the URL was handed out is 404 ``backup_file_not_available``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from cleverfox.server.downloads.ranges import Served
from cleverfox.server.kit.datetimes import format_datetime, format_utc_z
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import AppError, Forbidden, NotFound, ServiceUnavailable
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.logs import repository as logs
from cleverfox.server.logs.schemas import LOG_ITEM_WIRE, log_item_out, position
from cleverfox.server.models import Log, Plan, Subscription
from cleverfox.server.storage.downloads import FileReader, StoredFile, live_file
from cleverfox.server.storage.signing import (
    ENTRY_PREFIX,
    FILE,
    LIST,
    SignedUrl,
    sign_url,
)
from cleverfox.storage.archive import etag
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.errors import Damaged
from cleverfox.storage.resolution import ResolvedEntry

ZIP_TYPE = "application/zip"
LIST_TYPE = "text/plain; charset=utf-8"
ENTRY_TYPE = "application/octet-stream"
EPOCH = datetime(1970, 1, 1)
_IDS = {
    key: position(LOG_ITEM_WIRE, key)
    for key in ("id", "log_id", "job_item_id", "job_id", "device_id", "company_id")
}


@dataclass(frozen=True)
class Offer:
    """A download call's answer: the Log Item's row and its signed URL."""

    item: Row[Any]
    url: SignedUrl


def not_available() -> NotFound:
    return NotFound(
        "This Log Item has no backup file in storage (never uploaded, or removed).",
        code="backup_file_not_available",
    )


def offer(
    session: Session, secret: ServerSecret, partner_id: int, item_id: int, kind: str, now: datetime
) -> Offer:
    """A download call: ``kind`` is ``file``, ``list`` or ``entry-<EntryId>``."""
    item = logs.log_item_row(session.connection(), partner_id, item_id)
    if item is None:
        raise NotFound()
    if download_limited(session, item[_IDS["log_id"]], now):
        raise Forbidden(
            "The subscription's plan does not allow downloading backup files.",
            code="download_limited",
        )
    stored = live_file(session, secret, item_id)
    if stored is None:
        raise not_available()
    if kind.startswith(ENTRY_PREFIX) and int(kind[len(ENTRY_PREFIX) :]) > stored.entry_count:
        raise NotFound("The backup file has no entry with this EntryId.")
    event = EventKind.BACKUP_LIST_DOWNLOADED if kind == LIST else EventKind.BACKUP_FILE_DOWNLOADED
    record_event(
        session,
        event,
        actor=Actor.API,
        partner_id=partner_id,
        log_item_id=item_id,
        log_id=item[_IDS["log_id"]],
        job_item_id=item[_IDS["job_item_id"]],
        job_id=item[_IDS["job_id"]],
        device_id=item[_IDS["device_id"]],
        company_id=item[_IDS["company_id"]],
    )
    return Offer(item, sign_url(secret.signing_key, item_id, kind, now))


def download_limited(session: Session, log_id: int, now: datetime) -> bool:
    """Whether the plan behind Log ``log_id`` forbids downloads at ``now`` (module doc)."""
    log = session.execute(select(Log.subscription_id, Log.plan_id).where(Log.id == log_id)).one()
    row = session.execute(
        select(Plan.download_limit, Subscription.download_limit_expire_on)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.id == log.subscription_id)
    ).one_or_none()
    if row is None:
        limited = session.scalar(select(Plan.download_limit).where(Plan.id == log.plan_id))
        return bool(limited)
    limited, expire_on = row
    return bool(limited) and (expire_on is None or expire_on > now)


def item_out(offer: Offer, base_url: str) -> dict[str, Any]:
    """The Log Item as GET shows it, with ``Url`` (absolute) and ``Expires`` filled."""
    data = log_item_out(offer.item)
    data["Url"] = base_url + offer.url.path
    data["Expires"] = format_datetime(offer.url.expires)
    return data


# The file URLs.


def stored_file(db: Database, secret: ServerSecret, item_id: int) -> StoredFile:
    """The live file of Log Item ``item_id`` (a signed URL named it); else 404."""
    with db.reading() as session:
        stored = live_file(session, secret, item_id)
    if stored is None:
        raise not_available()
    return stored


def served(reader: FileReader, kind: str, *, whole: bool) -> Served:
    """What the URL of ``kind`` serves. ``whole``: the ZIP's totals are needed (a body will
    be sent), so the manifest is read through for them first."""
    stored = reader.stored
    if kind == LIST:
        return Served(
            stored.list_size,
            etag(stored.archive_digest, "list"),
            LIST_TYPE,
            stored.list_name,
            reader.list_bytes,
        )
    if kind == FILE:
        totals = reader.totals() if whole else None

        def body(start: int, stop: int) -> Any:
            return reader.archive_bytes(totals or reader.totals(), start, stop)

        return Served(
            stored.archive_size,
            etag(stored.archive_digest, "zip"),
            ZIP_TYPE,
            stored.file_name,
            body,
        )
    number = int(kind[len(ENTRY_PREFIX) :])
    entry = reader.entry(number)
    if entry is None:
        raise NotFound("The backup file has no entry with this EntryId.")
    return Served(
        entry.size,
        etag(stored.archive_digest, f"file-{number}"),
        ENTRY_TYPE,
        entry_name(entry),
        lambda start, stop: reader.entry_bytes(entry, start, stop),
    )


def entry_name(entry: ResolvedEntry) -> str:
    """A single file's download name: the last segment of its path."""
    return posixpath.basename(entry.path) or "file"


def storage_failure(exc: Exception) -> AppError:
    """The answer when stored data cannot be read before a response starts."""
    if isinstance(exc, Damaged):
        return AppError(
            "The stored backup file is damaged; `cleverfox storage check` reports what.",
            code="backup_file_damaged",
        )
    return ServiceUnavailable(
        "Storage cannot be read right now; try again shortly.", code="storage_unavailable"
    )


STORAGE_FAILURES = (Damaged, BackendError)


# Single files.


def entries_page(
    db: Database,
    backend: Backend,
    secret: ServerSecret,
    partner_id: int,
    item_id: int,
    query: ListQuery,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of the archive's entries (archive order: by path), ``PathContains`` matched
    case-insensitively; EntryId is the entry's position, 1 for the first."""
    with db.reading() as session:
        if logs.log_item_row(session.connection(), partner_id, item_id) is None:
            raise NotFound()
        stored = live_file(session, secret, item_id)
    if stored is None:
        raise not_available()
    needle = (query.get("PathContains") or "").casefold()
    skip = (query.page_no - 1) * query.page_size
    page: list[dict[str, Any]] = []
    for number, entry in enumerate(FileReader(backend, db, stored).entries(), start=1):
        if needle and needle not in entry.path.casefold():
            continue
        if skip:
            skip -= 1
            continue
        if len(page) == query.page_size:
            return page, True
        page.append(entry_out(number, entry))
    return page, False


def entry_out(number: int, entry: ResolvedEntry) -> dict[str, Any]:
    return {
        "EntryId": number,
        "Path": entry.path,
        "Size": entry.size,
        "ModifiedUtc": modified_utc(entry.modified_ms),
    }


def modified_utc(modified_ms: int) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.fffZ``."""
    text = format_utc_z(EPOCH + timedelta(milliseconds=modified_ms))
    assert text is not None
    return text
