"""``open_backend``: the backend the settings name, wrapped in retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.backends.location import LocalLocation, S3Location, parse_storage_url
from cleverfox.storage.backends.retrying import RetryingBackend

if TYPE_CHECKING:
    from cleverfox.settings import Settings

__all__ = ["open_backend", "open_unretried"]


def open_backend(settings: Settings) -> RetryingBackend:
    """The storage of ``settings`` (``--storage-url`` and the ``s3_*`` settings), with retries.

    Local storage's directory is made if missing. S3 is not contacted here: the first
    operation (or ``probe``) finds out whether the bucket and credentials work.
    """
    return RetryingBackend(open_unretried(settings))


def open_unretried(settings: Settings) -> Backend:
    """The same backend without the retrying wrapper (``/healthz`` probes it once)."""
    location = parse_storage_url(settings.storage_url)
    if isinstance(location, LocalLocation):
        return LocalBackend(location.path or settings.data_dir / "storage")
    return _open_s3(location, settings)


def _open_s3(location: S3Location, settings: Settings) -> Backend:
    from cleverfox.storage.backends.s3 import S3Backend, S3Config  # botocore only when used

    key_id, secret = settings.s3_access_key_id, settings.s3_secret_access_key
    return S3Backend(
        S3Config(
            bucket=location.bucket,
            prefix=location.prefix,
            endpoint=settings.s3_endpoint or location.endpoint,
            region=settings.s3_region or location.region or "us-east-1",
            access_key_id=key_id.get_secret_value() if key_id else None,
            secret_access_key=secret.get_secret_value() if secret else None,
            addressing_style=location.addressing_style or "auto",
        )
    )
