"""The namespaces of :class:`~cleverfox.client.AsyncClient`: one per resource of the contract.

Common contract of every namespace:

- ``list(**filters)`` returns a lazy iterator, newest first, that fetches pages of
  ``page_size`` (default and maximum 1000) as it is consumed, by ``BeforeId``; ``limit``
  stops after that many objects. Unknown filter names raise TypeError; ``extra_filters``
  sends wire-named query parameters verbatim (for filters newer than this SDK).
- ``get(id)`` returns the object or raises NotFound.
- ``create``/``update``/actions send a Token (fresh, or the caller's ``token=``) and are
  retried with that same Token after an ambiguous failure; a ``duplicate_request`` answer
  naming what the call writes (this collection, and for an update or action this element)
  resolves to the object the first request made or changed, fetched by id; one naming
  anything else is raised as ``DuplicateRequest``. ``extra_attributes`` sends wire-named
  attributes verbatim.
- ``delete(id)`` returns the object as it was.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Unpack

from anyio import Path

from cleverfox.client import _resources as specs
from cleverfox.client import params as p
from cleverfox.client._async_base import Collection, Editable, Extra, Reader
from cleverfox.client._download import download_url
from cleverfox.client._paging import MAX_PAGE_SIZE
from cleverfox.client._retry import RetryBudget
from cleverfox.client._wire import Call, decode_element
from cleverfox.client.errors import CleverFoxError
from cleverfox.client.models import (
    BackupType,
    Company,
    CompanyUser,
    Device,
    Event,
    EventType,
    Job,
    JobItem,
    Log,
    LogItem,
    Partner,
    PartnerUser,
    Plan,
    PlanType,
    Subscription,
    TimeZone,
)


class Partners(Editable[Partner]):
    """``/api/partners``: the caller's own partner account (a list of one)."""

    _spec = specs.PARTNERS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.PartnerFilters],
    ) -> AsyncIterator[Partner]:
        """The caller's partner (the only one it may see)."""
        return self._list(filters, page_size, limit, extra_filters)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.PartnerUpdate],
    ) -> Partner:
        """Change the partner's Name or ApplicationId (the rest is the operator's)."""
        return await self._update(id, changes, token, extra_attributes)


class PartnerUsers(Collection[PartnerUser]):
    """``/api/partnerusers``: people of the partner's organisation (web console users)."""

    _spec = specs.PARTNER_USERS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.PartnerUserFilters],
    ) -> AsyncIterator[PartnerUser]:
        """Partner users, newest first; filters: email, is_inactive."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.PartnerUserCreate],
    ) -> PartnerUser:
        """Create a user and send the invitation; Conflict ``email_taken`` if the Email is used."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.PartnerUserUpdate],
    ) -> PartnerUser:
        """Change the attributes given; Conflict ``account_owner`` when deactivating the owner."""
        return await self._update(id, changes, token, extra_attributes)


class PlanTypes(Reader[PlanType, int]):
    """``/api/plantypes`` (read-only): the families of plans."""

    _spec = specs.PLAN_TYPES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.PlanTypeFilters],
    ) -> AsyncIterator[PlanType]:
        """Plan types, newest first."""
        return self._list(filters, page_size, limit, extra_filters)


class Plans(Reader[Plan, int]):
    """``/api/plans`` (read-only): what a subscription may be on."""

    _spec = specs.PLANS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.PlanFilters],
    ) -> AsyncIterator[Plan]:
        """Plans, newest first."""
        return self._list(filters, page_size, limit, extra_filters)


class Companies(Collection[Company]):
    """``/api/companies``: the partner's customers."""

    _spec = specs.COMPANIES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.CompanyFilters],
    ) -> AsyncIterator[Company]:
        """Companies, newest first; filters: external_id, is_inactive, name_contains."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.CompanyCreate],
    ) -> Company:
        """Create a company; Conflict ``external_id_taken`` if its ExternalId is used."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.CompanyUpdate],
    ) -> Company:
        """Change the attributes given; None clears an optional one."""
        return await self._update(id, changes, token, extra_attributes)


class CompanyUsers(Collection[CompanyUser]):
    """``/api/companyusers``: people of a customer company."""

    _spec = specs.COMPANY_USERS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.CompanyUserFilters],
    ) -> AsyncIterator[CompanyUser]:
        """Company users, newest first; filters: company_id, email, is_inactive."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.CompanyUserCreate],
    ) -> CompanyUser:
        """Create a user; Conflict ``email_taken`` if the Email is used in the company."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.CompanyUserUpdate],
    ) -> CompanyUser:
        """Change the attributes given; Conflict ``account_owner`` when deactivating the owner."""
        return await self._update(id, changes, token, extra_attributes)


class Subscriptions(Collection[Subscription]):
    """``/api/subscriptions``: companies' plans."""

    _spec = specs.SUBSCRIPTIONS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.SubscriptionFilters],
    ) -> AsyncIterator[Subscription]:
        """Subscriptions, newest first; filter: company_id."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.SubscriptionCreate],
    ) -> Subscription:
        """Put a company on a plan (an active plan of the company's plan type)."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.SubscriptionUpdate],
    ) -> Subscription:
        """Change the attributes given; None clears an optional one."""
        return await self._update(id, changes, token, extra_attributes)


class Devices(Collection[Device]):
    """``/api/devices``: the PCs and servers that are backed up."""

    _spec = specs.DEVICES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.DeviceFilters],
    ) -> AsyncIterator[Device]:
        """Devices, newest first; filters: company_id, subscription_id, external_id,
        is_inactive, connection_status, name_contains."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.DeviceCreate],
    ) -> Device:
        """Create a device (its ApiKey is made with it); Conflict
        ``device_limit_reached`` beyond the subscription's device limit."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.DeviceUpdate],
    ) -> Device:
        """Change the attributes given; changing the time zone keeps the jobs' wall times."""
        return await self._update(id, changes, token, extra_attributes)

    async def rotate_api_key(self, id: int, *, token: str | None = None) -> Device:
        """Give the device a new ApiKey (``POST …/apikey``); the old key stops working."""
        return await self._action(id, "apikey", token)


class TimeZones(Reader[TimeZone, str]):
    """``/api/timezones`` (read-only): the zones a Device may use; ids are strings."""

    _spec = specs.TIME_ZONES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.TimeZoneFilters],
    ) -> AsyncIterator[TimeZone]:
        """Time zones (paged by PageNo: their ids are not integers)."""
        return self._list(filters, page_size, limit, extra_filters)


class BackupTypes(Reader[BackupType, int]):
    """``/api/backuptypes`` (read-only): files and the kinds of database."""

    _spec = specs.BACKUP_TYPES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.BackupTypeFilters],
    ) -> AsyncIterator[BackupType]:
        """Backup types, newest first."""
        return self._list(filters, page_size, limit, extra_filters)


class Jobs(Collection[Job]):
    """``/api/jobs``: scheduled backups of devices."""

    _spec = specs.JOBS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.JobFilters],
    ) -> AsyncIterator[Job]:
        """Jobs, newest first; filters: device_id, company_id, is_inactive, frequency."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.JobCreate],
    ) -> Job:
        """Create a job; a naive ``next_run_on`` is wall time in the device's zone, an
        aware one is converted to it by the server."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.JobUpdate],
    ) -> Job:
        """Change the attributes given; Conflict ``job_running`` on delete while it runs."""
        return await self._update(id, changes, token, extra_attributes)

    async def run_now(self, id: int, *, token: str | None = None) -> Job:
        """Ask for a run now (``POST …/run``, 202); the agent starts it at its next
        check-in. Conflict ``job_running`` while a run is in progress."""
        return await self._action(id, "run", token)


class JobItems(Collection[JobItem]):
    """``/api/jobitems``: what jobs back up."""

    _spec = specs.JOB_ITEMS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.JobItemFilters],
    ) -> AsyncIterator[JobItem]:
        """Job items, newest first; filters: job_id, device_id, backup_type_id."""
        return self._list(filters, page_size, limit, extra_filters)

    async def create(
        self,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **attributes: Unpack[p.JobItemCreate],
    ) -> JobItem:
        """Create a job item (Username/Password are stored encrypted and never returned)."""
        return await self._create(attributes, token, extra_attributes)

    async def update(
        self,
        id: int,
        *,
        token: str | None = None,
        extra_attributes: Extra = None,
        **changes: Unpack[p.JobItemUpdate],
    ) -> JobItem:
        """Change the attributes given; Username/Password left out or None keep their value."""
        return await self._update(id, changes, token, extra_attributes)


class Logs(Reader[Log, int]):
    """``/api/logs`` (read-only): runs of jobs, and missed ones."""

    _spec = specs.LOGS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.LogFilters],
    ) -> AsyncIterator[Log]:
        """Logs, newest first; filters: company_id, device_id, job_id, job_status, since,
        until (on AddedOn), include_running. Running logs are listed only with
        ``job_status=JobStatus.RUNNING`` or ``include_running=True``."""
        return self._list(filters, page_size, limit, extra_filters)


class LogItems(Reader[LogItem, int]):
    """``/api/logitems`` (read-only): each job item's result within a Log, and its downloads."""

    _spec = specs.LOG_ITEMS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.LogItemFilters],
    ) -> AsyncIterator[LogItem]:
        """Log items, newest first; filters: log_id, job_item_id, job_id, device_id, company_id."""
        return self._list(filters, page_size, limit, extra_filters)

    async def download_backup_file(self, id: int) -> LogItem:
        """The Log Item with ``url`` and ``expires`` filled: the backup file can be fetched
        from ``url`` without a key for an hour (see :meth:`save_download`). NotFound
        ``backup_file_not_available`` once retention removed it; PermissionDenied
        ``download_limited`` on a plan with DownloadLimit."""
        url = self._spec.element_url(id, "downloadbackupfile")
        return decode_element(await self._session.send(Call("GET", url)), self._model)

    async def download_backup_list(self, id: int) -> LogItem:
        """As :meth:`download_backup_file`, for the list of the files in the backup."""
        url = self._spec.element_url(id, "downloadbackuplist")
        return decode_element(await self._session.send(Call("GET", url)), self._model)

    def iter_download(self, source: LogItem | str, *, offset: int = 0) -> AsyncIterator[bytes]:
        """The bytes at a download ``url`` (a Log Item from a download call, or the URL)
        from ``offset`` on, in one request; no API key is sent. Not retried. Close it
        (``contextlib.aclosing``) when not reading it to the end."""
        return self._session.download(download_url(source), offset)

    async def save_download(
        self, source: LogItem | str, path: str | os.PathLike[str], *, resume: bool = True
    ) -> int:
        """Fetch a download ``url`` into ``path``; the file's size when complete.

        With ``resume`` an existing file is taken as the first bytes and only the rest is
        asked for (``Range``); a transfer that breaks resumes where it stopped, within the
        client's retry policy. Without it the file is written anew.
        The file is written from a worker thread, so the event loop is not blocked.
        """
        url = download_url(source)
        target = Path(path)
        offset = (await target.stat()).st_size if resume and await target.exists() else 0
        budget = RetryBudget(self._session.policy, replayable=True)
        async with await target.open("ab" if offset else "wb") as file:
            while True:
                try:
                    async for chunk in self._session.download(url, offset):
                        await file.write(chunk)
                        offset += len(chunk)
                except CleverFoxError as error:
                    await self._session.pause(budget, error, Call("GET", url))
                else:
                    return offset


class Events(Reader[Event, int]):
    """``/api/events`` (read-only): the audit trail."""

    _spec = specs.EVENTS

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.EventFilters],
    ) -> AsyncIterator[Event]:
        """Events, newest first; filters: event_type_id, company_id, device_id, job_id,
        since, until."""
        return self._list(filters, page_size, limit, extra_filters)


class EventTypes(Reader[EventType, int]):
    """``/api/eventtypes`` (read-only): the kinds of Event."""

    _spec = specs.EVENT_TYPES

    def list(
        self,
        *,
        page_size: int = MAX_PAGE_SIZE,
        limit: int | None = None,
        extra_filters: Extra = None,
        **filters: Unpack[p.EventTypeFilters],
    ) -> AsyncIterator[EventType]:
        """Event types, newest first."""
        return self._list(filters, page_size, limit, extra_filters)
