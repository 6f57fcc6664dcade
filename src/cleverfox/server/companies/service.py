"""Rules of companies: ownership, unique ExternalId, deletion with what goes with it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cleverfox.server.catalog.repository import find_plan_type
from cleverfox.server.companies import repository
from cleverfox.server.companies.schemas import COMPANY
from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.hot import HotReads
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import fail_if, folded, invalid_reference
from cleverfox.server.models import Company
from cleverfox.server.storage.retention import release_company_files

CONFLICTS = (
    UniqueConflict(
        "uq_companies_partner_id_external_id",
        "external_id_taken",
        "ExternalId is already used by another of your companies.",
    ),
)


def get_company(
    session: Session, partner_id: int, company_id: int, *, lock: bool = False
) -> Company:
    company = repository.get_company(session, partner_id, company_id, lock=lock)
    if company is None:
        raise NotFound()
    attach_device_counts(session, [company])
    return company


async def read_company(reads: HotReads, partner_id: int, company_id: int) -> dict[str, Any]:
    """GET: one of the partner's companies as a row (``company_row_out``); else 404."""
    row = await repository.get_company_row(reads, partner_id, company_id)
    if row is None:
        raise NotFound()
    return row


def read_companies(
    connection: Connection, partner_id: int, query: ListQuery
) -> tuple[list[RowMapping], bool]:
    """GET of the collection: a page of the partner's companies as rows, newest first."""
    return repository.list_company_rows(connection, partner_id, query)


def attach_device_counts(session: Session, companies: list[Company]) -> None:
    """Give each company its ``device_count`` (read by ``company_out``), one query per page."""
    counts = repository.device_counts_by_company(session, (c.id for c in companies))
    for company in companies:
        company.device_count = counts.get(company.id, 0)  # type: ignore[attr-defined]


def create_company(session: Session, partner_id: int, raw: dict[str, Any], actor: Actor) -> Company:
    """POST: PartnerId must be the caller's, PlanTypeId must exist; writes Company Added."""
    values = COMPANY.parse_create(raw)
    errors: list[FieldError] = []
    if values["partner_id"] != partner_id:
        errors.append(invalid_reference("PartnerId", "partner"))
    plan_type = find_plan_type(session, values["plan_type_id"])
    if plan_type is None or plan_type.is_inactive:
        errors.append(invalid_reference("PlanTypeId", "plan type"))
    fail_if(errors)
    _check_external_id(session, partner_id, values.get("external_id"), None)
    company = Company(**values, name_folded=folded(values["name"]))
    session.add(company)
    session.flush()
    record_event(
        session,
        EventKind.COMPANY_ADDED,
        actor=actor,
        partner_id=partner_id,
        company_id=company.id,
        plan_type_id=company.plan_type_id,
    )
    return reload(session, partner_id, company.id)


def update_company(
    session: Session, partner_id: int, company_id: int, raw: dict[str, Any], actor: Actor
) -> Company:
    """PUT: only what is sent changes; writes Company Modified when something did."""
    company = get_company(session, partner_id, company_id, lock=True)
    values = COMPANY.parse_update(raw)
    if "external_id" in values:
        _check_external_id(session, partner_id, values["external_id"], company.id)
    changes = apply_changes(company, COMPANY, values)
    if changes:
        company.name_folded = folded(company.name) or ""
        record_event(
            session,
            EventKind.COMPANY_MODIFIED,
            actor=actor,
            partner_id=partner_id,
            company_id=company.id,
            changes=changes,
        )
    return company


def delete_company(session: Session, partner_id: int, company_id: int, actor: Actor) -> Company:
    """DELETE: 409 ``company_not_empty`` while it has devices; users and subscriptions go too."""
    company = get_company(session, partner_id, company_id, lock=True)
    if count_devices(session, company.id):
        raise Conflict(
            "The company still has devices; delete them first.", code="company_not_empty"
        )
    for user in repository.users_of(session, company.id):
        record_event(
            session,
            EventKind.COMPANY_USER_DELETED,
            actor=actor,
            partner_id=partner_id,
            company_id=company.id,
            company_user_id=user.id,
        )
        session.delete(user)
    for sub in repository.subscriptions_of(session, company.id):
        record_event(
            session,
            EventKind.SUBSCRIPTION_DELETED,
            actor=actor,
            partner_id=partner_id,
            company_id=company.id,
            subscription_id=sub.id,
            plan_id=sub.plan_id,
        )
        session.delete(sub)
    release_company_files(session, company.id, actor, utcnow())
    record_event(
        session,
        EventKind.COMPANY_DELETED,
        actor=actor,
        partner_id=partner_id,
        company_id=company.id,
    )
    session.delete(company)
    return company


def count_devices(session: Session, company_id: int) -> int:
    """Devices of the company."""
    return repository.device_counts_by_company(session, [company_id]).get(company_id, 0)


def reload(session: Session, partner_id: int, company_id: int) -> Company:
    return get_company(session, partner_id, company_id)


def _check_external_id(
    session: Session, partner_id: int, external_id: str | None, exclude_id: int | None
) -> None:
    if external_id and repository.external_id_taken(session, partner_id, external_id, exclude_id):
        raise Conflict(
            "ExternalId is already used by another of your companies.", code="external_id_taken"
        )
