"""Every error answer maps to its class, carrying status, code, message and request id."""

from __future__ import annotations

import ssl

import httpx
import pytest

from cleverfox.client import (
    APIError,
    AuthenticationError,
    BadRequest,
    CleverFoxError,
    Client,
    Conflict,
    DuplicateRequest,
    NotFound,
    PartnerPlanRequired,
    PermissionDenied,
    PinMismatch,
    RateLimited,
    RequestTimeout,
    RetryPolicy,
    ServerError,
    TLSError,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)
from cleverfox.client._tls import PinnedCertificateError
from cleverfox.client._wire import error_from_response, parse_retry_after, transport_error_from
from tests.client.fakes import BASE_URL, FakeAPI, error


@pytest.fixture
def no_retry_client(api: FakeAPI) -> Client:
    return Client(BASE_URL, "k", transport=httpx.MockTransport(api), retries=0)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "validation_failed", ValidationFailed),
        (400, "malformed_json", BadRequest),
        (400, "invalid_parameter", BadRequest),
        (401, "unauthorized", AuthenticationError),
        (403, "partner_plan_required", PartnerPlanRequired),
        (403, "download_limited", PermissionDenied),
        (404, "not_found", NotFound),
        (405, "method_not_allowed", APIError),
        (409, "external_id_taken", Conflict),
        (409, "duplicate_request", DuplicateRequest),
        (413, "payload_too_large", APIError),
        (415, "unsupported_media_type", APIError),
        (429, "rate_limited", RateLimited),
        (500, "internal_error", ServerError),
        (503, "starting", ServerError),
    ],
)
def test_status_and_code_choose_the_class(
    no_retry_client: Client, api: FakeAPI, status: int, code: str, expected: type[APIError]
) -> None:
    api.before.append(lambda r: error(status, code, "A sentence."))

    with pytest.raises(APIError) as raised:
        no_retry_client.companies.get(1)

    assert type(raised.value) is expected
    assert (raised.value.status, raised.value.code) == (status, code)
    assert raised.value.message == "A sentence."
    assert raised.value.request_id == "err-id"
    assert isinstance(raised.value, CleverFoxError)


def test_subclasses_are_caught_as_their_family() -> None:
    assert issubclass(PartnerPlanRequired, PermissionDenied)
    assert issubclass(ValidationFailed, BadRequest)
    assert issubclass(DuplicateRequest, Conflict)
    assert issubclass(PinMismatch, TLSError)
    assert issubclass(TLSError, TransportError)
    assert issubclass(RequestTimeout, TransportError)


def test_validation_failed_lists_every_attribute(no_retry_client: Client, api: FakeAPI) -> None:
    errors = [
        {"attribute": "Name", "code": "required", "message": "Name is required."},
        {"attribute": "PlanTypeId", "code": "invalid_reference", "message": "No such plan type."},
    ]
    api.before.append(lambda r: error(400, "validation_failed", errors=errors))

    with pytest.raises(ValidationFailed) as raised:
        no_retry_client.companies.create(partner_id=1, plan_type_id=9, name="")

    assert [(e.attribute, e.code) for e in raised.value.errors] == [
        ("Name", "required"),
        ("PlanTypeId", "invalid_reference"),
    ]
    assert raised.value.for_attribute("name")[0].message == "Name is required."


def test_duplicate_request_carries_resource_and_id() -> None:
    response = error(409, "duplicate_request", resource="companies", id=42)
    duplicate = error_from_response(response)
    assert isinstance(duplicate, DuplicateRequest)
    assert (duplicate.resource, duplicate.id) == ("companies", 42)


def test_rate_limited_carries_retry_after() -> None:
    response = error(429, "rate_limited")
    response.headers["Retry-After"] = "7"
    limited = error_from_response(response)
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 7.0


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_an_error_body_that_is_not_json_still_maps(no_retry_client: Client, api: FakeAPI) -> None:
    api.before.append(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ServerError) as raised:
        no_retry_client.companies.get(1)
    assert raised.value.status == 502
    assert raised.value.message == "Bad Gateway"
    assert raised.value.code == "http_502"


def test_request_id_from_the_body_when_the_header_is_missing() -> None:
    body = {"error": {"status": 404, "code": "not_found", "message": "m", "request_id": "b-1"}}
    assert error_from_response(httpx.Response(404, json=body)).request_id == "b-1"


def test_a_success_that_is_not_an_envelope_is_unexpected(
    no_retry_client: Client, api: FakeAPI
) -> None:
    api.before.append(lambda r: httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(UnexpectedResponse):
        no_retry_client.companies.get(1)


@pytest.mark.parametrize(
    ("raised", "expected", "sent", "retryable"),
    [
        (httpx.ConnectError("refused"), TransportError, False, True),
        (httpx.ConnectTimeout("slow"), RequestTimeout, False, True),
        (httpx.PoolTimeout("pool"), RequestTimeout, False, True),
        (httpx.ReadTimeout("slow"), RequestTimeout, True, True),
        (httpx.WriteTimeout("slow"), RequestTimeout, True, True),
        (httpx.RemoteProtocolError("dropped"), TransportError, True, True),
        (httpx.ReadError("reset"), TransportError, True, True),
        (httpx.UnsupportedProtocol("ftp"), TransportError, True, False),
    ],
)
def test_transport_failures_map(
    raised: httpx.TransportError, expected: type[TransportError], sent: bool, retryable: bool
) -> None:
    mapped = transport_error_from(raised)
    assert type(mapped) is expected
    assert (mapped.request_sent, mapped.retryable) == (sent, retryable)


def test_a_handshake_failure_is_a_tls_error_and_final() -> None:
    failure = httpx.ConnectError("handshake")
    failure.__cause__ = ssl.SSLCertVerificationError("self-signed certificate")
    mapped = transport_error_from(failure)
    assert type(mapped) is TLSError
    assert not mapped.retryable


def test_a_pin_failure_is_a_pin_mismatch() -> None:
    failure = httpx.ConnectError("handshake")
    failure.__context__ = PinnedCertificateError("aa" * 32, "bb" * 32)
    mapped = transport_error_from(failure)
    assert isinstance(mapped, PinMismatch)
    assert (mapped.expected, mapped.actual) == ("aa" * 32, "bb" * 32)


def test_transport_errors_raise_with_the_httpx_cause(api: FakeAPI) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api.before.append(refuse)
    with (
        Client(
            BASE_URL, "k", transport=httpx.MockTransport(api), retries=RetryPolicy(max_retries=0)
        ) as c,
        pytest.raises(TransportError) as raised,
    ):
        c.plans.get(1)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
