"""Rotating the server secret (``cleverfox secret rotate | status | prune``).

What is stored under the secret, and what rotation does with it:

- device keys (``devices.api_key_encrypted``, ``api_key_digest``) and job-item credentials
  (``job_items.username_encrypted``, ``password_encrypted``) are decryptable, so they are
  re-encrypted under the new master and device digests recomputed;
- partner API keys are stored only as a digest and never known again, so they cannot move:
  the older master stays in the keyring so they are still found, until ``prune`` drops it
  (after which only partner keys issued since the rotation work).

Write order (restic's rule: what is pointed at first, what points at it last): the new
keyring, holding the new master *and every older one*, is on disk before the transaction that
re-encrypts starts. A crash in between leaves ciphertexts under an older master, which the
keyring still opens; ``prune`` (or another ``rotate``) finishes the job. The reverse order
could commit ciphertexts no file on disk can open. For the same reason a failed transaction
never removes the new master again: the commit may have happened. ``prune`` re-encrypts
first, commits, and only then drops older masters.

Before writing anything, ``rotate`` checks that the keyring is this database's (every stored
envelope names a key it holds, and it opens a device key), so a wrong ``--secret-key-file``
or ``--database-url`` changes nothing.

One rotation at a time: an exclusive lock on ``<secret file>.lock`` is held from reading the
keyring to the end, so two concurrent rotations cannot each write a keyring without the
other's master. Rows are locked (``FOR UPDATE``) batch by batch, so a concurrent API write is
not lost. Running servers keep the keyring they started with: restart them all after a
rotation (they cannot open or find what is stored under a master they do not know).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import (
    SecretFileError,
    ServerSecret,
    read_secret,
    save_secret,
)
from cleverfox.server.models import Device, JobItem, Partner

BATCH = 500
_ENVELOPE_COLUMNS: tuple[tuple[type[Any], QueryableAttribute[Any]], ...] = (
    (Device, Device.api_key_encrypted),
    (JobItem, JobItem.username_encrypted),
    (JobItem, JobItem.password_encrypted),
)


@dataclass(frozen=True)
class ReEncrypted:
    """How many rows were re-encrypted under the current master."""

    devices: int
    job_items: int


@dataclass(frozen=True)
class Rotation:
    key_id: str
    older_key_ids: tuple[str, ...]
    re_encrypted: ReEncrypted


@dataclass(frozen=True)
class Pruning:
    key_id: str
    removed_key_ids: tuple[str, ...]
    re_encrypted: ReEncrypted


@dataclass(frozen=True)
class SecretStatus:
    """The keyring and what is stored under which of its masters."""

    key_id: str
    older_key_ids: tuple[str, ...]
    devices: int
    devices_on_older_keys: int
    job_items_with_credentials: int
    job_items_on_older_keys: int
    partners_with_keys: int


def rotate_secret(db: Database, path: Path) -> Rotation:
    """A new current master; every device key and job-item credential re-encrypted under it.

    The keyring file (new master first, then every older one) is written before the one
    transaction that re-encrypts; see the module docstring for why.
    """
    with keyring_lock(path):
        secret = read_secret(path)
        with db.reading() as session:
            check_keyring_fits(session, secret, path)
        rotated = secret.rotated()
        save_secret(path, rotated)
        with db.writing() as session:
            counts = re_encrypt(session, rotated)
    return Rotation(rotated.key_id, rotated.key_ids[1:], counts)


def prune_older_keys(db: Database, path: Path) -> Pruning:
    """Re-encrypt anything still under an older master, commit, then keep the current only.

    Partner API keys stored under an older master stop working: the caller warns first.
    """
    with keyring_lock(path):
        secret = read_secret(path)
        with db.writing() as session:
            counts = re_encrypt(session, secret)
        save_secret(path, secret.without_older())
    return Pruning(secret.key_id, secret.key_ids[1:], counts)


def secret_status(db: Database, path: Path) -> SecretStatus:
    """The keyring's key ids and counts of what is (not yet) under the current master."""
    secret = read_secret(path)
    with db.reading() as session:
        devices = _count(session, select(func.count()).select_from(Device))
        stale_devices = _count(session, _count_of(Device, _stale_device(secret)))
        items = _count(session, _count_of(JobItem, _has_credentials()))
        stale_items = _count(session, _count_of(JobItem, _stale_job_item(secret)))
        partners = _count(session, _count_of(Partner, Partner.api_key_digest.is_not(None)))
    return SecretStatus(secret.key_id, secret.key_ids[1:], devices, stale_devices, items,
                        stale_items, partners)


def check_keyring_fits(session: Session, secret: ServerSecret, path: Path) -> None:
    """Refuse (before any change) a keyring that is not this database's: ``SecretFileError``
    when stored envelopes name keys it lacks, ``UndecryptableSecret`` when it cannot open a
    device key — the sign of a wrong ``--secret-key-file`` or ``--database-url``."""
    unknown = sum(
        _count(session, _count_of(model, _under_unknown_key(column, secret)))
        for model, column in _ENVELOPE_COLUMNS
    )
    if unknown:
        raise SecretFileError(f"{unknown} stored secret(s) are sealed under keys {path} does not "
                              "hold: is it this database's secret file?")
    first = session.execute(select(Device.api_key_encrypted).limit(1)).scalar_one_or_none()
    if first is not None:
        secret.decrypt(first)


def re_encrypt(session: Session, secret: ServerSecret) -> ReEncrypted:
    """Re-encrypt every stored ciphertext not under the current master (device digests too).

    Idempotent: rows already under the current master are left alone. Never commits.
    """
    return ReEncrypted(_re_encrypt_devices(session, secret), _re_encrypt_items(session, secret))


def _re_encrypt_devices(session: Session, secret: ServerSecret) -> int:
    count = 0
    stale = _stale_device(secret)
    for rows in _batches(session, Device, (Device.api_key_encrypted,), stale):
        changes = [_device_change(secret, device_id, envelope) for device_id, envelope in rows]
        session.execute(update(Device), changes)
        count += len(changes)
    return count


def _device_change(secret: ServerSecret, device_id: int, envelope: str) -> dict[str, Any]:
    api_key = secret.decrypt(envelope)
    return {"id": device_id, "api_key_encrypted": secret.encrypt(api_key),
            "api_key_digest": secret.digest(api_key)}


def _re_encrypt_items(session: Session, secret: ServerSecret) -> int:
    count = 0
    columns = (JobItem.username_encrypted, JobItem.password_encrypted)
    for rows in _batches(session, JobItem, columns, _stale_job_item(secret)):
        changes = [
            {"id": item_id, "username_encrypted": _reseal(secret, username),
             "password_encrypted": _reseal(secret, password)}
            for item_id, username, password in rows
        ]
        session.execute(update(JobItem), changes)
        count += len(changes)
    return count


def _reseal(secret: ServerSecret, envelope: str | None) -> str | None:
    return None if envelope is None else secret.encrypt(secret.decrypt(envelope))


def _batches(
    session: Session, model: type[Device] | type[JobItem], columns: tuple[Any, ...],
    stale: ColumnElement[bool],
) -> Iterator[list[Any]]:
    """Stale rows in id order, ``BATCH`` at a time, each batch locked until the commit."""
    last_id = 0
    while True:
        query = (select(model.id, *columns).where(model.id > last_id, stale)
                 .order_by(model.id).limit(BATCH).with_for_update())
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
        and_(JobItem.username_encrypted.is_not(None),
             _not_current(JobItem.username_encrypted, secret)),
        and_(JobItem.password_encrypted.is_not(None),
             _not_current(JobItem.password_encrypted, secret)),
    )


def _count_of(model: type[Any], where: ColumnElement[bool]) -> Select[int]:
    return select(func.count()).select_from(model).where(where)


def _count(session: Session, query: Select[int]) -> int:
    return int(session.execute(query).scalar_one())


@contextmanager
def keyring_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<secret file>.lock`` for one read-modify-write of the keyring."""
    target = path.resolve()
    if not target.is_file():
        raise SecretFileError(f"no server secret at {path}")
    fd = os.open(target.with_name(target.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
