"""Pure-ASGI middleware: request ids and headers gathered during the request."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXTRA_HEADERS = "cleverfox_extra_headers"
REQUEST_ID = "request_id"


class RequestIdMiddleware:
    """Gives every request an id (``X-Request-Id`` on every response) and adds the headers
    that dependencies left in ``scope["state"]`` (rate-limit facts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        state: dict[str, Any] = scope.setdefault("state", {})
        state[REQUEST_ID] = request_id
        state[EXTRA_HEADERS] = {}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in state[EXTRA_HEADERS].items():
                    headers.append((name.lower().encode(), str(value).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_response_header(scope: Scope, name: str, value: str) -> None:
    """Ask ``RequestIdMiddleware`` to add a header to this request's response."""
    scope.setdefault("state", {}).setdefault(EXTRA_HEADERS, {})[name] = value
