"""``s3``: objects in a bucket of any S3-compatible service (AWS, SeaweedFS, MinIO, Ceph…).

The client is botocore, the AWS-maintained core of boto3 (boto3's resource layer and
s3transfer add nothing a backend of whole objects needs). Nothing imports this module
unless the storage URL is ``s3://``: botocore costs about a quarter of a second and ~35 MiB
to import and build a client, which a server on local storage should not pay.

**Write once.** A put sends ``If-None-Match: *``, so the service itself refuses a name
that exists (412), and of racing puts exactly one wins. A service that does not support
it (it answers 501, or silently overwrites) is detected once per backend, on its first
put, by writing a ``health/`` object twice; such a service gets a HEAD, then the PUT.
That leaves a window in which two puts of one name both succeed and the last replaces the
first. It is harmless here: pack names are random, and manifest names are the digest of
their content, so two writers of one name write the same backup.

**Retries** are the ``RetryingBackend``'s, not botocore's (its are turned off), so a
failure is retried once per layer, with one policy and one log line per retry. Errors are
mapped to ``backends.errors``: a missing key to ``ObjectNotFound``, 5xx, throttling,
timeouts and lost connections to ``TransientBackendError``, refused credentials or a
missing bucket to ``BackendUnavailable``.

**Credentials** are those given (``S3Config``); when none are, botocore's default chain
(``AWS_*`` variables, shared files, an instance or container role). They never appear in
``describe()``, in a message or a log line: messages name the operation, the object and the
service's error code.

Request checksums are sent only where the operation requires them: many S3-compatible
services refuse the trailing checksums botocore would add by default, and every stored
object is AES-256-GCM sealed above this layer, so damage is detected when it is read.
"""

from __future__ import annotations

import bisect
import io
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import botocore.config
import botocore.exceptions
import botocore.session

from cleverfox.storage.backends.base import (
    PROBE_PREFIX,
    ObjectInfo,
    Payload,
    as_buffers,
    check_range,
    probe_by_round_trip,
)
from cleverfox.storage.backends.errors import (
    BackendError,
    BackendUnavailable,
    InvalidRange,
    ObjectExists,
    ObjectNotFound,
    TransientBackendError,
)
from cleverfox.storage.backends.location import AddressingStyle
from cleverfox.storage.backends.names import check_name, check_prefix, is_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3Backend", "S3Config"]

T = TypeVar("T")

_TRANSIENT_CODES = frozenset(
    {
        "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled",
        "TooManyRequests", "RequestTimeout", "RequestTimeoutException", "InternalError",
        "ServiceUnavailable", "OperationAborted", "ConditionalRequestConflict",
    }
)  # fmt: skip
_REFUSED_CODES = frozenset(
    {
        "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken",
        "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
        "RequestTimeTooSkewed", "InvalidBucketName", "PermanentRedirect",
        "AuthorizationHeaderMalformed",
    }
)  # fmt: skip


@dataclass(frozen=True)
class S3Config:
    """Where and how to reach the bucket; ``prefix`` has no leading or trailing ``/``."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None  # None: AWS's endpoint for the region
    region: str = "us-east-1"
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    addressing_style: AddressingStyle = "auto"
    page_size: int = 1000  # keys per list request (1,000 is S3's maximum)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_connections: int = 16
    conditional_writes: bool | None = None  # None: detect on the first put


class S3Backend:
    """A ``Backend`` in ``config.bucket`` under ``config.prefix``; see the module docstring."""

    def __init__(
        self, config: S3Config, *, session: botocore.session.Session | None = None
    ) -> None:
        """``session``: a botocore session to build the client from (one per backend if none).

        A session caches the S3 service model (~0.15 s to load), so tests that build many
        backends share one; a server builds one backend and needs none.
        """
        if config.prefix:
            check_name(config.prefix)
        self._config = config
        self._root = f"{config.prefix}/" if config.prefix else ""
        self._client = _make_client(config, session or botocore.session.Session())
        self._conditional = config.conditional_writes
        self._detecting = threading.Lock()

    @property
    def client(self) -> S3Client:
        """The botocore client, for instrumentation (tests inject faults through its events)."""
        return self._client

    def put(self, name: str, data: Payload) -> None:
        check_name(name)
        if self._conditional is None:
            self._detect_conditional_writes()
        if not self._conditional and self._exists(name):
            raise ObjectExists(f"object {name!r} exists")
        self._put(name, data, conditional=bool(self._conditional))

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        check_name(name)
        check_range(offset, length)
        if length == 0:  # S3 has no empty range; the object must still exist and be long enough
            self._check_inside(name, offset)
            return b""
        wanted = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        ranged = offset > 0 or length is not None
        try:
            body = self._call("get", name, self._get_object, name, wanted if ranged else None)
        except InvalidRange:
            if length is None and offset == self.size(name):
                return b""  # the empty tail of an object
            raise
        if length is not None and len(body) != length:
            raise InvalidRange(
                f"range {offset}–{offset + length} is outside object {name!r}"
                f" of {offset + len(body)} bytes"
            )
        return body

    def size(self, name: str) -> int:
        check_name(name)
        try:
            return self._head(name)
        except ObjectNotFound:
            self._check_bucket()  # a HEAD's 404 has no body to say whether the bucket is gone
            raise

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        if start_after is not None:
            check_name(start_after)
        return self._list(prefix, start_after)

    def delete(self, name: str) -> None:
        check_name(name)
        try:
            self._call(
                "delete", name, self._client.delete_object, Bucket=self._bucket, Key=self._key(name)
            )
        except ObjectNotFound:  # AWS answers 204 either way; some services answer 404
            return

    def describe(self) -> str:
        where = self._config.endpoint or f"AWS region {self._config.region}"
        prefix = f", prefix {self._root}" if self._root else ""
        return f"S3 bucket {self._bucket}{prefix} at {where}"

    def probe(self) -> None:
        probe_by_round_trip(self)

    @property
    def _bucket(self) -> str:
        return self._config.bucket

    def _key(self, name: str) -> str:
        return self._root + name

    def _put(self, name: str, data: Payload, *, conditional: bool) -> None:
        self._call("put", name, self._put_object, name, data, conditional)

    def _put_object(self, name: str, data: Payload, conditional: bool) -> None:
        buffers = as_buffers(data)
        body: bytes | IO[bytes]
        if len(buffers) == 1 and isinstance(buffers[0].obj, bytes):
            body = buffers[0].obj  # botocore sends bytes as they are
        else:
            body = cast("IO[bytes]", _BuffersReader(buffers))
        size = sum(view.nbytes for view in buffers)
        key = self._key(name)
        if conditional:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentLength=size, IfNoneMatch="*"
            )
        else:
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentLength=size)

    def _get_object(self, name: str, wanted: str | None) -> bytes:
        key = self._key(name)
        if wanted:
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=wanted)
        else:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        stream = response["Body"]
        try:  # not ``with``: its __enter__ hands out the raw urllib3 stream, which checks no
            body = stream.read()  # Content-Length and raises urllib3's errors, not botocore's
        finally:
            stream.close()
        if wanted and "ContentRange" not in response:  # a service that ignored the range
            start, _, end = wanted.removeprefix("bytes=").partition("-")
            body = body[int(start) : int(end) + 1 if end else None]
        return body

    def _head(self, name: str) -> int:
        head = self._call(
            "size", name, self._client.head_object, Bucket=self._bucket, Key=self._key(name)
        )
        return int(head["ContentLength"])

    def _exists(self, name: str) -> bool:
        """Whether ``name`` exists (a missing bucket shows in the put that follows)."""
        try:
            self._head(name)
        except ObjectNotFound:
            return False
        return True

    def _check_bucket(self) -> None:
        """Raise ``BackendUnavailable`` if the bucket does not exist."""
        try:
            self._call("check", "/", self._client.head_bucket, Bucket=self._bucket)
        except ObjectNotFound:
            raise BackendUnavailable(f"S3 bucket {self._bucket} does not exist") from None

    def _check_inside(self, name: str, offset: int) -> None:
        size = self.size(name)
        if offset > size:
            raise InvalidRange(f"offset {offset} is outside object {name!r} of {size} bytes")

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        request: dict[str, Any] = {
            "Bucket": self._bucket,
            "Prefix": self._key(prefix),
            "MaxKeys": self._config.page_size,
        }
        if start_after is not None:
            # "/" sorts before every name character, so keys after ``x`` are the keys after
            # ``x/``; SeaweedFS skips a whole "directory" ``x`` given ``x``, but not ``x/``.
            request["StartAfter"] = self._key(start_after) + "/"
        while True:
            page = self._call("list", prefix or "/", self._client.list_objects_v2, **request)
            for item in page.get("Contents", []):
                name = item["Key"][len(self._root) :]
                if is_name(name):  # skips "directory" markers and foreign keys
                    yield ObjectInfo(name, int(item["Size"]))
            if not page.get("IsTruncated"):
                return
            request["ContinuationToken"] = page["NextContinuationToken"]

    def _detect_conditional_writes(self) -> None:
        """Learn, once, whether the service refuses a conditional put of an existing name."""
        with self._detecting:
            if self._conditional is not None:
                return
            name = f"{PROBE_PREFIX}write_once_{secrets.token_hex(8)}"
            try:
                self._conditional = self._refuses_second_put(name)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
                raise self._translate(exc, "put", name) from exc
            finally:
                self.delete(name)

    def _refuses_second_put(self, name: str) -> bool:
        """Two conditional puts of ``name``: does the second fail as it should?"""
        try:
            self._put_object(name, b"first", True)
            self._put_object(name, b"second", True)
        except botocore.exceptions.ClientError as exc:
            code, status = _code_and_status(exc)
            if code == "PreconditionFailed" or status == 412:
                return True
            if code == "NotImplemented" or status == 501:
                return False
            raise
        return False  # the second put replaced the first: If-None-Match is ignored

    def _call(self, operation: str, name: str, function: Callable[..., T], *args: Any,
              **kwargs: Any) -> T:  # fmt: skip
        """``function(*args, **kwargs)`` with botocore's errors as ``BackendError``s."""
        try:
            return function(*args, **kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise self._translate(exc, operation, name) from exc

    def _translate(self, exc: Exception, operation: str, name: str) -> BackendError:
        if isinstance(exc, botocore.exceptions.ClientError):
            error = _client_error(exc, f"S3 {operation} of {name!r} in bucket {self._bucket}")
            return type(error)(self._without_credentials(str(error)))
        reason = self._without_credentials(str(exc))
        message = f"S3 {operation} of {name!r} failed: {reason}"
        if isinstance(exc, botocore.exceptions.NoCredentialsError | _PartialCredentials):
            return BackendUnavailable(f"{message} (set the S3 access key settings)")
        if isinstance(exc, botocore.exceptions.SSLError):
            return BackendUnavailable(message)
        if isinstance(exc, _TransientBotocore):
            return TransientBackendError(message)
        return BackendError(message)

    def _without_credentials(self, text: str) -> str:
        for secret in (self._config.access_key_id, self._config.secret_access_key):
            if secret:
                text = text.replace(secret, "***")
        return text


_PartialCredentials = botocore.exceptions.PartialCredentialsError
_TransientBotocore = (
    botocore.exceptions.HTTPClientError,  # lost connections, read timeouts, cut-off bodies
    botocore.exceptions.ConnectionError,  # connection refused or timed out
    botocore.exceptions.IncompleteReadError,
)


def _client_error(exc: botocore.exceptions.ClientError, what: str) -> BackendError:
    """Map an S3 error answer; the message keeps the code and the service's own words."""
    code, status = _code_and_status(exc)
    said = str(exc.response.get("Error", {}).get("Message", "")).strip()
    message = f"{what} failed: {code or 'HTTP'} ({status}){': ' + said if said else ''}"
    if code == "NoSuchBucket":
        return BackendUnavailable(message)
    if code in ("NoSuchKey", "NotFound") or status == 404:
        return ObjectNotFound(message)
    if code == "PreconditionFailed" or status == 412:
        return ObjectExists(message)
    if code == "InvalidRange" or status == 416:
        return InvalidRange(message)
    if code == "NotImplemented" or status == 501:
        return BackendError(message)
    if code in _TRANSIENT_CODES or status >= 500 or status == 429:
        return TransientBackendError(message)
    if code in _REFUSED_CODES or status in (301, 401, 403):
        return BackendUnavailable(message)
    return BackendError(message)


def _code_and_status(exc: botocore.exceptions.ClientError) -> tuple[str, int]:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code, int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _make_client(config: S3Config, session: botocore.session.Session) -> S3Client:
    client = session.create_client(
        "s3",
        region_name=config.region,
        endpoint_url=config.endpoint,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
        config=botocore.config.Config(
            s3={"addressing_style": config.addressing_style},
            retries={"total_max_attempts": 1},
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            max_pool_connections=config.max_connections,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            user_agent_extra="cleverfox",
        ),
    )
    return cast("S3Client", client)


class _BuffersReader(io.RawIOBase):
    """A seekable reader over buffers, so a put sends a pack's pieces without joining them.

    botocore rewinds it to sign the payload and a retry starts it again.
    """

    def __init__(self, buffers: list[memoryview]) -> None:
        self._buffers = buffers
        self._starts = []
        total = 0
        for view in buffers:
            self._starts.append(total)
            total += view.nbytes
        self._size = total
        self._position = 0

    def __len__(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, target: Any) -> int:
        out = memoryview(target).cast("B")
        written = 0
        while written < out.nbytes and self._position < self._size:
            index = bisect.bisect_right(self._starts, self._position) - 1
            inside = self._position - self._starts[index]
            part = self._buffers[index][inside : inside + out.nbytes - written]
            out[written : written + part.nbytes] = part
            written += part.nbytes
            self._position += part.nbytes
        return written
