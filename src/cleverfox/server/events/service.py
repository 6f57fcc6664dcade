"""Reading the audit trail: a partner sees the Events of what was once its own."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cleverfox.server.events import repository
from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.models import Event


def get_event(session: Session, partner_id: int, event_id: int) -> Event:
    """One of the caller's Events; another partner's is 404."""
    event = repository.get_event(session, partner_id, event_id)
    if event is None:
        raise NotFound()
    return event


def list_events(session: Session, partner_id: int, query: ListQuery) -> tuple[list[Event], bool]:
    return repository.list_events(session, partner_id, query)
