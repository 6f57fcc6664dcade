"""JSON responses: ``application/json; charset=utf-8``, rendered with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from cleverfox.server.kit.errors import AppError


class JsonResponse(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def element(
    data: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> JsonResponse:
    """An element envelope: ``{"data": {...}}``."""
    return JsonResponse({"data": data}, status_code=status, headers=headers)


def collection(
    data: list[dict[str, Any]],
    *,
    page_no: int,
    page_size: int,
    has_more: bool,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """A collection envelope with paging facts."""
    body = {"data": data, "page_no": page_no, "page_size": page_size, "has_more": has_more}
    return JsonResponse(body, headers=headers)


def error_response(error: AppError, request_id: str | None) -> JsonResponse:
    """The one error body of README §4."""
    body: dict[str, Any] = {
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "errors": [e.to_wire() for e in error.errors],
        "request_id": request_id,
    }
    body.update(error.extra)
    return JsonResponse({"error": body}, status_code=error.status, headers=error.headers)
