"""``POST /api/agent/checkin``: the agent reports in and learns what to do.

The answer carries the Device, its active Jobs with their JobItems — including the Username
and Password the agent needs, which the public API never returns — the ids of the jobs to
run now, the server's clock and when to check in next. A routine check-in writes no Event
(README §5); see ``devices.service.check_in`` for the ones it does write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from cleverfox.server.devices import service as devices
from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import REPORTED_FACTS, DeviceView, Presentation
from cleverfox.server.job_items.schemas import job_item_out
from cleverfox.server.jobs.schemas import job_out
from cleverfox.server.kit.access import require_device
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.datetimes import format_utc_z
from cleverfox.server.kit.dependencies import body_of
from cleverfox.server.kit.inputs import Body
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.services import services_of
from cleverfox.server.kit.unit_of_work import UnitOfWork
from cleverfox.server.models import Device, Job, JobItem

router = APIRouter(prefix="/api/agent", tags=["Agent"], default_response_class=Response)
RESOURCE = ("devices", "DeviceId")


@dataclass(frozen=True)
class CheckIn:
    """What a check-in answers, gathered inside its transaction."""

    device: DeviceView
    jobs: list[dict[str, Any]]
    run_now_job_ids: list[int]
    now: datetime
    next_check_in_seconds: int


@router.post("/checkin")
def check_in(
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(REPORTED_FACTS, auth=require_device),
    how: Presentation = Depends(presentation),
) -> Response:
    """The agent checks in (device key). Body ``{"Hostname", "OsName", "OsVersion",
    "AgentVersion"}``, all optional; sets LastApiCheckAt and the facts reported. Answers the
    Device, its active Jobs with JobItems (credentials included), RunNowJobIds,
    ServerTimeUtc and NextCheckInSeconds."""
    services = services_of(request)
    interval = services.settings.checkin_interval
    work = UnitOfWork(services, agent.partner_id)

    def action(session: Session) -> CheckIn:
        view = devices.check_in(session, agent.device_id, body.raw, how.now, how.online_window)
        return CheckIn(
            view,
            agent_jobs(session, view.device, services.secret),
            run_now_job_ids(session, view.device),
            how.now,
            interval,
        )

    return work.write(None, RESOURCE, action, lambda result: check_in_out(result, how))


def check_in_out(result: CheckIn, how: Presentation) -> dict[str, Any]:
    return {
        "Device": how(result.device),
        "Jobs": result.jobs,
        "RunNowJobIds": result.run_now_job_ids,
        "ServerTimeUtc": format_utc_z(result.now),
        "NextCheckInSeconds": result.next_check_in_seconds,
    }


def agent_jobs(session: Session, device: Device, secret: ServerSecret) -> list[dict[str, Any]]:
    """The device's active jobs as the agent receives them: with JobItems and credentials.

    The one place the check-in shapes Jobs; the jobs package's presenter can take over here.
    """
    return [agent_job_out(job, secret) for job in active_jobs(session, device)]


def run_now_job_ids(session: Session, device: Device) -> list[int]:
    """Ids of the device's active jobs with a run-now request waiting, oldest first."""
    stmt = (
        select(Job.id)
        .where(
            Job.device_id == device.id, Job.is_inactive.is_(False), Job.run_now_requested.is_(True)
        )
        .order_by(Job.id)
    )
    return list(session.scalars(stmt))


def active_jobs(session: Session, device: Device) -> list[Job]:
    """The device's active jobs with their items and backup types loaded, oldest first."""
    stmt = (
        select(Job)
        .options(selectinload(Job.items).joinedload(JobItem.backup_type))
        .where(Job.device_id == device.id, Job.is_inactive.is_(False))
        .order_by(Job.id)
    )
    return list(session.scalars(stmt))


def agent_job_out(job: Job, secret: ServerSecret) -> dict[str, Any]:
    """A Job as the agent sees it: the public shape (its Device is the check-in's own, so not
    repeated) with credentials in its JobItems and whether a run-now waits."""
    items = [agent_job_item_out(item, secret) for item in job.items]
    data = job_out(job, items=items)
    assert data is not None
    data["RunNowRequested"] = job.run_now_requested
    return data


def agent_job_item_out(item: JobItem, secret: ServerSecret) -> dict[str, Any]:
    """A JobItem with its Username and Password decrypted (only the agent gets them)."""
    data = job_item_out(item)
    data["Username"] = _decrypted(secret, item.username_encrypted)
    data["Password"] = _decrypted(secret, item.password_encrypted)
    return data


def _decrypted(secret: ServerSecret, envelope: str | None) -> str | None:
    return None if envelope is None else secret.decrypt(envelope)
