"""Reading Logs and Log Items: visibility by the log's own partner, embedded objects.

A Log is visible to the partner recorded on it, whatever has since been deleted; the
embedded Company, Device, Job, Subscription and Plan are written one level deep and are
``null`` once deleted. Reads are Core rows presented by ``schemas`` (no ORM objects): a
page of Logs costs a fixed number of statements, run on one connection — a read
transaction's, or the writing session's when the agent's run calls answer with their Log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cleverfox.server.catalog.schemas import plan_row_out
from cleverfox.server.companies.schemas import company_flat_row_out
from cleverfox.server.devices.schemas import Presentation, embedded_device_row_out
from cleverfox.server.jobs.schemas import job_row_out
from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.logs import repository
from cleverfox.server.logs.schemas import LOG_WIRE, Embeds, LogView, position
from cleverfox.server.subscriptions.schemas import subscription_row_out

_ID, _COMPANY_ID, _DEVICE_ID, _JOB_ID, _SUBSCRIPTION_ID, _PLAN_ID = (
    position(LOG_WIRE, key)
    for key in ("id", "company_id", "device_id", "job_id", "subscription_id", "plan_id")
)


def read_log(connection: Connection, partner_id: int, log_id: int, how: Presentation) -> LogView:
    """GET: one Log of the caller, Running or not; else 404."""
    row = repository.log_row(connection, partner_id, log_id)
    if row is None:
        raise NotFound()
    return views_of(connection, partner_id, [row], how)[0]


def read_logs(
    connection: Connection, partner_id: int, query: ListQuery, how: Presentation
) -> tuple[list[LogView], bool]:
    """GET of the collection: a page of the caller's Logs, newest first."""
    rows, has_more = repository.log_rows(connection, partner_id, query)
    return views_of(connection, partner_id, rows, how), has_more


def written_log(session: Session, partner_id: int, log_id: int, how: Presentation) -> LogView:
    """The Log a run call just wrote, read back as GET shows it, inside its transaction."""
    session.flush()
    return read_log(session.connection(), partner_id, log_id, how)


def read_log_item(connection: Connection, partner_id: int, item_id: int) -> Row[Any]:
    """GET: one Log Item of the caller; else 404."""
    row = repository.log_item_row(connection, partner_id, item_id)
    if row is None:
        raise NotFound()
    return row


def read_log_items(
    connection: Connection, partner_id: int, query: ListQuery
) -> tuple[Sequence[Row[Any]], bool]:
    """GET of the collection: a page of the caller's Log Items, newest first."""
    return repository.log_item_rows(connection, partner_id, query)


def views_of(
    connection: Connection, partner_id: int, logs: Sequence[Row[Any]], how: Presentation
) -> list[LogView]:
    """The logs with their items and the embedded objects, in a fixed number of queries."""
    items = repository.item_rows_of(connection, [log[_ID] for log in logs])
    embeds = embeds_of(connection, partner_id, logs, how)
    return [LogView(log, items[log[_ID]], embeds) for log in logs]


def embeds_of(
    connection: Connection, partner_id: int, logs: Sequence[Row[Any]], how: Presentation
) -> Embeds:
    """The still-existing objects the logs name, written as embedded objects."""
    embeds = Embeds()
    ids = {
        column: {log[column] for log in logs} - {None}
        for column in (_COMPANY_ID, _DEVICE_ID, _JOB_ID, _SUBSCRIPTION_ID, _PLAN_ID)
    }
    for row in repository.company_rows(connection, partner_id, ids[_COMPANY_ID]):
        embeds.companies[row["id"]] = company_flat_row_out(row)
    for row in repository.device_rows(connection, partner_id, ids[_DEVICE_ID]):
        embeds.devices[row["id"]] = embedded_device_row_out(row, how)
    for row in repository.job_rows(connection, partner_id, ids[_JOB_ID]):
        embeds.jobs[row["id"]] = job_row_out(row)
    for row in repository.subscription_rows(connection, partner_id, ids[_SUBSCRIPTION_ID]):
        embeds.subscriptions[row["id"]] = subscription_row_out(row, how)
    for row in repository.plan_rows(connection, ids[_PLAN_ID]):
        embeds.plans[row["id"]] = plan_row_out(row)
    return embeds
