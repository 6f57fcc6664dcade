"""Where storage lives, read from ``--storage-url`` (validated when the settings are made).

- none: the data directory's ``storage/``;
- ``file:///absolute/path`` (on Windows ``file:///C:/path``): that directory;
- ``s3://bucket/prefix?endpoint=https://host:port&region=eu-west-1&addressing=path``:
  a bucket of an S3-compatible service; every parameter is optional (no endpoint: AWS).

Credentials never belong in the URL: they are settings of their own
(``CLEVERFOX_S3_ACCESS_KEY_ID``, ``CLEVERFOX_S3_SECRET_ACCESS_KEY``), so a URL can be
printed in a banner or a log as it is. Errors are ``ValueError``s with a sentence fit for a
start-up error, and never repeat the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args
from urllib.parse import parse_qs, urlsplit
from urllib.request import url2pathname

from cleverfox.storage.backends.names import check_name

__all__ = [
    "AddressingStyle",
    "LocalLocation",
    "S3Location",
    "StorageLocation",
    "check_endpoint",
    "check_region",
    "parse_storage_url",
]

AddressingStyle = Literal["auto", "path", "virtual"]
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_S3_PARAMETERS = ("endpoint", "region", "addressing")


@dataclass(frozen=True)
class LocalLocation:
    """A directory; ``None`` means the data directory's ``storage/``."""

    path: Path | None = None


@dataclass(frozen=True)
class S3Location:
    """A bucket and prefix, with what the URL said of the service."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    addressing_style: AddressingStyle | None = None


StorageLocation = LocalLocation | S3Location


def parse_storage_url(url: str | None) -> StorageLocation:
    """The location ``url`` names; ``ValueError`` saying what is wrong with it."""
    if not url:
        return LocalLocation()
    scheme = url.partition(":")[0].lower()
    if scheme == "file":
        return _file_location(url)
    if scheme == "s3":
        return _s3_location(url)
    raise ValueError("storage URL must be file:///absolute/path or s3://bucket/prefix")


def check_endpoint(endpoint: str) -> str:
    """An ``http(s)://host[:port]`` endpoint, without credentials, path or query."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("S3 endpoint must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("S3 endpoint must not hold credentials: use the S3 access key settings")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("S3 endpoint must be scheme, host and port only (no path or query)")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError("S3 endpoint has an invalid port") from None
    return endpoint.rstrip("/")


def check_region(region: str) -> str:
    if _REGION.fullmatch(region) is None:
        raise ValueError("S3 region must be lower-case letters, digits and - (eu-west-1)")
    return region


def _file_location(url: str) -> LocalLocation:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError("file:// storage URL must name a local path (file:///path)")
    if parts.query or parts.fragment:
        raise ValueError("file:// storage URL takes no query or fragment")
    path = Path(url2pathname(parts.path))
    if not parts.path or not path.is_absolute():
        raise ValueError("file:// storage URL needs an absolute path (file:///var/lib/...)")
    return LocalLocation(path)


def _s3_location(url: str) -> S3Location:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ValueError(
            "credentials do not belong in the storage URL: set CLEVERFOX_S3_ACCESS_KEY_ID "
            "and CLEVERFOX_S3_SECRET_ACCESS_KEY"
        )
    bucket = parts.netloc
    if _BUCKET.fullmatch(bucket) is None or ".." in bucket or _IP_ADDRESS.fullmatch(bucket):
        raise ValueError(
            "s3:// storage URL needs a bucket name of 3–63 lower-case letters, digits, . and -"
        )
    if parts.fragment:
        raise ValueError("s3:// storage URL takes no fragment")
    prefix = parts.path.strip("/")
    if prefix:
        try:
            check_name(prefix)
        except ValueError:
            raise ValueError(
                "s3:// storage URL prefix must be segments of a–z, 0–9 and _ separated by /"
            ) from None
    endpoint, region, addressing = _s3_parameters(parts.query)
    return S3Location(bucket, prefix, endpoint, region, addressing)


def _s3_parameters(query: str) -> tuple[str | None, str | None, AddressingStyle | None]:
    """The query's endpoint, region and addressing style, each checked."""
    try:
        values = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError("s3:// storage URL has a malformed query") from None
    for key, given in values.items():
        if key not in _S3_PARAMETERS:
            raise ValueError(
                f"s3:// storage URL has an unknown parameter {key[:40]!r} "
                f"(known: {', '.join(_S3_PARAMETERS)})"
            )
        if len(given) > 1:
            raise ValueError(f"s3:// storage URL gives {key} more than once")
    endpoint = values.get("endpoint", [None])[0]
    region = values.get("region", [None])[0]
    addressing = values.get("addressing", [None])[0]
    if addressing is not None and addressing not in get_args(AddressingStyle):
        raise ValueError("s3:// storage URL addressing must be auto, path or virtual")
    return (
        check_endpoint(endpoint) if endpoint is not None else None,
        check_region(region) if region is not None else None,
        cast(AddressingStyle | None, addressing),
    )
