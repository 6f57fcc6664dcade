"""``POST /api/agent/logs`` and ``PUT /api/agent/logs/{LogId}``: the agent starts and
finishes a job's runs (device key; Tokens are ignored)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.kit.access import require_device
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.dependencies import body_of
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.services import services_of
from cleverfox.server.kit.unit_of_work import UnitOfWork
from cleverfox.server.logs import service as logs
from cleverfox.server.logs.schemas import LogView, log_out
from cleverfox.server.runs import service
from cleverfox.server.runs.schemas import RUN_FINISH, RUN_START

router = APIRouter(prefix="/api/agent", tags=["Agent"], default_response_class=Response)
RESOURCE = ("logs", "LogId")


@router.post("/logs", status_code=201)
def start_run(
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(RUN_START, auth=require_device),
    how: Presentation = Depends(presentation),
) -> Response:
    """Start a run (device key). Body ``{"JobId", "JobStartedOn", "Trigger"}`` (Trigger
    `Schedule`, the default, or `RunNow`) → 201 with the `Running` Log and its snapshot. A
    Schedule run advances the job's NextRunOn; a RunNow run clears the run-now request.
    404 for a job not on this device; 409 ``job_already_running`` while another run of the
    job is Running, ``job_inactive`` for an inactive job, ``job_expired`` for a Schedule run
    of a One Time job past its ExpireOn."""
    work = UnitOfWork(services_of(request), agent.partner_id)

    def action(session: Session) -> LogView:
        log = service.start_run(session, agent.device_id, body.raw, how.now)
        return logs.written_log(session, agent.partner_id, log.id, how)

    return work.write(None, RESOURCE, action, log_out, status=201)


@router.put("/logs/{log_id}")
def finish_run(
    log_id: str,
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(RUN_FINISH, auth=require_device),
    how: Presentation = Depends(presentation),
) -> Response:
    """Finish a run (device key). Body ``{"JobStatus": "Completed"|"Failed",
    "JobCompletedOn", "ErrorMessages", "LogItems": [...]}`` → 200 with the finished Log; the
    device's completed/failed mail is queued. The same finish sent again is 200 and changes
    nothing; a different outcome for a finished Log is 409 ``log_already_finished``."""
    lid = path_id(log_id)
    work = UnitOfWork(services_of(request), agent.partner_id)

    def action(session: Session) -> LogView:
        log = service.finish_run(session, agent.device_id, lid, body.raw, how.now)
        return logs.written_log(session, agent.partner_id, log.id, how)

    return work.write(None, RESOURCE, action, log_out)
