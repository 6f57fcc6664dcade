"""``POST /api/agent/checkin``: the agent reports in and learns what to do."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from cleverfox.server.agent_api import service
from cleverfox.server.agent_api.schemas import CheckIn, check_in_out
from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import REPORTED_FACTS, Presentation
from cleverfox.server.kit.api import Api, Body, body_of, require_device, services_of
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.events import Actor

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
    ServerTimeUtc and NextCheckInSeconds."""
    services = services_of(request)
    interval = services.settings.checkin_interval
    api = Api(services, agent.partner_id, Actor.AGENT)

    def action(session: Session) -> CheckIn:
        return service.check_in(session, agent.device_id, body.raw, how, interval)

    return api.write(
        None, RESOURCE, action, lambda result: check_in_out(result, how, services.secret)
    )
