"""``/api/jobs``: scheduled backups of a device (all four verbs and ``POST …/{JobId}/run``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.jobs import service
from cleverfox.server.jobs.schemas import JOB, JOB_FILTERS, RUN_NOW, present_job
from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.models import Job

router = APIRouter(prefix="/api/jobs", tags=["Jobs"], default_response_class=Response)
RESOURCE = ("jobs", "JobId")
Present = Callable[[Job], dict[str, Any]]


def presenter(how: Presentation = Depends(presentation)) -> Present:
    """How this request writes Jobs (the embedded Device needs the request's facts)."""
    return lambda job: present_job(job, how)


@router.get("")
def list_jobs(
    work: PartnerWork,
    query: ListQuery = query_of(JOB_FILTERS),
    present: Present = Depends(presenter),
) -> Response:
    """The caller's jobs, newest first. Filters: DeviceId, CompanyId, IsInactive, Frequency."""
    return work.list(query, lambda s, q: service.list_jobs(s, work.partner_id, q), present)


@router.get("/{job_id}")
def get_job(job_id: str, work: PartnerWork, present: Present = Depends(presenter)) -> Response:
    """One job of the caller, with its Device and JobItems."""
    jid = path_id(job_id)
    return work.get(lambda s: service.get_job(s, work.partner_id, jid), present)


@router.post("", status_code=201)
def create_job(
    work: PartnerWork,
    body: Body = body_of(JOB),
    present: Present = Depends(presenter),
) -> Response:
    """Add a job to one of the caller's devices. NextRunOn is the device's wall time (a zoned
    value is converted); one whose LateAfter window has already closed is rolled forward to
    the next due time. Weekly needs at least one day, Monthy a DayOfMonth."""
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_job(s, work.partner_id, body.raw, Actor.API),
        present,
        status=201,
    )


@router.put("/{job_id}")
def update_job(
    job_id: str,
    work: PartnerWork,
    body: Body = body_of(JOB),
    present: Present = Depends(presenter),
) -> Response:
    """Change the attributes sent; the others keep their value. The schedule rules are
    checked on the job as it is after the change, and NextRunOn is settled as on POST."""
    jid = path_id(job_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_job(s, work.partner_id, jid, body.raw, Actor.API),
        present,
    )


@router.delete("/{job_id}")
def delete_job(job_id: str, work: PartnerWork, present: Present = Depends(presenter)) -> Response:
    """Delete a job and its job items (its Logs stay); 409 ``job_running`` during a run."""
    jid = path_id(job_id)
    return work.write(
        None, RESOURCE, lambda s: service.delete_job(s, work.partner_id, jid, Actor.API), present
    )


@router.post("/{job_id}/run", status_code=202)
def run_job(
    job_id: str,
    work: PartnerWork,
    body: Body = body_of(RUN_NOW),
    present: Present = Depends(presenter),
) -> Response:
    """Run now (body ``{}``): 202 with the Job; the agent starts it at its next check-in.
    409 ``job_running`` while a run is in progress, ``job_inactive`` for an inactive job or
    device."""
    jid = path_id(job_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.request_run(s, work.partner_id, jid, Actor.API),
        present,
        status=202,
    )
