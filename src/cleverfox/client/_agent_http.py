"""Sending the agent's calls: JSON or raw bodies, streamed answers, the SDK's retries.

The partner client's :class:`~cleverfox.client._sync_http.Session` sends JSON only; the
agent also uploads packs (``application/octet-stream``) and reads NDJSON and binary answers
as streams, so it has this sender. Retries, backoff and the mapping of failures to
``cleverfox.client.errors`` are the SDK's own (``_retry``, ``_wire``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from cleverfox.client._retry import RetryBudget, RetryPolicy
from cleverfox.client._wire import error_from_response, transport_error_from
from cleverfox.client.errors import CleverFoxError, UnexpectedResponse

log = logging.getLogger("cleverfox.client.agent")


@dataclass(frozen=True)
class AgentCall:
    """One agent request: a JSON ``body`` or raw ``content`` with its ``content_type``.
    ``replayable``: may be re-sent after a failure that left its fate unknown."""

    method: str
    url: str
    body: object = None
    content: bytes | None = None
    content_type: str | None = None
    replayable: bool = True

    def request(self, http: httpx.Client, headers: Mapping[str, str]) -> httpx.Request:
        """The httpx request of this call with ``headers`` (the credentials) added."""
        sent = dict(headers)
        if self.content is not None:
            sent["Content-Type"] = self.content_type or "application/octet-stream"
            return http.build_request(self.method, self.url, content=self.content, headers=sent)
        if self.body is not None:
            return http.build_request(self.method, self.url, json=self.body, headers=sent)
        return http.build_request(self.method, self.url, headers=sent)


class AgentSession:
    """Where the agent's requests leave: credentials, retries, errors.

    ``send`` and ``stream`` return only a 2xx answer; anything else is a ``CleverFoxError``.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        authorization: str,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self.http = http
        self._policy = policy
        self._sleep = sleep
        self._headers = {"Authorization": authorization}

    def send(self, call: AgentCall) -> httpx.Response:
        """Send ``call`` and read its whole answer, retrying as the policy allows."""
        with self.stream(call) as response:
            response.read()
            return response

    @contextmanager
    def stream(self, call: AgentCall) -> Iterator[httpx.Response]:
        """Send ``call``; the 2xx answer with its body not yet read (closed on exit).

        Only getting the answer's head is retried: a failure while the caller reads the
        body is raised to it as a ``TransportError``.
        """
        budget = RetryBudget(self._policy, replayable=call.replayable)
        while True:
            error: CleverFoxError
            cause: BaseException | None = None
            try:
                response = self.http.send(call.request(self.http, self._headers), stream=True)
            except httpx.TransportError as exc:
                error, cause = transport_error_from(exc), exc
            else:
                if response.is_success:
                    try:
                        yield response
                    except httpx.TransportError as exc:
                        raise transport_error_from(exc) from exc
                    finally:
                        response.close()
                    return
                response.read()
                response.close()
                error = error_from_response(response)
            self._pause(budget, error, call, cause)

    def _pause(
        self,
        budget: RetryBudget,
        error: CleverFoxError,
        call: AgentCall,
        cause: BaseException | None,
    ) -> None:
        delay = budget.after(error)
        if delay is None:
            if cause is not None:
                raise error from cause
            raise error
        log.info("retrying %s %s in %.2fs after %s", call.method, call.url, delay, error)
        self._sleep(delay)
        budget.spend(delay)


def data_of(response: httpx.Response) -> object:
    """The ``data`` of a JSON envelope; UnexpectedResponse when there is none."""
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise unexpected(response, "the body is not JSON") from exc
    if not isinstance(body, dict) or "data" not in body:
        raise unexpected(response, 'the body is not a {"data": …} envelope')
    return body["data"]


def unexpected(response: httpx.Response, message: str) -> UnexpectedResponse:
    """The error for a 2xx answer that is not what the protocol promises."""
    return UnexpectedResponse(
        message, status=response.status_code, request_id=response.headers.get("x-request-id")
    )
