"""TrustedProxyMiddleware: whom it answers, whom it believes (spec README §1)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from cleverfox.server.kit.proxy import (
    TrustedProxyMiddleware,
    client_from_forwarded_for,
    wrap_for_proxies,
)
from cleverfox.settings import IpNetwork, Settings

TRUSTED: tuple[IpNetwork, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("2001:db8:feed::/48"),
)
HTTPS = {"X-Forwarded-Proto": "https"}


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the client and scheme it was given."""
    body = json.dumps({"client": list(scope["client"]), "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def request(
    headers: dict[str, str] | list[tuple[str, str]], peer: str = "10.0.0.2"
) -> httpx.Response:
    """A GET through the middleware from ``peer``."""
    app = TrustedProxyMiddleware(echo_app, TRUSTED)
    transport = httpx.ASGITransport(app=app, client=(peer, 51000))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get("/api/companies", headers=headers)

    return asyncio.run(go())


def test_a_peer_that_is_not_a_trusted_proxy_gets_403() -> None:
    response = request({**HTTPS, "X-Forwarded-For": "203.0.113.9"}, peer="192.0.2.50")

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "error": {
            "status": 403,
            "code": "untrusted_proxy",
            "message": "This server accepts requests through its proxies only.",
            "errors": [],
            "request_id": None,
        }
    }


def test_the_client_address_comes_from_x_forwarded_for() -> None:
    response = request({**HTTPS, "X-Forwarded-For": "203.0.113.9"})

    assert response.json() == {"client": ["203.0.113.9", 0], "scheme": "https"}


def test_without_x_forwarded_for_the_client_is_the_proxy_itself() -> None:
    response = request(HTTPS)

    assert response.json() == {"client": ["10.0.0.2", 51000], "scheme": "https"}


def test_an_ipv4_mapped_peer_is_matched_as_ipv4() -> None:
    response = request({**HTTPS, "X-Forwarded-For": "203.0.113.9"}, peer="::ffff:10.1.2.3")

    assert response.json()["client"] == ["203.0.113.9", 0]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Forwarded-Proto": "http"},
        {"X-Forwarded-Proto": ""},
        {"X-Forwarded-Proto": "https, http"},
        [("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")],
        {"X-Forwarded-Proto": "ws"},
    ],
    ids=["missing", "http", "empty", "chain-with-http", "repeated-with-http", "other"],
)
def test_a_request_not_made_over_https_gets_403(
    headers: dict[str, str] | list[tuple[str, str]],
) -> None:
    response = request(headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "https_required"


@pytest.mark.parametrize("proto", ["https", "HTTPS", " https ", "https, https"])
def test_https_is_recognised_in_any_case_and_chain(proto: str) -> None:
    assert request({"X-Forwarded-Proto": proto}).status_code == 200


@pytest.mark.parametrize(
    ("entries", "client"),
    [
        (["203.0.113.9"], ("203.0.113.9", 0)),
        (["203.0.113.9, 10.0.0.7"], ("203.0.113.9", 0)),
        (["198.51.100.1, 203.0.113.9, 10.0.0.7"], ("203.0.113.9", 0)),  # left part forged
        (["198.51.100.1", "203.0.113.9,10.0.0.7"], ("203.0.113.9", 0)),  # repeated header
        (["10.0.0.9, 10.0.0.7"], ("10.0.0.9", 0)),  # all trusted: the left-most
        (["203.0.113.9:4711"], ("203.0.113.9", 4711)),
        (["[2001:db8::1]:443"], ("2001:db8::1", 443)),
        (["2001:db8::1, 2001:db8:feed::1"], ("2001:db8::1", 0)),
        (["2001:DB8::0001"], ("2001:db8::1", 0)),  # normalised
        (["unknown, 10.0.0.7"], ("10.0.0.7", 0)),  # a name ends the walk
        (["unknown"], None),
        (["203.0.113.9:99999"], None),
        ([""], None),
        ([], None),
    ],
)
def test_the_client_is_the_right_most_untrusted_address(
    entries: list[str], client: tuple[str, int] | None
) -> None:
    values = [v.strip() for entry in entries for v in entry.split(",")]

    assert client_from_forwarded_for(values, TRUSTED) == client


def test_a_client_cannot_hide_behind_a_forged_trusted_address() -> None:
    """A client claiming to be a proxy is still the address the real proxy saw."""
    response = request({**HTTPS, "X-Forwarded-For": "10.0.0.99, 203.0.113.9"})

    assert response.json()["client"] == ["203.0.113.9", 0]


def test_the_scope_of_the_caller_is_not_changed() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope = http_scope([(b"x-forwarded-proto", b"https"), (b"x-forwarded-for", b"203.0.113.9")])
    run(TrustedProxyMiddleware(app, TRUSTED), scope)

    assert scope["client"] == ("10.0.0.2", 51000)
    assert seen[0]["client"] == ("203.0.113.9", 0)


def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    run(TrustedProxyMiddleware(app, TRUSTED), {"type": "lifespan"})

    assert seen == ["lifespan"]


def test_a_refused_websocket_is_closed_as_a_policy_violation() -> None:
    sent: list[Message] = []
    scope = {**http_scope([]), "type": "websocket", "scheme": "ws"}

    run(TrustedProxyMiddleware(echo_app, TRUSTED), {**scope, "client": ("192.0.2.1", 1)}, sent)

    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_a_forwarded_websocket_is_marked_wss() -> None:
    seen: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope = {**http_scope([(b"x-forwarded-proto", b"https")]), "type": "websocket"}
    run(TrustedProxyMiddleware(app, TRUSTED), scope)

    assert seen[0]["scheme"] == "wss"


def test_without_trusted_proxies_the_app_is_served_as_it_is() -> None:
    assert wrap_for_proxies(echo_app, Settings()) is echo_app


def test_with_trusted_proxies_the_app_is_wrapped() -> None:
    wrapped = wrap_for_proxies(echo_app, Settings(trusted_proxies="10.0.0.0/8"))

    assert isinstance(wrapped, TrustedProxyMiddleware)
    assert wrapped.app is echo_app
    assert wrapped.trusted == (ipaddress.ip_network("10.0.0.0/8"),)


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": ("10.0.0.2", 51000),
    }


def run(app: Any, scope: Scope, sent: list[Message] | None = None) -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if sent is not None:
            sent.append(message)

    asyncio.run(app(scope, receive, send))
