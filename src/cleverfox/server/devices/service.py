"""Rules of devices: references, time zones, notification settings, the device limit,
unique ExternalId, keys, deletion, and what an agent's check-in changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.devices import repository
from cleverfox.server.devices.download import device_id_of, token_matches
from cleverfox.server.devices.presence import is_recent, last_check_of, record_offline
from cleverfox.server.devices.schemas import DEVICE, NOTIFY_FLAGS, REPORTED_FACTS, DeviceView
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound
from cleverfox.server.kit.events import MASK, Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import fail_if, folded, invalid_reference
from cleverfox.server.kit.secrets import ServerSecret, new_api_key
from cleverfox.server.models import Company, Device, Subscription
from cleverfox.server.storage.retention import release_device_files
from cleverfox.server.timezones.catalog import resolve

DEVICE_KEY_PREFIX = "cfd"
EXTERNAL_ID_TAKEN = "ExternalId is already used by another of your devices."
CONFLICTS = (
    UniqueConflict("uq_devices_partner_id_external_id", "external_id_taken", EXTERNAL_ID_TAKEN),
)


def resolve_device_key(session: Session, digest: str) -> DevicePrincipal | None:
    """The device owning a key digest (a key resolver of the app); ``None`` if none does.

    A device of an inactive partner counts as inactive: its agent gets 403
    ``device_inactive`` like the agent of an inactive device.
    """
    found = repository.find_by_key_digest(session, digest)
    if found is None:
        return None
    device_id, partner_id, company_id, device_inactive, partner_inactive = found
    return DevicePrincipal(
        device_id=device_id,
        partner_id=partner_id,
        company_id=company_id,
        is_inactive=device_inactive or partner_inactive,
        key_digest=digest,
    )


def get_device(session: Session, partner_id: int, device_id: int) -> DeviceView:
    """One of the caller's devices; anyone else's is 404."""
    return view_of(session, _require(session, partner_id, device_id))


def list_devices(
    session: Session, partner_id: int, query: ListQuery, now: datetime, window: timedelta
) -> tuple[list[DeviceView], bool]:
    status = query.get("ConnectionStatus")
    last_check = None if status is None else last_check_of(status, now - window)
    rows, has_more = repository.list_devices(session, partner_id, query, last_check)
    return views_of(session, rows), has_more


def create_device(
    session: Session, partner_id: int, raw: dict[str, Any], actor: Actor, secret: ServerSecret
) -> DeviceView:
    """POST: a company of the caller, an active subscription of that company, a known time
    zone, valid notification settings, a free ExternalId and room under the subscription's
    device limit (409 ``device_limit_reached``); makes the device's key; Device Added."""
    values = DEVICE.parse_create(raw)
    company = repository.get_company_for_devices(session, partner_id, values["company_id"])
    subscription = repository.get_subscription_for_devices(
        session, partner_id, values["subscription_id"]
    )
    errors = _reference_errors(company, subscription)
    errors += _time_zone_values(values, errors)
    errors += _notification_errors(values)
    fail_if(errors)
    assert subscription is not None  # _reference_errors said so
    _check_external_id(session, partner_id, values["external_id"], None)
    _check_device_limit(session, subscription)
    api_key = new_api_key(DEVICE_KEY_PREFIX)
    device = Device(
        partner_id=partner_id,
        **values,
        name_folded=folded(values["name"]),
        api_key_encrypted=secret.encrypt(api_key),
        api_key_digest=secret.digest(api_key),
    )
    session.add(device)
    session.flush()
    _record(session, EventKind.DEVICE_ADDED, device, actor)
    return get_device(session, partner_id, device.id)


def update_device(
    session: Session, partner_id: int, device_id: int, raw: dict[str, Any], actor: Actor
) -> DeviceView:
    """PUT: only what is sent changes, rules checked on the result; Device Modified.

    A new time zone keeps the jobs' NextRunOn wall times; reactivating rolls forward jobs
    whose window closed meanwhile (resources.md, Jobs).
    """
    device = _require(session, partner_id, device_id, lock=True)
    values = DEVICE.parse_update(raw)
    errors: list[FieldError] = []
    if "time_zone_id" in values:
        errors += _time_zone_change(device, values)
    errors += _notification_errors({**_notification_state(device), **values})
    fail_if(errors)
    if values.get("external_id"):
        _check_external_id(session, partner_id, values["external_id"], device.id)
    was_inactive, old_zone = device.is_inactive, device.iana_time_zone_id
    changes = apply_changes(device, DEVICE, values)
    if not changes:
        return view_of(session, device)
    device.name_folded = folded(device.name) or ""
    _record(session, EventKind.DEVICE_MODIFIED, device, actor, changes)
    reactivated = was_inactive and not device.is_inactive
    if reactivated or old_zone != device.iana_time_zone_id:
        from cleverfox.server.jobs.service import recompute_for_device  # jobs build on devices

        recompute_for_device(session, device, actor=actor)
    return view_of(session, device)


def delete_device(session: Session, partner_id: int, device_id: int, actor: Actor) -> DeviceView:
    """DELETE: 409 ``device_not_empty`` while it has jobs; Device Deleted. Its Logs stay."""
    device = _require(session, partner_id, device_id, lock=True)
    if repository.has_jobs(session, device.id):
        raise Conflict("The device still has jobs; delete them first.", code="device_not_empty")
    view = view_of(session, device)
    release_device_files(session, device.id, actor, utcnow())
    _record(session, EventKind.DEVICE_DELETED, device, actor)
    session.delete(device)
    return view


def rotate_api_key(
    session: Session, partner_id: int, device_id: int, actor: Actor, secret: ServerSecret
) -> DeviceView:
    """A new ApiKey; the old one (and every AgentDownloadUrl made with it) stops working at
    once. Device API Key Changed, with the key masked in its Changes."""
    device = _require(session, partner_id, device_id, lock=True)
    api_key = new_api_key(DEVICE_KEY_PREFIX)
    device.api_key_encrypted = secret.encrypt(api_key)
    device.api_key_digest = secret.digest(api_key)
    device.updated_on = utcnow()
    _record(session, EventKind.DEVICE_API_KEY_CHANGED, device, actor, {"ApiKey": [MASK, MASK]})
    return view_of(session, device)


def check_in(
    session: Session, device_id: int, raw: dict[str, Any], now: datetime, window: timedelta
) -> DeviceView:
    """The agent's check-in: LastApiCheckAt and the reported facts, neither UpdatedOn nor an
    Event — except Device Modified (32) when the facts change and Device Online (34) when the
    device was not online (a Device Offline the duty had not yet written comes first)."""
    values = REPORTED_FACTS.parse_update(raw)
    device = repository.get_any_device(session, device_id, lock=True)
    if device is None:
        raise NotFound()
    was_online = device.reported_online and is_recent(device.last_api_check_at, now, window)
    if device.reported_online and not was_online:
        record_offline(session, device)
    changes = apply_changes(device, REPORTED_FACTS, values, touch=False)
    if changes:
        _record(session, EventKind.DEVICE_MODIFIED, device, Actor.AGENT, changes)
    device.last_api_check_at = now
    if not was_online:
        device.reported_online = True
        _record(session, EventKind.DEVICE_ONLINE, device, Actor.AGENT)
    return view_of(session, device)


def check_download_token(session: Session, secret: ServerSecret, token: str) -> int:
    """The id of the device whose current download token ``token`` is; 404 for any other.

    Read-only, so that unauthenticated requests with bad tokens never take a write lock.
    """
    device_id = device_id_of(token)
    device = None if device_id is None else repository.get_any_device(session, device_id)
    if device is None or not token_matches(secret, device, token):
        raise NotFound()
    return device.id


def download_agent_config(
    session: Session, secret: ServerSecret, token: str, now: datetime
) -> tuple[Device, str]:
    """The device a download token names and its key; 404 for any token that is not current.

    Sets LastAgentDownloadCreated (not UpdatedOn) and writes Agent Downloaded (36) with the
    Server as its actor: no key authenticates the download, the signed URL does.
    """
    device_id = device_id_of(token)
    device = None if device_id is None else repository.get_any_device(session, device_id, lock=True)
    if device is None or not token_matches(secret, device, token):
        raise NotFound()
    device.last_agent_download_created = now
    _record(session, EventKind.AGENT_DOWNLOADED, device, Actor.SERVER)
    return device, secret.decrypt(device.api_key_encrypted)


def view_of(session: Session, device: Device) -> DeviceView:
    return views_of(session, [device])[0]


def views_of(session: Session, rows: Sequence[Device]) -> list[DeviceView]:
    """The rows with the device counts of their company and subscription: two queries."""
    by_company = repository.company_counts(session, (d.company_id for d in rows))
    by_sub = repository.device_counts_by_subscription(session, (d.subscription_id for d in rows))
    return [
        DeviceView(d, by_company.get(d.company_id, 0), by_sub.get(d.subscription_id, 0))
        for d in rows
    ]


def _require(session: Session, partner_id: int, device_id: int, *, lock: bool = False) -> Device:
    device = repository.get_device(session, partner_id, device_id, lock=lock)
    if device is None:
        raise NotFound()
    return device


def _record(
    session: Session,
    kind: EventKind,
    device: Device,
    actor: Actor,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    """The Event of a change to ``device``, naming its partner, company and subscription."""
    record_event(
        session,
        kind,
        actor=actor,
        partner_id=device.partner_id,
        changes=changes,
        company_id=device.company_id,
        device_id=device.id,
        subscription_id=device.subscription_id,
    )


def _reference_errors(
    company: Company | None, subscription: Subscription | None
) -> list[FieldError]:
    """CompanyId must be the caller's; SubscriptionId an active subscription of that company.

    An inactive subscription takes no new devices (its existing devices keep working).
    """
    errors: list[FieldError] = []
    if company is None:
        errors.append(invalid_reference("CompanyId", "company"))
    if subscription is None or (company is not None and subscription.company_id != company.id):
        errors.append(invalid_reference("SubscriptionId", "subscription of that company"))
    elif subscription.is_inactive:
        errors.append(
            FieldError(
                "SubscriptionId",
                "inactive_subscription",
                "SubscriptionId names an inactive subscription; it takes no new devices.",
            )
        )
    return errors


def _time_zone_values(values: dict[str, Any], errors: list[FieldError]) -> list[FieldError]:
    """Resolve ``values["time_zone_id"]`` in place to the Windows id plus its IANA zone."""
    if any(e.attribute == "TimeZoneId" for e in errors):
        return []
    zone = resolve(values["time_zone_id"])
    if zone is None:
        return [_unknown_time_zone()]
    values["time_zone_id"], values["iana_time_zone_id"] = zone.time_zone_id, zone.iana_id
    return []


def _time_zone_change(device: Device, values: dict[str, Any]) -> list[FieldError]:
    """A PUT's TimeZoneId: sending back the stored id (any case) keeps the IANA zone too."""
    text = values["time_zone_id"]
    if text.casefold() == device.time_zone_id.casefold():
        values["time_zone_id"] = device.time_zone_id
        return []
    return _time_zone_values(values, [])


def _unknown_time_zone() -> FieldError:
    return FieldError(
        "TimeZoneId",
        "invalid_time_zone",
        "TimeZoneId must be an id from /api/timezones or an IANA time zone name.",
    )


def _notification_state(device: Device) -> dict[str, Any]:
    state = {name: getattr(device, name) for name in NOTIFY_FLAGS}
    state["send_notification_to"] = device.send_notification_to
    return state


def _notification_errors(values: dict[str, Any]) -> list[FieldError]:
    """SendNotificationTo is required when any SendNotificationOnJob… is true."""
    if any(values.get(name) for name in NOTIFY_FLAGS) and not values.get("send_notification_to"):
        return [
            FieldError(
                "SendNotificationTo",
                "required",
                "SendNotificationTo is required when any SendNotificationOnJob… is true.",
            )
        ]
    return []


def _check_device_limit(session: Session, subscription: Subscription) -> None:
    """409 ``device_limit_reached`` when the subscription has all its plan allows.

    The caller holds the subscription's row lock, so concurrent creations count one by one.
    """
    allowed = subscription.plan.device_limit + subscription.additional_device
    if repository.count_subscription_devices(session, subscription.id) >= allowed:
        raise Conflict(
            f"The subscription's plan allows {allowed} device(s); all are in use.",
            code="device_limit_reached",
        )


def _check_external_id(
    session: Session, partner_id: int, external_id: str | None, exclude_id: int | None
) -> None:
    if external_id and repository.external_id_taken(session, partner_id, external_id, exclude_id):
        raise Conflict(EXTERNAL_ID_TAKEN, code="external_id_taken")
