"""``/api/devices`` (all four verbs, ``POST …/{DeviceId}/apikey``) and the keyless agent
configuration download behind each device's ``AgentDownloadUrl``."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cleverfox.server.devices import service
from cleverfox.server.devices.download import (
    CONFIG_FILE_NAME,
    CONFIG_PATH,
    CONFIG_RESPONSE,
    agent_config,
    public_base_url,
)
from cleverfox.server.devices.presence import online_window
from cleverfox.server.devices.schemas import DEVICE, DEVICE_FILTERS, NEW_API_KEY, Presentation
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.services import services_of

router = APIRouter(prefix="/api/devices", tags=["Devices"], default_response_class=Response)
download_router = APIRouter(prefix=CONFIG_PATH, tags=["Agent"], default_response_class=Response)
RESOURCE = ("devices", "DeviceId")


def presentation(request: Request) -> Presentation:
    """How this request writes Devices: its public URL, the server's keys and the clock now."""
    services = services_of(request)
    return Presentation(
        secret=services.secret,
        base_url=public_base_url(services.settings, request.headers.get("host")),
        online_window=online_window(services.settings),
        now=utcnow(),
    )


@router.get("")
def list_devices(
    work: PartnerWork,
    query: ListQuery = query_of(DEVICE_FILTERS),
    how: Presentation = Depends(presentation),
) -> Response:
    """The caller's devices, newest first. ``ConnectionStatus`` filters by `Online`,
    `Offline` or `Never Connected`; ``NameContains`` is case-insensitive."""
    return work.list(
        query,
        lambda s, q: service.list_devices(s, work.partner_id, q, how.now, how.online_window),
        how,
    )


@router.get("/{device_id}")
def get_device(
    device_id: str, work: PartnerWork, how: Presentation = Depends(presentation)
) -> Response:
    """One device of the caller, with its ApiKey and AgentDownloadUrl."""
    did = path_id(device_id)
    return work.get(lambda s: service.get_device(s, work.partner_id, did), how)


@router.post("", status_code=201)
def create_device(
    work: PartnerWork,
    body: Body = body_of(DEVICE),
    how: Presentation = Depends(presentation),
) -> Response:
    """Add a device to a subscription of one of the caller's companies; its ApiKey is made
    now. 409 ``device_limit_reached`` beyond the plan's DeviceLimit (+AdditionalDevice),
    409 ``external_id_taken`` for an ExternalId already in use."""
    secret = work.services.secret
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_device(s, work.partner_id, body.raw, Actor.API, secret),
        how,
        status=201,
    )


@router.put("/{device_id}")
def update_device(
    device_id: str,
    work: PartnerWork,
    body: Body = body_of(DEVICE),
    how: Presentation = Depends(presentation),
) -> Response:
    """Change the attributes sent; the others keep their value."""
    did = path_id(device_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_device(s, work.partner_id, did, body.raw, Actor.API),
        how,
    )


@router.delete("/{device_id}")
def delete_device(
    device_id: str, work: PartnerWork, how: Presentation = Depends(presentation)
) -> Response:
    """Delete a device without jobs (409 ``device_not_empty`` otherwise); its Logs stay."""
    did = path_id(device_id)
    return work.write(
        None, RESOURCE, lambda s: service.delete_device(s, work.partner_id, did, Actor.API), how
    )


@router.post("/{device_id}/apikey")
def rotate_api_key(
    device_id: str,
    work: PartnerWork,
    body: Body = body_of(NEW_API_KEY),
    how: Presentation = Depends(presentation),
) -> Response:
    """Give the device a new ApiKey (body ``{}``); the old key and every AgentDownloadUrl
    made with it stop working at once."""
    did = path_id(device_id)
    secret = work.services.secret
    return work.write(
        body,
        RESOURCE,
        lambda s: service.rotate_api_key(s, work.partner_id, did, Actor.API, secret),
        how,
    )


@download_router.get("/{token}", responses={200: CONFIG_RESPONSE})
def download_agent_config(token: str, request: Request) -> Response:
    """This device's agent configuration as a file — no key needed: the URL is signed, and
    rotating the device's key retires it (404). Records Agent Downloaded."""
    services = services_of(request)
    with services.db.reading() as session:
        service.check_download_token(session, services.secret, token)
    with services.db.writing() as session:
        device, api_key = service.download_agent_config(session, services.secret, token, utcnow())
    server_url = public_base_url(services.settings, request.headers.get("host"))
    content = agent_config(device, api_key, server_url, services.certificate_fingerprint)
    return Response(
        orjson.dumps(content, option=orjson.OPT_INDENT_2),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{CONFIG_FILE_NAME}"',
            "Cache-Control": "no-store",
        },
    )
