"""The one validated settings object of a server process.

Every option of ``cleverfox serve`` (operator-cli.md) lives here; each reads the environment
variable ``CLEVERFOX_<NAME>`` and the command line wins. Nothing else in the server reads the
environment.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cleverfox.storage.backends.location import (
    S3Location,
    StorageLocation,
    check_endpoint,
    check_region,
    parse_storage_url,
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimit(tuple[int, int]):
    """Requests per minute and burst; ``(0, 0)`` turns the limit off."""

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Read ``RPM[,BURST]``; the burst defaults to a sixth of a minute's budget (min 1)."""
        parts = [p.strip() for p in str(text).split(",")]
        if len(parts) > 2 or not all(p.isdigit() for p in parts):
            raise ValueError("rate limit must be RPM or RPM,BURST with whole numbers")
        rpm = int(parts[0])
        burst = int(parts[1]) if len(parts) == 2 else max(1, rpm // 6)
        return cls((rpm, burst if rpm else 0))

    @property
    def per_minute(self) -> int:
        return self[0]

    @property
    def burst(self) -> int:
        return self[1]

    @property
    def enabled(self) -> bool:
        return self[0] > 0


class Settings(BaseSettings):
    """Settings of one ``cleverfox`` server or operator process."""

    model_config = SettingsConfigDict(env_prefix="CLEVERFOX_", extra="ignore", frozen=True)

    data_dir: Path = Path("./cleverfox-data")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8443
    database_url: str | None = None
    storage_url: str | None = None
    # S3 storage (``--storage-url s3://…``): the endpoint and region override the URL's; with
    # no keys, botocore's default chain (AWS_* variables, shared files, instance roles).
    s3_endpoint: str | None = None
    s3_region: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: Annotated[tuple[IpNetwork, ...], NoDecode] = ()
    smtp_url: str | None = None
    mail_from: str = "CleverFox Backup <noreply@cleverfox.invalid>"
    secret_key_file: Path | None = None
    rate_limit: Annotated[RateLimit, NoDecode] = RateLimit((600, 100))
    auth_failure_limit: Annotated[int, Field(ge=0)] = 20
    # How long a process trusts a partner key it authenticated (0 = ask the database each time).
    auth_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 2
    checkin_interval: Annotated[int, Field(ge=5, le=86400)] = 60
    missed_job_interval: Annotated[int, Field(ge=1, le=86400)] = 60
    running_log_timeout: Annotated[float, Field(gt=0, le=24 * 365)] = 24
    # How often expired request Tokens are deleted (seconds; they expire after 60 minutes).
    token_purge_interval: Annotated[int, Field(ge=1, le=86400)] = 600
    # Storage garbage collection (docs/operations.md): seconds a chunk stays unreferenced, and
    # a retired pack or deleted manifest stays readable, before it is deleted (longer than
    # any upload or download takes); how often the `storage-gc` duty runs (seconds).
    storage_gc_grace: Annotated[float, Field(ge=0, le=365 * 86400)] = 86400
    storage_gc_interval: Annotated[int, Field(ge=1, le=7 * 86400)] = 3600
    workers: Annotated[int, Field(ge=1, le=64)] = 1
    # Worker threads per process for the units of work (None: 2 on SQLite, 40 on PostgreSQL).
    worker_threads: Annotated[int | None, Field(ge=1, le=1000)] = None
    migrate: bool = True
    public_url: str | None = None
    environment: str = "production"

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _parse_rate_limit(cls, value: object) -> RateLimit:
        if isinstance(value, RateLimit):
            return value
        if isinstance(value, tuple | list):
            return RateLimit((int(value[0]), int(value[1])))
        text = str(value).strip()
        if text.startswith("["):  # the JSON list form settings_to_env may write
            text = text.strip("[]").replace(" ", "")
        return RateLimit.parse(text)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> tuple[IpNetwork, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, str) and value.strip().startswith("["):
            value = json.loads(value)
        items = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        return tuple(
            ipaddress.ip_network(str(i).strip(), strict=False) for i in items if str(i).strip()
        )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql", "postgres://", "sqlite")):
            raise ValueError("database URL must be postgresql://… or sqlite:///…")
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str | None) -> str | None:
        parse_storage_url(value)
        return value or None

    @field_validator("s3_endpoint")
    @classmethod
    def _check_s3_endpoint(cls, value: str | None) -> str | None:
        return check_endpoint(value) if value else None

    @field_validator("s3_region")
    @classmethod
    def _check_s3_region(cls, value: str | None) -> str | None:
        return check_region(value) if value else None

    @model_validator(mode="after")
    def _check_tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        return self

    @model_validator(mode="after")
    def _check_s3_settings(self) -> Settings:
        given = [self.s3_endpoint, self.s3_region, self.s3_access_key_id, self.s3_secret_access_key]
        if any(given) and not isinstance(self.storage_location, S3Location):
            raise ValueError("the S3 settings need an s3:// --storage-url")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("S3 access key id and secret access key go together")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: PostgreSQL through psycopg 3, else SQLite in the data directory."""
        url = self.database_url
        if not url:
            return f"sqlite:///{(self.data_dir / 'cleverfox.db').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def storage_location(self) -> StorageLocation:
        """Where backup data lives (``--storage-url``, validated when the settings were made)."""
        return parse_storage_url(self.storage_url)

    @property
    def secret_key_path(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def behind_proxy(self) -> bool:
        return bool(self.trusted_proxies)
