"""The application factory: one FastAPI app per server process, built from ``Settings``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

from cleverfox import __version__
from cleverfox.server import migrate
from cleverfox.server.agent_api.endpoints import router as agent_checkin_router
from cleverfox.server.catalog.endpoints import router as catalog_router
from cleverfox.server.companies import service as companies
from cleverfox.server.companies.endpoints import router as companies_router
from cleverfox.server.company_users import service as company_users
from cleverfox.server.company_users.endpoints import router as company_users_router
from cleverfox.server.devices import service as devices
from cleverfox.server.devices.endpoints import download_router as agent_download_router
from cleverfox.server.devices.endpoints import router as devices_router
from cleverfox.server.devices.service import resolve_device_key
from cleverfox.server.downloads.endpoints import agent_router as agent_restore_router
from cleverfox.server.downloads.endpoints import files_router as download_files_router
from cleverfox.server.downloads.endpoints import items_router as download_calls_router
from cleverfox.server.duties.lifespan import duties_lifespan
from cleverfox.server.events.endpoints import router as events_router
from cleverfox.server.job_items.endpoints import router as job_items_router
from cleverfox.server.jobs.endpoints import router as jobs_router
from cleverfox.server.kit.auth import KeyResolver
from cleverfox.server.kit.conflicts import Conflicts
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.handlers import index_route_methods, install_handlers
from cleverfox.server.kit.hot import hot_routes_first
from cleverfox.server.kit.middleware import RequestIdMiddleware
from cleverfox.server.kit.openapi import install_openapi
from cleverfox.server.kit.proxy import wrap_for_proxies
from cleverfox.server.kit.ratelimit import TokenBuckets
from cleverfox.server.kit.responses import JsonResponse
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.kit.services import Services
from cleverfox.server.logs.endpoints import items_router as log_items_router
from cleverfox.server.logs.endpoints import router as logs_router
from cleverfox.server.partner_users import service as partner_users
from cleverfox.server.partner_users.endpoints import router as partner_users_router
from cleverfox.server.partners.endpoints import router as partners_router
from cleverfox.server.partners.service import resolve_partner_key
from cleverfox.server.runs import service as runs
from cleverfox.server.runs.endpoints import router as agent_runs_router
from cleverfox.server.runs.upload_endpoints import router as agent_uploads_router
from cleverfox.server.storage.health import StorageProbe
from cleverfox.server.subscriptions import service as subscriptions
from cleverfox.server.subscriptions.endpoints import router as subscriptions_router
from cleverfox.server.timezones.endpoints import router as timezones_router
from cleverfox.settings import Settings

ROUTERS = (
    partners_router,
    companies_router,
    catalog_router,
    partner_users_router,
    company_users_router,
    subscriptions_router,
    events_router,
    devices_router,
    timezones_router,
    agent_checkin_router,
    agent_download_router,
    jobs_router,
    job_items_router,
    logs_router,
    log_items_router,
    agent_runs_router,
    agent_uploads_router,
    download_calls_router,
    download_files_router,
    agent_restore_router,
)
RESOLVERS: tuple[KeyResolver, ...] = (resolve_partner_key, resolve_device_key)
# The unique constraints each package relies on, and the 409 a violation of each means.
DECLARED_CONFLICTS = (
    *companies.CONFLICTS,
    *company_users.CONFLICTS,
    *partner_users.CONFLICTS,
    *subscriptions.CONFLICTS,
    *devices.CONFLICTS,
    *runs.CONFLICTS,
)


class SchemaOutOfDate(RuntimeError):
    """The database schema is older than this server and ``--no-migrate`` forbids upgrading."""


def open_database(settings: Settings) -> Database:
    """The database, its schema brought up to date unless ``--no-migrate``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    if settings.migrate:
        migrate.upgrade(db.engine)
    elif not migrate.is_current(db.engine):
        raise SchemaOutOfDate("the database schema is not current; run `cleverfox db upgrade`")
    return db


def build_services(settings: Settings, db: Database) -> Services:
    """What the process's requests share: the secret is read (made on first start) here."""
    rate = settings.rate_limit
    return Services(
        settings=settings,
        db=db,
        secret=load_or_create_secret(settings.secret_key_path),
        resolvers=RESOLVERS,
        conflicts=Conflicts(DECLARED_CONFLICTS),
        rate=TokenBuckets(rate.per_minute, rate.burst) if rate.enabled else None,
        auth_failures=TokenBuckets(settings.auth_failure_limit, settings.auth_failure_limit),
    )


def create_app(settings: Settings) -> FastAPI:
    """The API application with its database open and migrated."""
    services = build_services(settings, open_database(settings))
    app = FastAPI(
        title="CleverFox Backup API",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        default_response_class=JsonResponse,
        lifespan=duties_lifespan(services),
    )
    app.state.services = services
    for router in ROUTERS:
        app.include_router(router)
    hot_routes_first(app, ROUTERS)
    _add_health(app, services)
    _add_root(app)
    app.state.routers = ROUTERS
    index_route_methods(app, ROUTERS)
    install_openapi(app)
    install_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    return app


def create_app_from_env() -> ASGIApp:
    """Factory for server worker processes: settings come from ``CLEVERFOX_*`` variables."""
    settings = Settings()
    return wrap_for_proxies(create_app(settings), settings)


def _add_root(app: FastAPI) -> None:
    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def root() -> RedirectResponse:
        """The server's URL, opened in a browser, leads to the API reference."""
        return RedirectResponse("api/docs")  # relative: it holds behind a proxy's path prefix


def _add_health(app: FastAPI, services: Services) -> None:
    storage = StorageProbe(services.settings)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        """200 when the database answers and storage can be written; else 503 saying which."""
        services.db.ping()
        problem = storage.problem()
        if problem is not None:
            body = {"status": "unavailable", "version": __version__, "storage": problem}
            return JsonResponse(body, status_code=503)
        return JsonResponse({"status": "ok", "version": __version__, "storage": "ok"})
