"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx

from cleverfox.client import _sync_resources as ns
from cleverfox.client._config import DEFAULT_RETRIES, DEFAULT_TIMEOUT, authorization, http_options
from cleverfox.client._retry import RetryPolicy
from cleverfox.client._sync_http import Session
from cleverfox.client._tls import Verify


class Client:
    """A partner's connection to a CleverFox Backup server.

    ``base_url`` is ``https://host:port`` (a trailing ``/api`` is fine); ``api_key`` a
    partner API key. TLS: ``verify=True`` trusts the system's CAs, a path trusts that CA
    file, ``fingerprint=`` trusts exactly the certificate with that SHA-256 (hex, colons
    optional: what a self-signed server prints at start-up) and is checked before the key
    is sent. ``timeout`` is seconds (or an ``httpx.Timeout``); ``retries`` a count or a
    :class:`RetryPolicy`; ``transport`` replaces the network (tests: ``httpx.MockTransport``);
    ``proxy`` is an HTTP(S) proxy URL (the environment is not read); ``sleep`` is how the
    client waits between retries.

    Every resource is a namespace (``client.companies.list()``, ``client.jobs.run_now(7)``).
    Use it as a context manager, or ``close()`` it, to release its connections.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        verify: Verify = True,
        fingerprint: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        transport: httpx.BaseTransport | None = None,
        proxy: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = authorization(api_key)
        options = http_options(
            base_url,
            verify=verify,
            fingerprint=fingerprint,
            timeout=timeout,
            transport=transport,
            proxy=proxy,
        )
        session = Session(
            httpx.Client(**options),
            authorization=credentials,
            policy=RetryPolicy.of(retries),
            sleep=sleep,
        )
        self._session = session
        self.base_url: str = options["base_url"]
        self.partners = ns.Partners(session)
        self.partner_users = ns.PartnerUsers(session)
        self.plan_types = ns.PlanTypes(session)
        self.plans = ns.Plans(session)
        self.companies = ns.Companies(session)
        self.company_users = ns.CompanyUsers(session)
        self.subscriptions = ns.Subscriptions(session)
        self.devices = ns.Devices(session)
        self.time_zones = ns.TimeZones(session)
        self.backup_types = ns.BackupTypes(session)
        self.jobs = ns.Jobs(session)
        self.job_items = ns.JobItems(session)
        self.logs = ns.Logs(session)
        self.log_items = ns.LogItems(session)
        self.events = ns.Events(session)
        self.event_types = ns.EventTypes(session)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def close(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        self._session.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
