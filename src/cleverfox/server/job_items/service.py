"""Rules of job items: ownership, the backup type's conditional rules, encrypted credentials.

Username and Password are write-only: stored encrypted with the server's secret
(``ServerSecret.encrypt``, AES-256-GCM under a key derived from ``secret.key`` in the data
directory), never returned, and ``null`` on PUT keeps them. Their Event Changes read
``["***", "***"]``. Nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.job_items import repository, rules
from cleverfox.server.job_items.schemas import JOB_ITEM
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, change_pair, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import fail_if, invalid_reference
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import BackupType, Job, JobItem

_SECRETS = (("username", "Username"), ("password", "Password"))
_PLAIN = tuple(a for a in JOB_ITEM.attrs if a.writable and a.field not in ("username", "password"))


def get_item(session: Session, partner_id: int, item_id: int, *, lock: bool = False) -> JobItem:
    item = repository.get_item(session, partner_id, item_id, lock=lock)
    if item is None:
        raise NotFound()
    return item


def list_items(session: Session, partner_id: int, query: ListQuery) -> tuple[list[JobItem], bool]:
    return repository.list_items(session, partner_id, query)


def create_item(
    session: Session, partner_id: int, raw: dict[str, Any], actor: Actor, secret: ServerSecret
) -> JobItem:
    """POST: JobId must be the caller's, BackupTypeId an active type; Job Item Added (43)."""
    values = JOB_ITEM.parse_create(raw)
    credentials = {field: values.pop(field) for field, _ in _SECRETS}
    job = repository.get_job(session, partner_id, values["job_id"])
    backup_type = repository.active_backup_type(session, values["backup_type_id"])
    fail_if(_reference_errors(job, backup_type))
    assert job is not None and backup_type is not None
    item = JobItem(**values, partner_id=partner_id)
    _store_credentials(item, credentials, secret)
    rules.apply_defaults(item, backup_type)
    fail_if(rules.problems(item, backup_type))
    session.add(item)
    session.flush()
    record_event(session, EventKind.JOB_ITEM_ADDED, actor=actor, **_ids(job, item))
    return get_item(session, partner_id, item.id)


def update_item(
    session: Session,
    partner_id: int,
    item_id: int,
    raw: dict[str, Any],
    actor: Actor,
    secret: ServerSecret,
) -> JobItem:
    """PUT: only what is sent changes; the rules are checked on the item after the change."""
    item = get_item(session, partner_id, item_id, lock=True)
    values = JOB_ITEM.parse_update(raw)
    credentials = {field: values.pop(field) for field, _ in _SECRETS if field in values}
    backup_type = _new_backup_type(session, item, values)
    before = _plain_state(item)
    _change_backup_type(item, backup_type, values)
    for field, value in values.items():
        setattr(item, field, value)
    rules.apply_defaults(item, backup_type)
    changes = _plain_changes(item, before) | _store_credentials(item, credentials, secret)
    fail_if(rules.problems(item, backup_type))
    if changes:
        item.updated_on = utcnow()
        record_event(
            session,
            EventKind.JOB_ITEM_MODIFIED,
            actor=actor,
            changes=changes,
            **_ids(repository.job_of(session, item), item),
        )
    return item


def delete_item(session: Session, partner_id: int, item_id: int, actor: Actor) -> JobItem:
    """DELETE: Job Item Deleted (45); its Log Items stay."""
    item = get_item(session, partner_id, item_id, lock=True)
    record_event(
        session,
        EventKind.JOB_ITEM_DELETED,
        actor=actor,
        **_ids(repository.job_of(session, item), item),
    )
    session.delete(item)
    return item


def _reference_errors(job: Job | None, backup_type: BackupType | None) -> list[FieldError]:
    errors = []
    if job is None:
        errors.append(invalid_reference("JobId", "job"))
    if backup_type is None:
        errors.append(invalid_reference("BackupTypeId", "active backup type"))
    return errors


def _new_backup_type(session: Session, item: JobItem, values: dict[str, Any]) -> BackupType:
    """The backup type the item has after the change (a new one must be active)."""
    wanted = values.get("backup_type_id", item.backup_type_id)
    if wanted == item.backup_type_id:
        return item.backup_type
    backup_type = repository.active_backup_type(session, wanted)
    if backup_type is None:
        raise ValidationFailed([invalid_reference("BackupTypeId", "active backup type")])
    return backup_type


def _change_backup_type(item: JobItem, backup_type: BackupType, values: dict[str, Any]) -> None:
    """Switch the type; a Port that was the old type's default becomes the new type's."""
    old = item.backup_type
    if backup_type is old:
        return
    if "port" not in values and item.port == old.port:
        item.port = backup_type.port
    item.backup_type = backup_type


def _plain_state(item: JobItem) -> dict[str, Any]:
    return {attr.name: getattr(item, attr.field) for attr in _PLAIN}


def _plain_changes(item: JobItem, before: dict[str, Any]) -> dict[str, list[Any]]:
    after = _plain_state(item)
    return {
        name: change_pair(name, before[name], after[name])
        for name in after
        if after[name] != before[name]
    }


def _store_credentials(
    item: JobItem, credentials: dict[str, Any], secret: ServerSecret
) -> dict[str, list[Any]]:
    """Encrypt the credentials sent (``None`` keeps the stored one); masked Changes."""
    changes: dict[str, list[Any]] = {}
    for field, name in _SECRETS:
        value = credentials.get(field)
        stored = getattr(item, f"{field}_encrypted")
        if value is None or (stored is not None and secret.decrypt(stored) == value):
            continue
        setattr(item, f"{field}_encrypted", secret.encrypt(value))
        changes[name] = change_pair(name, None, None)
    return changes


def _ids(job: Job, item: JobItem) -> dict[str, Any]:
    return {
        "partner_id": item.partner_id,
        "company_id": job.company_id,
        "device_id": job.device_id,
        "job_id": item.job_id,
        "job_item_id": item.id,
        "backup_type_id": item.backup_type_id,
    }
