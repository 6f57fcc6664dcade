"""SQL of the catalogues."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import BackupType, EventType, Plan, PlanType

M = TypeVar("M", PlanType, Plan, BackupType, EventType)


def get_one(session: Session, *, model: type[M], object_id: int) -> M:
    options: list[Any] = [joinedload(Plan.plan_type)] if model is Plan else []
    found = session.get(model, object_id, options=options)
    if found is None:
        raise NotFound()
    return found


def find_plan_type(session: Session, plan_type_id: int) -> PlanType | None:
    return session.get(PlanType, plan_type_id)


def list_page(session: Session, query: ListQuery, *, model: type[M]) -> tuple[list[M], bool]:
    stmt = select(model)
    if model is Plan:
        stmt = stmt.options(joinedload(Plan.plan_type))
    for name, value in query.filters.items():
        stmt = stmt.where(getattr(model, _FIELDS[name]) == value)
    return page_of(session, stmt, newest_first(model.id), query)  # no UpdatedSince: no dates


_FIELDS = {"IsInactive": "is_inactive", "PlanTypeId": "plan_type_id"}
