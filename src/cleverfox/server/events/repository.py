"""SQL of events: always within one partner's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import Event

_PAGING = newest_first(Event.id, added_on=Event.added_on)

_ID_FILTERS = {
    "EventTypeId": Event.event_type_id,
    "CompanyId": Event.company_id,
    "DeviceId": Event.device_id,
    "JobId": Event.job_id,
}


def get_event(session: Session, partner_id: int, event_id: int) -> Event | None:
    return session.scalars(
        select(Event).where(Event.id == event_id, Event.partner_id == partner_id)
    ).one_or_none()


def redate_events_after(session: Session, partner_id: int, after_id: int, when: datetime) -> int:
    """Date the partner's Events with ids above ``after_id`` at ``when`` (the demo dates what
    its services wrote); the id of the partner's newest Event, 0 when it has none."""
    session.execute(
        update(Event)
        .where(Event.partner_id == partner_id, Event.id > after_id)
        .values(added_on=when)
    )
    newest = session.scalar(select(func.max(Event.id)).where(Event.partner_id == partner_id))
    return newest or 0


def list_events(session: Session, partner_id: int, query: ListQuery) -> tuple[list[Event], bool]:
    """Newest first; ``Since`` is inclusive and ``Until`` exclusive, both on AddedOn (UTC)."""
    stmt = select(Event).where(Event.partner_id == partner_id)
    for name, column in _ID_FILTERS.items():
        if (value := query.get(name)) is not None:
            stmt = stmt.where(column == value)
    if (since := query.get("Since")) is not None:
        stmt = stmt.where(Event.added_on >= since)
    if (until := query.get("Until")) is not None:
        stmt = stmt.where(Event.added_on < until)
    return page_of(session, stmt, _PAGING, query)
