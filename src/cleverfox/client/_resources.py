"""The table of resources: URL, model, filters and writable attributes of each."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import quote

from cleverfox.client import models, params
from cleverfox.client._model_base import CleverFoxModel
from cleverfox.client._wire import wire_names
from cleverfox.client.errors import DuplicateRequest


@dataclass(frozen=True)
class ResourceSpec:
    """One collection of the API (``/api/{path}``)."""

    path: str
    model: type[CleverFoxModel]
    filters: type
    create: type | None = None
    update: type | None = None
    paged_by_id: bool = True

    @functools.cached_property
    def filter_names(self) -> dict[str, str]:
        """Filters the collection takes, snake_case → wire."""
        return wire_names(self.filters)

    @functools.cached_property
    def create_names(self) -> dict[str, str]:
        """Attributes a create may send, snake_case → wire."""
        return wire_names(self.create) if self.create else {}

    @functools.cached_property
    def update_names(self) -> dict[str, str]:
        """Attributes an update may send, snake_case → wire."""
        return wire_names(self.update) if self.update else {}

    @property
    def collection_url(self) -> str:
        """The collection's path."""
        return f"/api/{self.path}"

    def element_url(self, ident: int | str, action: str = "") -> str:
        """An element's path (ids URL-encoded: Time Zone ids have spaces), or its action's."""
        if isinstance(ident, bool) or not isinstance(ident, int | str):
            raise TypeError(f"an id is an int or a str, not {type(ident).__name__}")
        url = f"/api/{self.path}/{quote(str(ident), safe='')}"
        return f"{url}/{action}" if action else url

    def names(self, resource: str | None) -> bool:
        """Whether a ``duplicate_request``'s ``resource`` is this collection
        (``partnerusers``, ``partner_users`` and ``PartnerUsers`` all are)."""
        if resource is None:
            return False
        return resource.replace("_", "").replace("-", "").casefold() == self.path

    def original(self, duplicate: DuplicateRequest, ident: int | None) -> int | str | None:
        """The id of the object a ``duplicate_request`` names if it is what this call
        writes: an object of this collection, and for an element call (``ident``: an update
        or an action) that element itself. None when it names anything else: the Token was
        used by another request, and the caller must hear so."""
        if duplicate.id is None or not self.names(duplicate.resource):
            return None
        if ident is not None and str(duplicate.id) != str(ident):
            return None
        return duplicate.id


PARTNERS = ResourceSpec(
    "partners", models.Partner, params.PartnerFilters, update=params.PartnerUpdate
)
PARTNER_USERS = ResourceSpec(
    "partnerusers",
    models.PartnerUser,
    params.PartnerUserFilters,
    params.PartnerUserCreate,
    params.PartnerUserUpdate,
)
PLAN_TYPES = ResourceSpec("plantypes", models.PlanType, params.PlanTypeFilters)
PLANS = ResourceSpec("plans", models.Plan, params.PlanFilters)
COMPANIES = ResourceSpec(
    "companies", models.Company, params.CompanyFilters, params.CompanyCreate, params.CompanyUpdate
)
COMPANY_USERS = ResourceSpec(
    "companyusers",
    models.CompanyUser,
    params.CompanyUserFilters,
    params.CompanyUserCreate,
    params.CompanyUserUpdate,
)
SUBSCRIPTIONS = ResourceSpec(
    "subscriptions",
    models.Subscription,
    params.SubscriptionFilters,
    params.SubscriptionCreate,
    params.SubscriptionUpdate,
)
DEVICES = ResourceSpec(
    "devices", models.Device, params.DeviceFilters, params.DeviceCreate, params.DeviceUpdate
)
TIME_ZONES = ResourceSpec("timezones", models.TimeZone, params.TimeZoneFilters, paged_by_id=False)
BACKUP_TYPES = ResourceSpec("backuptypes", models.BackupType, params.BackupTypeFilters)
JOBS = ResourceSpec("jobs", models.Job, params.JobFilters, params.JobCreate, params.JobUpdate)
JOB_ITEMS = ResourceSpec(
    "jobitems", models.JobItem, params.JobItemFilters, params.JobItemCreate, params.JobItemUpdate
)
LOGS = ResourceSpec("logs", models.Log, params.LogFilters)
LOG_ITEMS = ResourceSpec("logitems", models.LogItem, params.LogItemFilters)
EVENTS = ResourceSpec("events", models.Event, params.EventFilters)
EVENT_TYPES = ResourceSpec("eventtypes", models.EventType, params.EventTypeFilters)
