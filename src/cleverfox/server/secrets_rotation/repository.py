"""SQL of the secret's rotation: what is stored under which master, found and rewritten
in batches of locked rows.

Envelopes (``kit.secrets``) begin ``v2:<key id>:``; a stored one is *stale* when it is not
under the current master, and *unknown* when it names a key the keyring lacks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Device, JobItem, Partner, StorageCompany

BATCH = 500
_ENVELOPE_COLUMNS: tuple[tuple[type[Any], QueryableAttribute[Any]], ...] = (
    (Device, Device.api_key_encrypted),
    (JobItem, JobItem.username_encrypted),
    (JobItem, JobItem.password_encrypted),
    (StorageCompany, StorageCompany.wrapped_keys),
)


def count_devices(session: Session) -> int:
    return _count(session, select(func.count()).select_from(Device))


def count_stale_devices(session: Session, secret: ServerSecret) -> int:
    """Devices whose key is not under ``secret``'s current master."""
    return _count(session, _count_of(Device, _stale_device(secret)))


def count_items_with_credentials(session: Session) -> int:
    return _count(session, _count_of(JobItem, _has_credentials()))


def count_stale_items(session: Session, secret: ServerSecret) -> int:
    """Job items with a credential not under ``secret``'s current master."""
    return _count(session, _count_of(JobItem, _stale_job_item(secret)))


def count_partners_with_keys(session: Session) -> int:
    return _count(session, _count_of(Partner, Partner.api_key_digest.is_not(None)))


def count_under_unknown_keys(session: Session, secret: ServerSecret) -> int:
    """Stored envelopes (device keys, credentials) naming a key ``secret`` does not hold."""
    return sum(
        _count(session, _count_of(model, _under_unknown_key(column, secret)))
        for model, column in _ENVELOPE_COLUMNS
    )


def first_device_key(session: Session) -> str | None:
    """Some device's stored key envelope; ``None`` without devices."""
    stmt = select(Device.api_key_encrypted).limit(1)
    return session.execute(stmt).scalar_one_or_none()


def stale_device_batches(session: Session, secret: ServerSecret) -> Iterator[list[Any]]:
    """``(id, api_key_encrypted)`` of the stale devices, ``BATCH`` rows at a time."""
    return _batches(session, Device, (Device.api_key_encrypted,), _stale_device(secret))


def stale_item_batches(session: Session, secret: ServerSecret) -> Iterator[list[Any]]:
    """``(id, username_encrypted, password_encrypted)`` of the stale job items, ``BATCH``
    rows at a time."""
    columns = (JobItem.username_encrypted, JobItem.password_encrypted)
    return _batches(session, JobItem, columns, _stale_job_item(secret))


def stale_company_key_batches(session: Session, secret: ServerSecret) -> Iterator[list[Any]]:
    """``(company id, wrapped_keys)`` of the company keys not wrapped by the current master,
    ``BATCH`` rows at a time, each batch locked until the commit."""
    last_id = -1
    stale = _not_current(StorageCompany.wrapped_keys, secret)
    while True:
        query = (
            select(StorageCompany.company_id, StorageCompany.wrapped_keys)
            .where(StorageCompany.company_id > last_id, stale)
            .order_by(StorageCompany.company_id)
            .limit(BATCH)
            .with_for_update()
        )
        rows = list(session.execute(query).all())
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def update_company_keys(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Each change (``company_id`` and ``wrapped_keys``) applied to its company's keys."""
    for change in changes:
        session.execute(
            update(StorageCompany)
            .where(StorageCompany.company_id == change["company_id"])
            .values(wrapped_keys=change["wrapped_keys"])
        )


def update_devices(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Each change (``id`` and the new column values) applied to its device."""
    session.execute(update(Device), changes)


def update_job_items(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Each change (``id`` and the new column values) applied to its job item."""
    session.execute(update(JobItem), changes)


def _batches(
    session: Session,
    model: type[Device] | type[JobItem],
    columns: tuple[Any, ...],
    stale: ColumnElement[bool],
) -> Iterator[list[Any]]:
    """Stale rows in id order, ``BATCH`` at a time, each batch locked until the commit."""
    last_id = 0
    while True:
        query = (
            select(model.id, *columns)
            .where(model.id > last_id, stale)
            .order_by(model.id)
            .limit(BATCH)
            .with_for_update()
        )
        rows = list(session.execute(query).all())
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def _not_current(column: QueryableAttribute[Any], secret: ServerSecret) -> ColumnElement[bool]:
    return not_(column.startswith(secret.envelope_prefix(), autoescape=True))


def _under_unknown_key(
    column: QueryableAttribute[Any], secret: ServerSecret
) -> ColumnElement[bool]:
    known = [column.startswith(f"v2:{key_id}:", autoescape=True) for key_id in secret.key_ids]
    return and_(column.startswith("v2:", autoescape=True), not_(or_(*known)))


def _stale_device(secret: ServerSecret) -> ColumnElement[bool]:
    return _not_current(Device.api_key_encrypted, secret)


def _has_credentials() -> ColumnElement[bool]:
    return or_(JobItem.username_encrypted.is_not(None), JobItem.password_encrypted.is_not(None))


def _stale_job_item(secret: ServerSecret) -> ColumnElement[bool]:
    return or_(
        and_(
            JobItem.username_encrypted.is_not(None),
            _not_current(JobItem.username_encrypted, secret),
        ),
        and_(
            JobItem.password_encrypted.is_not(None),
            _not_current(JobItem.password_encrypted, secret),
        ),
    )


def _count_of(model: type[Any], where: ColumnElement[bool]) -> Select[int]:
    return select(func.count()).select_from(model).where(where)


def _count(session: Session, query: Select[int]) -> int:
    return int(session.execute(query).scalar_one())
