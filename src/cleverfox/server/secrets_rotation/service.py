"""The rules of rotating the server secret: the keyring's write order, the checks before
any change, re-encryption batch by batch (see the package's docstring)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import (
    SecretFileError,
    ServerSecret,
    read_secret,
    save_secret,
)
from cleverfox.server.secrets_rotation import repository


@dataclass(frozen=True)
class ReEncrypted:
    """How many rows were re-encrypted under the current master (company keys: re-wrapped;
    the keys themselves never change, so stored backup data stays readable)."""

    devices: int
    job_items: int
    company_keys: int = 0


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
        devices = repository.count_devices(session)
        stale_devices = repository.count_stale_devices(session, secret)
        items = repository.count_items_with_credentials(session)
        stale_items = repository.count_stale_items(session, secret)
        partners = repository.count_partners_with_keys(session)
    return SecretStatus(
        secret.key_id, secret.key_ids[1:], devices, stale_devices, items, stale_items, partners
    )


def check_keyring_fits(session: Session, secret: ServerSecret, path: Path) -> None:
    """Refuse (before any change) a keyring that is not this database's: ``SecretFileError``
    when stored envelopes name keys it lacks, ``UndecryptableSecret`` when it cannot open a
    device key — the sign of a wrong ``--secret-key-file`` or ``--database-url``."""
    unknown = repository.count_under_unknown_keys(session, secret)
    if unknown:
        raise SecretFileError(
            f"{unknown} stored secret(s) are sealed under keys {path} does not "
            "hold: is it this database's secret file?"
        )
    first = repository.first_device_key(session)
    if first is not None:
        secret.decrypt(first)


def re_encrypt(session: Session, secret: ServerSecret) -> ReEncrypted:
    """Re-encrypt every stored ciphertext not under the current master (device digests too).

    Idempotent: rows already under the current master are left alone. Never commits.
    """
    return ReEncrypted(
        _re_encrypt_devices(session, secret),
        _re_encrypt_items(session, secret),
        _rewrap_company_keys(session, secret),
    )


def _re_encrypt_devices(session: Session, secret: ServerSecret) -> int:
    count = 0
    for rows in repository.stale_device_batches(session, secret):
        changes = [_device_change(secret, device_id, envelope) for device_id, envelope in rows]
        repository.update_devices(session, changes)
        count += len(changes)
    return count


def _device_change(secret: ServerSecret, device_id: int, envelope: str) -> dict[str, Any]:
    api_key = secret.decrypt(envelope)
    return {
        "id": device_id,
        "api_key_encrypted": secret.encrypt(api_key),
        "api_key_digest": secret.digest(api_key),
    }


def _re_encrypt_items(session: Session, secret: ServerSecret) -> int:
    count = 0
    for rows in repository.stale_item_batches(session, secret):
        changes = [
            {
                "id": item_id,
                "username_encrypted": _reseal(secret, username),
                "password_encrypted": _reseal(secret, password),
            }
            for item_id, username, password in rows
        ]
        repository.update_job_items(session, changes)
        count += len(changes)
    return count


def _rewrap_company_keys(session: Session, secret: ServerSecret) -> int:
    count = 0
    for rows in repository.stale_company_key_batches(session, secret):
        changes = [
            {"company_id": company_id, "wrapped_keys": _reseal(secret, wrapped)}
            for company_id, wrapped in rows
        ]
        repository.update_company_keys(session, changes)
        count += len(changes)
    return count


def _reseal(secret: ServerSecret, envelope: str | None) -> str | None:
    return None if envelope is None else secret.encrypt(secret.decrypt(envelope))


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
