"""Serving behind TLS-terminating proxies (``--trusted-proxies``, spec README §1).

Behind proxies the port speaks plain HTTP, so it must answer the listed proxies only, learn
the real client from ``X-Forwarded-For`` and insist that the client itself used HTTPS.
``TrustedProxyMiddleware`` does all three and must be the outermost layer of the app, so
everything inside it sees the real client address and the ``https`` scheme.
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from cleverfox.settings import IpNetwork, Settings

__all__ = ["TrustedProxyMiddleware", "client_from_forwarded_for", "wrap_for_proxies"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Client = tuple[str, int]


class TrustedProxyMiddleware:
    """Pure-ASGI gate in front of an app that is reached through trusted proxies only.

    - A request whose peer is not inside one of ``trusted`` gets 403 ``untrusted_proxy``
      (answered, not dropped, so that a misrouted operator sees why).
    - A request whose ``X-Forwarded-Proto`` is missing or names anything but ``https`` (every
      value, when a proxy chain lists several) gets 403 ``https_required``.
    - Otherwise ``scope["client"]`` becomes the right-most address of ``X-Forwarded-For``
      that is not a trusted proxy, and ``scope["scheme"]`` becomes ``https`` (``wss``).

    Lifespan and any other scope types pass through untouched. Websocket requests that are
    refused are closed with code 1008 (policy violation) before the handshake completes.
    """

    def __init__(self, app: ASGIApp, trusted: tuple[IpNetwork, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(scope, send, *refusal)
            return
        await self.app(self._forwarded_scope(scope), receive, send)

    def _refusal(self, scope: Scope) -> tuple[str, str] | None:
        """``(code, message)`` when the request must be refused, else ``None``."""
        peer = scope.get("client")
        if peer is None or not _is_trusted(str(peer[0]), self.trusted):
            return "untrusted_proxy", "This server accepts requests through its proxies only."
        protocols = _header_values(scope, b"x-forwarded-proto")
        if not protocols or any(p.lower() != "https" for p in protocols):
            return "https_required", "Requests must be made over HTTPS."
        return None

    def _forwarded_scope(self, scope: Scope) -> Scope:
        peer = scope["client"]
        forwarded = _header_values(scope, b"x-forwarded-for")
        client = client_from_forwarded_for(forwarded, self.trusted) or (peer[0], peer[1])
        scheme = "wss" if scope["type"] == "websocket" else "https"
        return {**scope, "client": client, "scheme": scheme}


def wrap_for_proxies(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind ``TrustedProxyMiddleware`` when the server runs behind proxies, else ``app``.

    The application factory must return what this returns, unwrapped by anything else:
    ``cleverfox.server.runner.serve`` refuses to start behind proxies otherwise.
    """
    if not settings.behind_proxy:
        return app
    return TrustedProxyMiddleware(app, settings.trusted_proxies)


def client_from_forwarded_for(
    forwarded: Iterable[str], trusted: tuple[IpNetwork, ...]
) -> Client | None:
    """The client named by ``X-Forwarded-For`` entries (oldest first), or ``None`` if none.

    Walking from the right, each trusted proxy vouches for the address left of it; the first
    untrusted address is the client. When every address is trusted the left-most is the
    client. An entry that is not an address (``unknown``, a proxy's obfuscated name) ends the
    walk: the client is then the last address vouched for, or ``None`` for the peer itself.
    Entries may carry a port (``192.0.2.1:4711``, ``[2001:db8::1]:4711``); the port is 0 if not.
    """
    client: Client | None = None
    for entry in reversed(list(forwarded)):
        parsed = _parse_forwarded_entry(entry)
        if parsed is None:
            break
        client = parsed
        if not _is_trusted(parsed[0], trusted):
            break
    return client


def _parse_forwarded_entry(entry: str) -> Client | None:
    """``(normalised address, port)`` of one ``X-Forwarded-For`` entry, or ``None``."""
    text, port = entry.strip(), "0"
    if text.startswith("["):
        text, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or "0"
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
    address = _parse_address(text)
    if address is None or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        return None
    return str(address), int(port)


def _parse_address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)
def _is_trusted(host: str, trusted: tuple[IpNetwork, ...]) -> bool:
    """Whether ``host`` lies in one of ``trusted``; a name that is no address never does."""
    address = _parse_address(host)
    return address is not None and any(address in network for network in trusted)


def _header_values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated value of header ``name``, in order, over all its occurrences."""
    values: list[str] = []
    for key, raw in scope["headers"]:
        if key.lower() == name:
            values.extend(v.strip() for v in raw.decode("latin-1").split(","))
    return [v for v in values if v]


async def _refuse(scope: Scope, send: Send, code: str, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = _error_body(403, code, message)
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error_body(status: int, code: str, message: str) -> bytes:
    error = {"status": status, "code": code, "message": message, "errors": [], "request_id": None}
    return json.dumps({"error": error}).encode("utf-8")
