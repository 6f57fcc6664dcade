"""``/api/jobitems``: what a job backs up (all four verbs)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.responses import Response

from cleverfox.server.job_items import service
from cleverfox.server.job_items.schemas import JOB_ITEM, JOB_ITEM_FILTERS, job_item_out
from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.models import JobItem

router = APIRouter(prefix="/api/jobitems", tags=["Job Items"], default_response_class=Response)
RESOURCE = ("jobitems", "JobItemId")


@router.get("")
def list_job_items(work: PartnerWork, query: ListQuery = query_of(JOB_ITEM_FILTERS)) -> Response:
    """The caller's job items, newest first. Filters: JobId, DeviceId, BackupTypeId."""
    return work.list(query, lambda s, q: service.list_items(s, work.partner_id, q), job_item_out)


@router.get("/{job_item_id}")
def get_job_item(job_item_id: str, work: PartnerWork) -> Response:
    """One job item of the caller (Username and Password are never returned)."""
    iid = path_id(job_item_id)
    return work.get(lambda s: service.get_item(s, work.partner_id, iid), job_item_out)


@router.post("", status_code=201)
def create_job_item(work: PartnerWork, body: Body = body_of(JOB_ITEM)) -> Response:
    """Add an item to one of the caller's jobs. File: BaseFolder and SearchPatterns are
    required. Databases: DatabaseName, and ServerName except for SQLite; SQL Server needs
    AuthenticationMode; with `S`, Username and Password (stored encrypted, never returned)."""
    secret = work.services.secret
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_item(s, work.partner_id, body.raw, Actor.API, secret),
        job_item_out,
        status=201,
    )


@router.put("/{job_item_id}")
def update_job_item(
    job_item_id: str, work: PartnerWork, body: Body = body_of(JOB_ITEM)
) -> Response:
    """Change the attributes sent; the others keep their value (`null` Username or Password
    keeps the stored one). The rules are checked on the item as it is after the change."""
    iid = path_id(job_item_id)
    secret = work.services.secret

    def action(session: Session) -> JobItem:
        return service.update_item(session, work.partner_id, iid, body.raw, Actor.API, secret)

    return work.write(body, RESOURCE, action, job_item_out)


@router.delete("/{job_item_id}")
def delete_job_item(job_item_id: str, work: PartnerWork) -> Response:
    """Delete a job item; the Log Items that recorded it stay."""
    iid = path_id(job_item_id)
    return work.write(
        None,
        RESOURCE,
        lambda s: service.delete_item(s, work.partner_id, iid, Actor.API),
        job_item_out,
    )
