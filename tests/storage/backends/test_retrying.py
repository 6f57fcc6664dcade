"""The retrying wrapper over the S3 backend, with faults injected into moto's S3 (``mock_aws``)
through botocore's events: error answers, lost connections, timeouts and cut-off bodies."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from moto import mock_aws
from tests.support.clock import ManualClock

from cleverfox.storage.backends import (
    BackendUnavailable,
    ObjectExists,
    ObjectNotFound,
    RetryingBackend,
)
from cleverfox.storage.backends.s3 import S3Backend, S3Config

SECRET = "moto-secret-never-shown"
Fault = Callable[[AWSPreparedRequest], AWSResponse]


class RawBody(io.BytesIO):
    """A response body as botocore reads one from urllib3."""

    def stream(self, **_: object) -> Iterator[bytes]:
        while chunk := self.read(65536):
            yield chunk


def answer(status: int, code: str) -> Fault:
    def fault(request: AWSPreparedRequest) -> AWSResponse:
        xml = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, RawBody(xml))

    return fault


def connection_reset(request: AWSPreparedRequest) -> AWSResponse:
    raise ConnectionClosedError(endpoint_url=request.url)


def read_timeout(request: AWSPreparedRequest) -> AWSResponse:
    raise ReadTimeoutError(endpoint_url=request.url)


def short_body(request: AWSPreparedRequest) -> AWSResponse:
    headers = {"content-length": "100", "content-type": "binary/octet-stream"}
    return AWSResponse(request.url, 200, headers, RawBody(b"x" * 10))


TRANSIENT_FAULTS: dict[str, Fault] = {
    "503_slow_down": answer(503, "SlowDown"),
    "500_internal_error": answer(500, "InternalError"),
    "connection_reset": connection_reset,
    "read_timeout": read_timeout,
}


class Faults:
    """Records every request the backend sends and fails those planned, in order."""

    def __init__(self, backend: S3Backend) -> None:
        self.sent: list[str] = []
        self._plan: dict[str, list[Fault | None]] = {}
        backend.client.meta.events.register_first("before-send.s3", self._before_send)

    def plan(self, operation: str, *faults: Fault | None) -> None:
        """Fail the next requests of ``operation`` with ``faults`` (``None`` lets one pass)."""
        self._plan.setdefault(operation, []).extend(faults)

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> Any:
        operation = event_name.rpartition(".")[2]
        self.sent.append(operation)
        planned = self._plan.get(operation)
        fault = planned.pop(0) if planned else None
        return fault(request) if fault else None


@pytest.fixture(scope="module")
def moto_session() -> botocore.session.Session:
    return botocore.session.Session()  # made after moto's import, so moto can intercept it


@pytest.fixture
def s3(moto_session: botocore.session.Session) -> Iterator[S3Backend]:
    with mock_aws():
        config = S3Config(
            bucket="faults", access_key_id="AKIDFAULTS", secret_access_key=SECRET, page_size=2
        )
        backend = S3Backend(config, session=moto_session)
        backend.client.create_bucket(Bucket="faults")
        backend.put("seed", b"seed")  # the write-once check is done before faults are counted
        yield backend


@pytest.fixture
def faults(s3: S3Backend) -> Faults:
    return Faults(s3)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retrying(s3: S3Backend, sleeps: list[float]) -> RetryingBackend:
    return RetryingBackend(s3, attempts=4, sleep=sleeps.append, jitter=lambda: 1.0)


OPERATIONS: dict[str, tuple[str, Callable[[RetryingBackend], object], object]] = {
    "put": ("PutObject", lambda b: b.put("new", b"bytes"), None),
    "get": ("GetObject", lambda b: b.get("seed", 1, 2), b"ee"),
    "size": ("HeadObject", lambda b: b.size("seed"), 4),
    "list": ("ListObjectsV2", lambda b: [i.name for i in b.list()], ["seed"]),
    "delete": ("DeleteObject", lambda b: b.delete("seed"), None),
}


@pytest.mark.parametrize("fault", sorted(TRANSIENT_FAULTS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_transient_fault_is_retried_with_growing_pauses_until_it_passes(
    retrying: RetryingBackend,
    faults: Faults,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    operation: str,
    fault: str,
) -> None:
    request, call, expected = OPERATIONS[operation]
    faults.plan(request, TRANSIENT_FAULTS[fault], TRANSIENT_FAULTS[fault])

    with caplog.at_level(logging.WARNING, logger="cleverfox.storage"):
        assert call(retrying) == expected

    assert faults.sent.count(request) == 3
    assert sleeps == [0.5, 1.0]
    retries = [r.getMessage() for r in caplog.records if r.name == "cleverfox.storage"]
    assert len(retries) == 2
    assert f"storage {operation} of" in retries[0]
    assert "(attempt 1 of 4), retrying in 0.50 s" in retries[0]


def test_a_cut_off_body_is_retried(retrying: RetryingBackend, faults: Faults) -> None:
    faults.plan("GetObject", short_body)

    assert retrying.get("seed") == b"seed"
    assert faults.sent.count("GetObject") == 2


def test_it_gives_up_after_the_last_attempt_with_a_clear_error(
    retrying: RetryingBackend, faults: Faults, sleeps: list[float]
) -> None:
    faults.plan("GetObject", *[answer(503, "ServiceUnavailable")] * 10)

    with pytest.raises(BackendUnavailable) as raised:
        retrying.get("seed")

    message = str(raised.value)
    assert message.startswith("storage get of 'seed' failed after 4 attempts in ")
    assert "ServiceUnavailable (503)" in message
    assert SECRET not in message and "AKIDFAULTS" not in message
    assert faults.sent.count("GetObject") == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_pauses_are_capped_and_jittered(s3: S3Backend, faults: Faults) -> None:
    sleeps: list[float] = []
    draws = iter([0.0, 1.0, 0.5, 1.0, 1.0])
    retrying = RetryingBackend(
        s3, attempts=6, base_delay=1, max_delay=3, sleep=sleeps.append, jitter=lambda: next(draws)
    )
    faults.plan("HeadObject", *[connection_reset] * 5)

    assert retrying.size("seed") == 4
    assert sleeps == [0.5, 2.0, 3.0 * 0.75, 3.0, 3.0]


def test_it_gives_up_before_a_pause_would_pass_the_time_limit(
    s3: S3Backend, faults: Faults
) -> None:
    clock = ManualClock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    retrying = RetryingBackend(
        s3, attempts=10, max_elapsed=3, sleep=sleep, clock=clock, jitter=lambda: 1.0
    )
    faults.plan("HeadObject", *[read_timeout] * 10)

    with pytest.raises(BackendUnavailable, match=r"failed after 3 attempts in 1\.5 s"):
        retrying.size("seed")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (answer(403, "AccessDenied"), BackendUnavailable),
        (answer(403, "SignatureDoesNotMatch"), BackendUnavailable),
        (answer(404, "NoSuchBucket"), BackendUnavailable),
        (answer(404, "NoSuchKey"), ObjectNotFound),
    ],
)
def test_what_retrying_cannot_cure_is_raised_at_once(
    retrying: RetryingBackend,
    faults: Faults,
    sleeps: list[float],
    fault: Fault,
    error: type[Exception],
) -> None:
    faults.plan("GetObject", fault)

    with pytest.raises(error):
        retrying.get("seed")

    assert faults.sent == ["GetObject"]
    assert sleeps == []


def test_a_put_stored_before_its_connection_dropped_is_a_success(
    s3: S3Backend, retrying: RetryingBackend, faults: Faults
) -> None:
    dropped: list[str] = []

    def drop_after_storing(**_: Any) -> None:
        if not dropped:
            dropped.append("once")
            raise ConnectionClosedError(endpoint_url="https://faults.s3.amazonaws.com/")

    s3.client.meta.events.register("after-call.s3.PutObject", drop_after_storing)

    retrying.put("packs/ambiguous", [b"sealed ", b"pieces"])

    assert retrying.get("packs/ambiguous") == b"sealed pieces"
    assert faults.sent[:4] == ["PutObject", "PutObject", "HeadObject", "GetObject"]


@pytest.mark.parametrize("theirs", [b"other bytes", b"same sizeX"], ids=["size", "content"])
def test_a_put_retried_onto_an_object_with_other_bytes_raises_object_exists(
    s3: S3Backend, retrying: RetryingBackend, faults: Faults, theirs: bytes
) -> None:
    s3.put("taken", theirs)
    faults.plan("PutObject", answer(503, "SlowDown"))

    with pytest.raises(ObjectExists):
        retrying.put("taken", b"same size!")

    assert retrying.get("taken") == theirs


def test_a_name_taken_before_the_first_attempt_is_refused_unread(
    retrying: RetryingBackend, faults: Faults
) -> None:
    with pytest.raises(ObjectExists):
        retrying.put("seed", b"seed")

    assert faults.sent == ["PutObject"]


def test_a_listing_cut_off_resumes_after_the_last_name(
    s3: S3Backend, retrying: RetryingBackend, faults: Faults
) -> None:
    names = [f"packs/{i}" for i in range(7)]
    for name in names:
        s3.put(name, b"")
    faults.plan("ListObjectsV2", None, None, connection_reset)  # the third page is cut off

    assert [info.name for info in retrying.list("packs/")] == names
    # pages [0 1] [2 3] cut, then [4 5] [6] after packs/3: five requests, not a restart's seven
    assert faults.sent.count("ListObjectsV2") == 5


def test_a_service_that_ignores_if_none_match_gets_head_then_put(
    moto_session: botocore.session.Session,
) -> None:
    with mock_aws():
        backend = S3Backend(
            S3Config(bucket="plain", access_key_id="a", secret_access_key="b"),
            session=moto_session,
        )
        backend.client.create_bucket(Bucket="plain")

        def ignore_condition(params: dict[str, Any], **_: Any) -> None:
            params.pop("IfNoneMatch", None)

        backend.client.meta.events.register("before-parameter-build.s3.PutObject", ignore_condition)
        backend.put("one", b"1")
        faults = Faults(backend)

        with pytest.raises(ObjectExists):
            backend.put("one", b"2")
        backend.put("two", b"2")

        assert faults.sent == ["HeadObject", "HeadObject", "PutObject"]
        assert backend.get("one") == b"1"
        assert [info.name for info in backend.list()] == ["one", "two"]


def test_a_service_that_answers_501_to_if_none_match_gets_head_then_put(
    moto_session: botocore.session.Session,
) -> None:
    with mock_aws():
        backend = S3Backend(
            S3Config(bucket="older", access_key_id="a", secret_access_key="b"),
            session=moto_session,
        )
        backend.client.create_bucket(Bucket="older")

        def refuse_condition(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
            if "If-None-Match" in request.headers:
                return answer(501, "NotImplemented")(request)
            return None

        backend.client.meta.events.register_first("before-send.s3.PutObject", refuse_condition)

        backend.put("one", b"1")
        with pytest.raises(ObjectExists):
            backend.put("one", b"2")
        assert backend.get("one") == b"1"


def test_attempts_must_be_at_least_one(s3: S3Backend) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryingBackend(s3, attempts=0)
