"""The client: its options, and a namespace per resource on one session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import anyio
import httpx

from cleverfox.client import _async_resources as ns
from cleverfox.client._async_http import AsyncSession
from cleverfox.client._config import DEFAULT_RETRIES, DEFAULT_TIMEOUT, authorization, http_options
from cleverfox.client._retry import RetryPolicy
from cleverfox.client._tls import Verify


class AsyncClient:
    """A partner's connection to a CleverFox Backup server.

    ``base_url`` is ``https://host:port`` (a trailing ``/api`` is fine); ``api_key`` a
    partner API key. TLS: ``verify=True`` trusts the system's CAs, a path trusts that CA
    file, ``fingerprint=`` trusts exactly the certificate with that SHA-256 (hex, colons
    optional: what a self-signed server prints at start-up) and is checked before the key
    is sent. ``timeout`` is seconds (or an ``httpx.Timeout``); ``retries`` a count or a
    :class:`RetryPolicy`; ``transport`` replaces the network (tests: ``httpx.MockTransport``);
    ``proxy`` is an HTTP(S) proxy URL (the environment is not read); ``sleep`` is how the
    client waits between retries (default ``anyio.sleep``).

    Every resource is a namespace (``await client.jobs.run_now(7)``, ``async for company in
    client.companies.list()``). Use the client in ``async with``, or ``await client.aclose()``,
    to release its connections.
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
        transport: httpx.AsyncBaseTransport | None = None,
        proxy: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
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
        session = AsyncSession(
            httpx.AsyncClient(**options),
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
        return f"AsyncClient({self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self._session.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
