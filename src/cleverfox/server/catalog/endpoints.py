"""Read-only catalogue endpoints: ``/api/plantypes``, ``/api/plans``, ``/api/backuptypes``,
``/api/eventtypes``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.catalog import repository, schemas
from cleverfox.server.kit.dependencies import PartnerWork, query_of
from cleverfox.server.kit.inputs import path_id
from cleverfox.server.kit.listing import Filter, ListQuery
from cleverfox.server.models import BackupType, EventType, Plan, PlanType

router = APIRouter(prefix="/api")


def _catalog(
    path: str,
    model: type[Any],
    present: Callable[[Any], Any],
    filters: tuple[Filter, ...],
    title: str,
) -> None:
    def list_all(work: PartnerWork, query: ListQuery = query_of(filters)) -> Response:
        return work.list(query, partial(repository.list_page, model=model), present)

    def get_one(object_id: str, work: PartnerWork) -> Response:
        return work.get(
            partial(repository.get_one, model=model, object_id=path_id(object_id)), present
        )

    router.add_api_route(
        f"/{path}",
        list_all,
        methods=["GET"],
        summary=f"List {title}",
        tags=["Catalogues"],
        response_class=Response,
    )
    router.add_api_route(
        f"/{path}/{{object_id}}",
        get_one,
        methods=["GET"],
        summary=f"Get one of {title}",
        tags=["Catalogues"],
        response_class=Response,
    )


_catalog("plantypes", PlanType, schemas.plan_type_out, schemas.PLAN_TYPE_FILTERS, "Plan Types")
_catalog("plans", Plan, schemas.plan_out, schemas.PLAN_FILTERS, "Plans")
_catalog(
    "backuptypes", BackupType, schemas.backup_type_out, schemas.BACKUP_TYPE_FILTERS, "Backup Types"
)
_catalog("eventtypes", EventType, schemas.event_type_out, schemas.EVENT_TYPE_FILTERS, "Event Types")
