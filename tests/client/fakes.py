"""A fake CleverFox API in memory, speaking the contract through ``httpx.MockTransport``.

``FakeAPI`` keeps collections of wire objects (PascalCase dicts), pages them newest first by
``BeforeId``/``PageNo``, applies Tokens at most once (``duplicate_request`` with resource and
id), and lets a test inject faults: ``before`` hooks answer or raise instead of the API,
``after`` hooks see the API's answer and may drop it (raise) once the change is applied.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import httpx

from cleverfox.client import Client

ID_NAMES = {
    "partners": "PartnerId",
    "partnerusers": "PartnerUserId",
    "plantypes": "PlanTypeId",
    "plans": "PlanId",
    "companies": "CompanyId",
    "companyusers": "CompanyUserId",
    "subscriptions": "SubscriptionId",
    "devices": "DeviceId",
    "timezones": "TimeZoneId",
    "backuptypes": "BackupTypeId",
    "jobs": "JobId",
    "jobitems": "JobItemId",
    "logs": "LogId",
    "logitems": "LogItemId",
    "events": "EventId",
    "eventtypes": "EventTypeId",
}
PAGING = {"pagesize", "pageno", "beforeid"}
BASE_URL = "https://cleverfox.test:8443"

Before = Callable[[httpx.Request], httpx.Response | None]
After = Callable[[httpx.Request, httpx.Response], None]


def error(status: int, code: str, message: str = "", **extra: Any) -> httpx.Response:
    """An error answer in the contract's shape."""
    body = {"status": status, "code": code, "message": message or code, "request_id": "err"}
    body.update(extra)
    return httpx.Response(status, json={"error": body}, headers={"X-Request-Id": "err-id"})


class FakeAPI:
    """Just enough of the server for the SDK's unit tests."""

    def __init__(self) -> None:
        self.store: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self.tokens: dict[str, tuple[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.before: deque[Before] = deque()
        self.after: deque[After] = deque()
        self.files: dict[str, bytes] = {}
        self.honour_ranges = True
        self._ids = itertools.count(1000)
        self._request_ids = itertools.count(1)

    # -- test helpers ------------------------------------------------------------------------

    def add(self, collection: str, **attributes: Any) -> dict[str, Any]:
        """Store an object (its id given, or the next one) and return it."""
        id_name = ID_NAMES[collection]
        attributes.setdefault(id_name, next(self._ids))
        attributes.setdefault("Token", None)
        self.store[collection][attributes[id_name]] = attributes
        return attributes

    def bodies(self, method: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies of the requests received (of one method)."""
        return [
            json.loads(r.content)
            for r in self.requests
            if r.content and (method is None or r.method == method)
        ]

    def queries(self) -> list[dict[str, str]]:
        """The query parameters of the requests received."""
        return [dict(r.url.params) for r in self.requests]

    # -- the API -------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.before:
            answer = self.before.popleft()(request)
            if answer is not None:
                return answer
        response = self._route(request)
        response.headers["X-Request-Id"] = f"req-{next(self._request_ids)}"
        if self.after:
            self.after.popleft()(request, response)
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in self.files:
            return self._file(request, self.files[request.url.path])
        parts = request.url.path.strip("/").split("/")
        if parts[0] != "api" or len(parts) < 2 or parts[1] not in ID_NAMES:
            return error(404, "not_found")
        collection, rest = parts[1], parts[2:]
        if request.method in ("POST", "PUT"):
            if request.headers.get("content-type", "").split(";")[0] != "application/json":
                return error(415, "unsupported_media_type")
            if request.url.params:
                return error(400, "query_parameters_not_allowed")
        if not rest:
            if request.method == "GET":
                return self._list(collection, request)
            if request.method == "POST":
                return self._write(collection, None, request)
            return error(405, "method_not_allowed")
        ident: Any = int(rest[0]) if rest[0].isdigit() else rest[0]
        current = self.store[collection].get(ident)
        if current is None:
            return error(404, "not_found", f"{collection} {ident} was not found")
        if len(rest) == 2:
            return self._action(collection, current, rest[1], request)
        if request.method == "GET":
            return httpx.Response(200, json={"data": current})
        if request.method == "PUT":
            return self._write(collection, ident, request)
        if request.method == "DELETE":
            del self.store[collection][ident]
            return httpx.Response(200, json={"data": current})
        return error(405, "method_not_allowed")

    def _list(self, collection: str, request: httpx.Request) -> httpx.Response:
        query = {k.lower(): v for k, v in request.url.params.items()}
        size = int(query.get("pagesize", 25))
        objects = sorted(self.store[collection].values(), key=self._key(collection), reverse=True)
        for name, value in query.items():
            if name not in PAGING:
                objects = [o for o in objects if _matches(o, name, value)]
        if "beforeid" in query:
            objects = [o for o in objects if o[ID_NAMES[collection]] < int(query["beforeid"])]
            start = 0
        else:
            start = (int(query.get("pageno", 1)) - 1) * size
        page = objects[start : start + size]
        has_more = len(objects) > start + size
        body = {"data": page, "page_no": 1, "page_size": size, "has_more": has_more}
        return httpx.Response(200, json=body)

    def _file(self, request: httpx.Request, content: bytes) -> httpx.Response:
        """A download URL: no key needed, byte ranges served (when ``honour_ranges``)."""
        asked = request.headers.get("range", "")
        headers = {"Content-Disposition": "attachment", "Accept-Ranges": "bytes"}
        if not (asked.startswith("bytes=") and self.honour_ranges):
            return httpx.Response(200, content=content, headers=headers)
        start = int(asked.removeprefix("bytes=").split("-")[0])
        if start >= len(content):
            headers["Content-Range"] = f"bytes */{len(content)}"
            return httpx.Response(416, headers=headers)
        headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        return httpx.Response(206, content=content[start:], headers=headers)

    @staticmethod
    def _key(collection: str) -> Callable[[dict[str, Any]], Any]:
        return lambda o: o[ID_NAMES[collection]]

    def _write(self, collection: str, ident: Any, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        token = body.pop("Token", None)
        if token and token in self.tokens:
            resource, original = self.tokens[token]
            return error(409, "duplicate_request", resource=resource, id=original)
        if ident is None:
            obj = self.add(collection, **body)
            status = 201
        else:
            obj = self.store[collection][ident]
            obj.update(body)
            status = 200
        if token:
            self.tokens[token] = (collection, obj[ID_NAMES[collection]])
        return httpx.Response(status, json={"data": obj})

    def _action(
        self, collection: str, obj: dict[str, Any], action: str, request: httpx.Request
    ) -> httpx.Response:
        if request.method == "GET" and collection == "logitems":
            filled = {**obj, "Url": f"{BASE_URL}/files/{action}/{obj['LogItemId']}"}
            filled["Expires"] = "2030-01-01T00:00:00.000"
            return httpx.Response(200, json={"data": filled})
        body = json.loads(request.content)
        token = body.get("Token")
        if token and token in self.tokens:
            resource, original = self.tokens[token]
            return error(409, "duplicate_request", resource=resource, id=original)
        if token:
            self.tokens[token] = (collection, obj[ID_NAMES[collection]])
        if action == "apikey":
            obj["ApiKey"] = f"key-{next(self._ids)}"
            return httpx.Response(200, json={"data": obj})
        if action == "run":
            return httpx.Response(202, json={"data": obj})
        return error(404, "not_found")


def _matches(obj: dict[str, Any], name: str, value: str) -> bool:
    for key, actual in obj.items():
        if key.lower() == name:
            text = json.dumps(actual) if isinstance(actual, bool) else str(actual)
            return text.lower() == value.lower()
    return True


# -- wire objects ----------------------------------------------------------------------------


def company(**over: Any) -> dict[str, Any]:
    """A Company as the server sends it."""
    return {"PartnerId": 1, "PlanTypeId": 1, "Name": "Acme", "IsInactive": False, **over}


def device(**over: Any) -> dict[str, Any]:
    """A Device as the server sends it (New York)."""
    base = {
        "CompanyId": 1,
        "SubscriptionId": 1,
        "Name": "pc-1",
        "TimeZoneId": "Eastern Standard Time",
        "IanaTimeZoneId": "America/New_York",
        "ApiKey": "secret-key",
    }
    return {**base, **over}


def job(**over: Any) -> dict[str, Any]:
    """A Job as the server sends it."""
    base = {
        "DeviceId": 1,
        "Name": "nightly",
        "Frequency": "Daily",
        "NextRunOn": "2025-01-02T01:30:00.000",
        "LateAfter": 60,
        "Every": 1,
        "CloudKeepLast": 7,
        "LocalKeepLast": 3,
        "JobItems": [],
    }
    return {**base, **over}


class Sleeps(list[float]):
    """What the client would have slept, in order (sync and async)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


MakeClient = Callable[..., Client]
"""The ``make_client`` fixture: a Client on the fake API with other options."""
