"""A fuzz pass of the published OpenAPI document against the real server process.

Schemathesis reads ``/api/openapi.json`` from the live server and sends generated requests —
valid and invalid bodies and path ids — to every operation registered when the run starts.
None may answer 5xx (README §4: "500 … never for bad input") or drop the connection, and
every answer keeps the loose shape of README §4: JSON, an ``X-Request-Id``, ``{"data": …}``
on success or an ``{"error": …}`` whose status matches, never FastAPI's 422.

To get past the 404 of a random id, a drawn flag swaps path ids and body references for
objects the fresh partner really owns (seeded through the API itself). The query strings of
collections, which the document leaves open, get their own bounded fuzz at the end.

Failures are collected, not raised: no shrinking, so the pass stays bounded (well under a
minute and a half on SQLite), and one run names every failing request.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from tests.support.server import Partner, ServerProcess

# Requests per operation, half valid and half invalid on average: ~60 operations.
FUZZ_EXAMPLES = 12
# Query strings per collection.
QUERY_EXAMPLES = 10
BOUNDED = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# Body references that name an object of the caller, and the path parameter of each.
REFERENCES = {
    "PartnerId": "partner_id",
    "CompanyId": "company_id",
    "SubscriptionId": "subscription_id",
    "DeviceId": "device_id",
    "JobId": "job_id",
}


@dataclass
class World:
    """What the fuzzed partner owns: ids per path parameter and the agent's device key."""

    partner: Partner
    session: requests.Session = field(default_factory=requests.Session)
    device_key: str | None = None
    ids: dict[str, int | str] = field(default_factory=dict)
    spare_ids: dict[str, int | str] = field(default_factory=dict)

    def headers_for(self, case: Case[Any]) -> dict[str, str]:
        """Agent operations speak with the device's key; all others with the partner's."""
        agent = case.operation.path.startswith(("/api/agent/", "/agent/"))
        key = self.device_key if agent and self.device_key else self.partner.api_key
        token = base64.b64encode(f"{key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="session")
def api_schema(server: ServerProcess) -> BaseSchema:
    """The document exactly as the live server publishes it."""
    return schemathesis.openapi.from_url(
        server.url + "/api/openapi.json", config=schemathesis.Config(), verify=False
    )


@pytest.fixture
def world(partner: Partner) -> Iterator[World]:
    seeded = _seed(partner)
    with seeded.session:  # one connection for the whole pass, not a TLS handshake a request
        yield seeded


# --- seeding -----------------------------------------------------------------------------


def _created(client: httpx.Client, path: str, body: dict[str, Any], id_attr: str) -> int | None:
    """Create one object through the API; its id, or ``None`` if the API refused (4xx)."""
    response = client.post(path, json=body)
    assert response.status_code < 500, f"seeding POST {path}: {response.text}"
    if response.status_code != 201:
        return None
    value = response.json()["data"].get(id_attr)
    return value if isinstance(value, int) else None


def _seed_pair(
    world: World, param: str, path: str, body: dict[str, Any], id_attr: str, *, spare: bool = True
) -> int | None:
    """One object kept for GET/PUT/actions and, unless ``spare`` is off, one for DELETE."""
    kept = _created(world.partner.client, path, body, id_attr)
    if kept is not None:
        world.ids[param] = kept
    if spare and (other := _created(world.partner.client, path, body, id_attr)) is not None:
        world.spare_ids[param] = other
    return kept


def _first_id(client: httpx.Client, path: str, id_attr: str) -> str | None:
    response = client.get(path)
    assert response.status_code < 500, f"seeding GET {path}: {response.text}"
    rows = response.json().get("data") if response.status_code == 200 else None
    return str(rows[0][id_attr]) if rows else None


def _seed(partner: Partner) -> World:
    """Best effort: a resource the API refuses (still being built) is simply not used."""
    world = World(partner, ids={"partner_id": partner.partner_id, "company_id": partner.company_id})
    client = partner.client
    company = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Fuzz Spare"}
    if (spare_company := _created(client, "/api/companies", company, "CompanyId")) is not None:
        world.spare_ids["company_id"] = spare_company
    person = {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}
    user = {**person, "PartnerId": partner.partner_id}
    _seed_pair(world, "partner_user_id", "/api/partnerusers", user, "PartnerUserId", spare=False)
    user = {**person, "CompanyId": partner.company_id}
    _seed_pair(world, "company_user_id", "/api/companyusers", user, "CompanyUserId", spare=False)
    plan = {"CompanyId": partner.company_id, "PlanId": 2}
    subscription = _seed_pair(
        world, "subscription_id", "/api/subscriptions", plan, "SubscriptionId"
    )
    if subscription is not None:
        _seed_devices(world, subscription)
    for param, path, id_attr in (
        ("event_id", "/api/events", "EventId"),
        ("time_zone_id", "/api/timezones", "TimeZoneId"),
        ("log_id", "/api/logs", "LogId"),
        ("log_item_id", "/api/logitems", "LogItemId"),
    ):
        if (found := _first_id(client, path, id_attr)) is not None:
            world.ids[param] = found
    world.ids["object_id"] = 1
    return world


def _seed_devices(world: World, subscription_id: int) -> None:
    """A device (whose key the agent operations use), a job on it and an item of the job."""
    body = {
        "CompanyId": world.partner.company_id,
        "SubscriptionId": subscription_id,
        "Name": "Fuzz Server",
        "TimeZoneId": "Eastern Standard Time",
    }
    device = _seed_pair(world, "device_id", "/api/devices", body, "DeviceId")
    if device is None:
        return
    data = world.partner.client.get(f"/api/devices/{device}").json()["data"]
    world.device_key = data.get("ApiKey")
    if isinstance(url := data.get("AgentDownloadUrl"), str):
        world.ids["token"] = url.rsplit("/", 1)[-1]
    job = {
        "DeviceId": device,
        "Name": "Nightly",
        "Frequency": "Daily",
        "NextRunOn": "2030-01-01T02:00:00",
        "LateAfter": 60,
        "Every": 1,
        "CloudKeepLast": 5,
        "LocalKeepLast": 5,
    }
    if (job_id := _seed_pair(world, "job_id", "/api/jobs", job, "JobId")) is not None:
        item = {"JobId": job_id, "BackupTypeId": 1, "Name": "Documents", "BaseFolder": "C:\\Data"}
        _seed_pair(world, "job_item_id", "/api/jobitems", item, "JobItemId")


# --- the operations of the document --------------------------------------------------------


def _use_real_ids(case: Case[Any], world: World) -> None:
    """Point path ids and body references at the partner's own objects (DELETE: spares)."""
    pool = world.spare_ids if case.method.upper() == "DELETE" else world.ids
    for name in list(case.path_parameters or {}):
        if name in pool:
            case.path_parameters[name] = str(pool[name])
    if isinstance(case.body, dict):
        for attr, param in REFERENCES.items():
            if attr in case.body and param in world.ids:
                case.body[attr] = world.ids[param]


def _header(response: Response, name: str) -> str:
    return (response.headers.get(name) or [""])[0]


def answers_a_file(operation: APIOperation[Any, Any, Any, Any]) -> bool:
    """Whether the operation's success is a file rather than an envelope: the document
    declares a ``Content-Disposition`` header on its 2xx answer (the agent's configuration
    download, and the backup downloads to come)."""
    responses = operation.definition.raw.get("responses") or {}
    return any(
        str(status).startswith("2")
        and any(name.lower() == "content-disposition" for name in (answer.get("headers") or {}))
        for status, answer in responses.items()
    )


def _nonconformance(response: Response, *, file: bool) -> str | None:
    """README §4, loosely: JSON, a request id, ``data`` or a matching ``error``; a success
    of an operation that answers a ``file`` is whatever the file is."""
    status = response.status_code
    if status == 422:
        return "FastAPI's 422"
    if not _header(response, "x-request-id"):
        return "no X-Request-Id"
    if file and status < 400:
        return None
    if not _header(response, "content-type").startswith("application/json"):
        return "not JSON"
    body = json.loads(response.content)
    if status < 400:
        return None if isinstance(body, dict) and "data" in body else "no data envelope"
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and error.get("status") == status and error.get("code")):
        return "no error envelope matching the status"
    return None


def _request_of(case: Case[Any]) -> str:
    body = json.dumps(case.body, ensure_ascii=True)[:400] if case.body is not NOT_SET else "-"
    query = f" query={case.query}" if case.query else ""
    return f"{case.method.upper()} {case.formatted_path}{query} body={body}"


def _fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any], world: World, failures: list[str]
) -> None:
    """``FUZZ_EXAMPLES`` valid and invalid requests to one operation, each failure recorded."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    file = answers_a_file(operation)

    @BOUNDED
    @given(case=cases, real=st.booleans())
    def send(case: Case[Any], real: bool) -> None:
        if real:
            _use_real_ids(case, world)
        headers = world.headers_for(case)
        try:
            response = case.call(session=world.session, headers=headers, verify=False, timeout=30)
        except requests.ConnectionError as exc:  # the server dropped the request unanswered
            failures.append(f"no answer ({exc}): {_request_of(case)}")
            return
        try:
            case.validate_response(response, checks=[not_a_server_error])
            problem = _nonconformance(response, file=file)
        except (AssertionError, BaseExceptionGroup):  # schemathesis's failure (group)
            problem = f"answered {response.status_code}"
        if problem is not None:
            failures.append(f"{problem}: {_request_of(case)} → {response.text[:300]}")

    send()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_no_operation_answers_5xx(api_schema: BaseSchema, world: World) -> None:
    """Every operation of the live document, fuzzed in turn; all failures reported together."""
    covered: list[str] = []
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an unusable operation: {result.err()}"
        operation = result.ok()
        covered.append(operation.label)
        _fuzz_operation(operation, world, failures)
    print(f"fuzzed {len(covered)} operations:\n  " + "\n  ".join(covered))
    assert len(covered) > 10, "the document lists (almost) no operations"
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_file_download_is_known_from_the_document(api_schema: BaseSchema, world: World) -> None:
    """The fuzz pass failed, by chance, with "no data envelope" whenever it drew the real
    token of the agent's configuration download, a file by design. What answers a file is
    read from each operation's declared response, and the real download passes."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    files = {op.label for op in operations if answers_a_file(op)}
    assert files == {"GET /agent/config/{token}", "GET /api/files/{log_item_id}/{kind}"}
    [download] = [op for op in operations if op.label == "GET /agent/config/{token}"]
    case = download.Case(path_parameters={"token": world.ids["token"]})
    response = case.call(session=world.session, verify=False, timeout=30)
    assert response.status_code == 200, response.text
    assert _nonconformance(response, file=True) is None
    assert _nonconformance(response, file=False) == "no data envelope"


# --- the query strings of collections ------------------------------------------------------

# README §4's paging parameters and the filters resources.md lists, in any case.
QUERY_NAMES = (
    "PageNo", "PageSize", "BeforeId", "UpdatedSince", "CompanyId", "PartnerId", "DeviceId",
    "JobId", "JobItemId", "LogId", "SubscriptionId", "EventTypeId", "BackupTypeId", "Email",
    "ExternalId", "IsInactive", "NameContains", "ConnectionStatus", "Frequency", "JobStatus",
    "Since", "Until", "IncludeRunning",
)  # fmt: skip
EDGE_VALUES = (
    "", "0", "1", "-1", "+7", " 3 ", "1000", "1001", str(2**63 - 1), str(2**63), str(-(2**63)),
    "9" * 40, "1.5", "1e3", "٣", "³", "true", "FALSE", "null", "2024-02-29T10:00:00",
    "2023-02-29T00:00", "0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "2024-01-01T24:00",
    "2024-01-01T10:00:00.123456789Z", "%", "_", "\\", "a\x00b", "Daily", "running", "x" * 3000,
)  # fmt: skip
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)


@st.composite
def query_strings(draw: st.DrawFn) -> list[tuple[str, str]]:
    def recased(name: str) -> str:
        return "".join(c.swapcase() if draw(st.booleans()) else c for c in name)

    names = st.one_of(st.sampled_from(QUERY_NAMES).map(recased), TEXT)
    values = st.one_of(st.sampled_from(EDGE_VALUES), TEXT)
    return draw(st.lists(st.tuples(names, values), min_size=1, max_size=4))


def _query_problem(response: httpx.Response) -> str | None:
    if response.status_code == 400:
        return None if response.json()["error"]["code"] == "invalid_parameter" else "not 400 …"
    if response.status_code != 200:
        return f"answered {response.status_code}"
    body = response.json()
    envelope = {"data", "page_no", "page_size", "has_more"}
    return None if envelope <= set(body) and isinstance(body["data"], list) else "no envelope"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_collection_query_strings_answer_200_or_400(api_schema: BaseSchema, world: World) -> None:
    """Paging and filter parameters of every collection: a page, or 400 ``invalid_parameter``."""
    collections = [
        path
        for path, item in api_schema.raw_schema["paths"].items()
        if "get" in item and "{" not in path
    ]
    failures: list[str] = []

    @settings(BOUNDED, max_examples=QUERY_EXAMPLES)
    @given(params=query_strings())
    # What broke before, tried on every collection: a control character in an unknown name
    # (the header naming it), and date-times whose UTC conversion leaves the calendar.
    @example(params=[("Cache\x0bBuster", "1"), ("Ünï", "2")])
    @example(
        params=[("UpdatedSince", "9999-12-31T23:59-01:00"), ("Since", "0001-01-01T00:00+01:00")]
    )
    def send(path: str, params: list[tuple[str, str | int | float | bool | None]]) -> None:
        try:
            response = world.partner.client.get(path, params=params)
        except httpx.RemoteProtocolError as exc:
            failures.append(f"no answer ({exc}): GET {path} {params!r}")
            return
        if (problem := _query_problem(response)) is not None:
            failures.append(f"{problem}: GET {path} {params!r} → {response.text[:300]}")

    for path in collections:
        send(path)
    assert collections, "the document lists no collections"
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures)
