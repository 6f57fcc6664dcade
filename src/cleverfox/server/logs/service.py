"""Reading Logs and Log Items: visibility by the log's own partner, embedded objects.

A Log is visible to the partner recorded on it, whatever has since been deleted; the
embedded Company, Device, Job, Subscription and Plan are written one level deep and are
``null`` once deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cleverfox.server.catalog.schemas import plan_out
from cleverfox.server.companies.schemas import company_out
from cleverfox.server.devices import repository as devices
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.jobs.schemas import embedded_device, job_out
from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.logs import repository
from cleverfox.server.logs.schemas import Embeds, LogView
from cleverfox.server.models import Log, LogItem
from cleverfox.server.subscriptions.schemas import SubscriptionView, subscription_out


def get_log(session: Session, partner_id: int, log_id: int, how: Presentation) -> LogView:
    """One Log of the caller, Running or not."""
    log = repository.get_log(session, partner_id, log_id)
    if log is None:
        raise NotFound()
    return views_of(session, partner_id, [log], how)[0]


def list_logs(
    session: Session, partner_id: int, query: ListQuery, how: Presentation
) -> tuple[list[LogView], bool]:
    logs, has_more = repository.list_logs(session, partner_id, query)
    return views_of(session, partner_id, logs, how), has_more


def get_log_item(session: Session, partner_id: int, item_id: int) -> LogItem:
    item = repository.get_log_item(session, partner_id, item_id)
    if item is None:
        raise NotFound()
    return item


def list_log_items(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[LogItem], bool]:
    return repository.list_log_items(session, partner_id, query)


def views_of(
    session: Session, partner_id: int, logs: Sequence[Log], how: Presentation
) -> list[LogView]:
    """The logs with their items and the embedded objects, in a fixed number of queries."""
    items = repository.items_of(session, (log.id for log in logs))
    embeds = embeds_of(session, partner_id, logs, how)
    return [LogView(log, items[log.id], embeds) for log in logs]


def embeds_of(
    session: Session, partner_id: int, logs: Sequence[Log], how: Presentation
) -> Embeds:
    """The still-existing objects the logs name, written as embedded objects."""
    embeds = Embeds()
    company_ids = {log.company_id for log in logs}
    counts = devices.company_counts(session, company_ids)
    for company in repository.companies(session, partner_id, company_ids):
        embeds.companies[company.id] = _written(
            company_out(company, embed=False, device_count=counts.get(company.id, 0)))
    for device in repository.devices(session, partner_id, {log.device_id for log in logs}):
        embeds.devices[device.id] = _written(embedded_device(device, how))
    for job in repository.jobs(session, partner_id, {log.job_id for log in logs}):
        embeds.jobs[job.id] = _written(job_out(job))
    _embed_subscriptions(session, partner_id, logs, embeds)
    for plan in repository.plans(session, {log.plan_id for log in logs if log.plan_id}):
        embeds.plans[plan.id] = _written(plan_out(plan, embed=False))
    return embeds


def _embed_subscriptions(
    session: Session, partner_id: int, logs: Sequence[Log], embeds: Embeds
) -> None:
    ids = {log.subscription_id for log in logs if log.subscription_id}
    counts = devices.device_counts_by_subscription(session, ids)
    for sub in repository.subscriptions(session, partner_id, ids):
        view = SubscriptionView(sub, counts.get(sub.id, 0), 0)
        embeds.subscriptions[sub.id] = subscription_out(view, embed=False)


def _written(data: dict[str, object] | None) -> dict[str, object]:
    assert data is not None
    return data
