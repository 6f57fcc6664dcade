"""The OpenAPI document (``/api/openapi.json``) and its offline viewer (``/api/docs``).

Bodies are read by ``kit.dependencies.body_of`` against a ``WireSchema`` rather than by FastAPI, so
the request-body schemas are added here, from the same attribute declarations that read
the input. The viewer's assets ship inside the ``fastapi-offline`` package: no CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema

WIRE_SCHEMA = "cleverfox_wire_schema"
"""The attribute of a body dependency that names its ``WireSchema``."""
_STATIC = Path(fastapi_offline.__file__).parent / "static"


def install_openapi(app: FastAPI) -> None:
    """Serve ``/api/openapi.json`` with request bodies and ``/api/docs`` offline."""
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    app.mount("/api/docs/static", StaticFiles(directory=_STATIC), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="CleverFox Backup API",
            swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/static/swagger-ui.css",
            swagger_favicon_url="/api/docs/static/favicon.png",
        )


def _document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=_DESCRIPTION
    )
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["basic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "The API key is the username; the password is ignored.",
    }
    document["security"] = [{"basic": []}]
    schemas = components.setdefault("schemas", {})
    for route in _api_routes(app):
        wire = _wire_schema_of(route)
        if wire is None:
            continue
        schemas.setdefault(wire.title, json_schema(wire))
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["requestBody"] = _request_body(wire.title)
    app.openapi_schema = document
    return document


def _api_routes(app: FastAPI) -> list[APIRoute]:
    found: list[APIRoute] = []
    for router in app.state.routers:
        found += [r for r in router.routes if isinstance(r, APIRoute)]
    return found


def _wire_schema_of(route: APIRoute) -> WireSchema | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        schema = getattr(dependant.call, WIRE_SCHEMA, None)
        if schema is not None:
            return schema  # type: ignore[no-any-return]
        pending.extend(dependant.dependencies)
    return None


def _request_body(title: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{title}"}}},
    }


_TYPES: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string"},
    Kind.INTEGER: {"type": "integer", "format": "int64"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.DATETIME_UTC: {"type": "string", "format": "date-time"},
    Kind.DATETIME_LOCAL: {"type": "string", "format": "date-time"},
    Kind.CHOICE: {"type": "string"},
    Kind.OBJECT: {"type": "object"},
    Kind.ARRAY: {"type": "array", "items": {"type": "object"}},
}


def json_schema(wire: WireSchema) -> dict[str, Any]:
    """A JSON Schema of a resource as written and read on the wire."""
    properties = {a.name: _property(a) for a in wire.attrs}
    properties["Token"] = {
        "type": ["string", "null"],
        "maxLength": 50,
        "description": "Duplicate prevention (README §3).",
    }
    required = [a.name for a in wire.attrs if a.rule in (Rule.REQUIRED, Rule.REQUIRED_ON_POST)]
    return {"type": "object", "title": wire.title, "properties": properties, "required": required}


def _property(attr: Attr) -> dict[str, Any]:
    prop: dict[str, Any] = {**_TYPES[attr.kind]}
    if attr.kind is not Kind.BOOLEAN:
        prop["type"] = [prop["type"], "null"]
    if attr.max_length is not None:
        prop["maxLength"] = attr.max_length
    if attr.minimum is not None:
        prop["minimum"] = attr.minimum
    if attr.maximum is not None:
        prop["maximum"] = attr.maximum
    if attr.choices:
        prop["enum"] = [*attr.choices, None]
    if attr.rule is Rule.READ_ONLY:
        prop["readOnly"] = True
    if attr.rule is Rule.WRITE_ONLY:
        prop["writeOnly"] = True
    if attr.doc:
        prop["description"] = attr.doc
    return prop


_DESCRIPTION = """The CleverFox Backup API: REST, JSON only, HTTP Basic auth (the API key is the
username) over HTTPS. Names match case-insensitively; bodies may be bare or wrapped as
`{"data": {...}}`; collections are newest first with `PageNo`, `PageSize`, `BeforeId` and
`UpdatedSince`. Errors: `{"error": {"status", "code", "message", "errors", "request_id"}}`."""
