"""``POST /api/agent/checkin``: the agent reports in and learns what to do."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from cleverfox.server.agent_api import service
from cleverfox.server.agent_api.schemas import CheckIn, check_in_out
from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import REPORTED_FACTS, Presentation
from cleverfox.server.kit.access import require_device
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.dependencies import body_of
from cleverfox.server.kit.inputs import Body
from cleverfox.server.kit.services import services_of
from cleverfox.server.kit.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/agent", tags=["Agent"], default_response_class=Response)
RESOURCE = ("devices", "DeviceId")


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
    ServerTimeUtc, NextCheckInSeconds and Storage (the company's chunk-id key, base64, and
    the chunking parameters: ChunkMinBytes, ChunkAvgBytes, ChunkMaxBytes, MaxPackBytes)."""
    services = services_of(request)
    interval = services.settings.checkin_interval
    work = UnitOfWork(services, agent.partner_id)

    def action(session: Session) -> CheckIn:
        return service.check_in(session, agent, body.raw, how, interval, services.secret)

    return work.write(
        None, RESOURCE, action, lambda result: check_in_out(result, how, services.secret)
    )
