"""What the S3 backend adds to the contract, against the real ``weed mini``: signatures are
checked, refusals are ``BackendUnavailable``, credentials never show, writes are conditional."""

from __future__ import annotations

import logging

import botocore.session
import pytest
from tests.storage.backends.conftest import s3_config
from tests.support.seaweed import Seaweed

from cleverfox.storage.backends import BackendError, BackendUnavailable, RetryingBackend
from cleverfox.storage.backends.s3 import S3Backend


def count_requests(backend: S3Backend) -> list[str]:
    """The operation names the backend sends from now on."""
    sent: list[str] = []

    def record(model: object, **_: object) -> None:
        sent.append(model.name)  # type: ignore[attr-defined]

    backend.client.meta.events.register("before-call.s3", record)
    return sent


def all_text_of(error: BaseException) -> str:
    """The error's message, repr and those of every error it was raised from."""
    parts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        parts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("wrong", ["secret", "key_id"])
def test_a_wrong_credential_is_refused_and_never_shown(
    seaweed: Seaweed,
    botocore_session: botocore.session.Session,
    caplog: pytest.LogCaptureFixture,
    wrong: str,
) -> None:
    key_id, secret = seaweed.access_key_id, seaweed.secret_access_key
    if wrong == "secret":
        secret = "not-the-" + secret
    else:
        key_id = "cfxunknown" + key_id
    backend = RetryingBackend(
        S3Backend(
            s3_config(seaweed, access_key_id=key_id, secret_access_key=secret),
            session=botocore_session,
        ),
        sleep=lambda _: None,
    )
    caplog.set_level(logging.DEBUG, logger="cleverfox")

    for call in (lambda: backend.put("packs/x", b"data"), lambda: backend.get("packs/x"),
                 lambda: list(backend.list()), backend.probe):  # fmt: skip
        with pytest.raises(BackendUnavailable) as raised:
            call()
        text = all_text_of(raised.value)
        assert "SignatureDoesNotMatch" in text or "InvalidAccessKeyId" in text
        for credential in (key_id, secret, seaweed.secret_access_key):
            assert credential not in text
            assert credential not in caplog.text
            assert credential not in backend.describe()


def test_the_right_credentials_work_where_wrong_ones_failed(
    seaweed: Seaweed, botocore_session: botocore.session.Session
) -> None:
    backend = S3Backend(s3_config(seaweed), session=botocore_session)

    backend.probe()


def test_a_missing_bucket_is_unavailable(
    seaweed: Seaweed, botocore_session: botocore.session.Session
) -> None:
    backend = S3Backend(s3_config(seaweed, bucket="no-such-bucket"), session=botocore_session)

    with pytest.raises(BackendUnavailable, match="no-such-bucket does not exist"):
        backend.size("packs/x")
    with pytest.raises(BackendUnavailable, match="NoSuchBucket"):
        backend.get("packs/x")
    with pytest.raises(BackendUnavailable, match="NoSuchBucket"):
        list(backend.list())


def test_an_unreachable_endpoint_is_transient(botocore_session: botocore.session.Session) -> None:
    from tests.support.server import free_port

    from cleverfox.storage.backends import TransientBackendError
    from cleverfox.storage.backends.s3 import S3Config

    backend = S3Backend(
        S3Config(
            bucket="cleverfox-test",
            endpoint=f"http://127.0.0.1:{free_port()}",
            access_key_id="key",
            secret_access_key="secret-never-shown",
            connect_timeout=2,
        ),
        session=botocore_session,
    )

    with pytest.raises(TransientBackendError) as raised:
        backend.get("packs/x")
    assert "secret-never-shown" not in all_text_of(raised.value)


def test_weed_honours_conditional_puts_so_a_put_is_one_request(
    seaweed: Seaweed, botocore_session: botocore.session.Session
) -> None:
    backend = S3Backend(s3_config(seaweed), session=botocore_session)
    sent = count_requests(backend)

    backend.put("first", b"1")  # learns, once, that the service refuses a second put
    detected = list(sent)
    sent.clear()
    backend.put("second", b"2")

    assert detected.count("PutObject") == 3  # the write-once check's two, then the object
    assert sent == ["PutObject"]
    assert [info.name for info in backend.list()] == ["first", "second"]


def test_head_then_put_mode_asks_before_it_writes(
    seaweed: Seaweed, botocore_session: botocore.session.Session
) -> None:
    backend = S3Backend(s3_config(seaweed, conditional_writes=False), session=botocore_session)
    sent = count_requests(backend)

    backend.put("one", b"1")

    assert sent == ["HeadObject", "PutObject"]


def test_describe_names_bucket_prefix_and_endpoint_only(
    seaweed: Seaweed, botocore_session: botocore.session.Session
) -> None:
    config = s3_config(seaweed)
    backend = S3Backend(config, session=botocore_session)

    assert backend.describe() == (
        f"S3 bucket {seaweed.bucket}, prefix {config.prefix}/ at {seaweed.endpoint}"
    )
    assert seaweed.access_key_id not in repr(config)
    assert seaweed.secret_access_key not in repr(config)


def test_an_invalid_prefix_is_refused(botocore_session: botocore.session.Session) -> None:
    from cleverfox.storage.backends.s3 import S3Config

    with pytest.raises(BackendError):
        S3Backend(S3Config(bucket="cleverfox-test", prefix="Bad/Prefix"), session=botocore_session)
