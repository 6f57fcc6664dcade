"""Sending API calls for :class:`~cleverfox.client.AsyncClient`, with its retries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from cleverfox.client._download import (
    CHUNK_SIZE,
    bytes_to_skip,
    is_past_end,
    range_headers,
    skip_prefix,
)
from cleverfox.client._retry import RetryBudget, RetryPolicy
from cleverfox.client._wire import Call, error_from_response, transport_error_from
from cleverfox.client.errors import CleverFoxError

log = logging.getLogger("cleverfox.client")


class AsyncSession:
    """The one place requests leave the :class:`AsyncClient`: credentials, retries, errors.

    ``send`` returns only a 2xx response; anything else ends as a ``CleverFoxError``.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        authorization: str,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.http = http
        self.policy = policy
        self.sleep = sleep
        self._headers = {"Authorization": authorization}

    async def send(self, call: Call) -> httpx.Response:
        """Send ``call``, retrying as the policy allows; the 2xx answer or an error."""
        budget = RetryBudget(self.policy, replayable=call.replayable)
        while True:
            try:
                response = await self.http.request(
                    call.method,
                    call.url,
                    params=call.params,
                    json=call.body,
                    headers=self._headers,
                )
            except httpx.TransportError as exc:
                error: CleverFoxError = transport_error_from(exc)
                cause: BaseException | None = exc
            else:
                if response.is_success:
                    return response
                error, cause = error_from_response(response), None
            await self.pause(budget, error, call, cause)

    async def pause(
        self,
        budget: RetryBudget,
        error: CleverFoxError,
        call: Call,
        cause: BaseException | None = None,
    ) -> None:
        """Wait before the next attempt, or raise ``error`` when the budget says stop."""
        delay = budget.after(error)
        if delay is None:
            if cause is not None:
                raise error from cause
            raise error
        log.info("retrying %s %s in %.2fs after %s", call.method, call.url, delay, error)
        await self.sleep(delay)
        budget.spend(delay)

    async def download(self, url: str, offset: int) -> AsyncIterator[bytes]:
        """The bytes of ``url`` from ``offset`` on, in one request without the API key."""
        try:
            async with self.http.stream("GET", url, headers=range_headers(offset)) as response:
                if is_past_end(response, offset):
                    return
                if response.status_code not in (200, 206):
                    await response.aread()
                    raise error_from_response(response)
                skip = bytes_to_skip(response, offset)
                async for chunk in response.aiter_bytes(CHUNK_SIZE):
                    data, skip = skip_prefix(chunk, skip)
                    if data:
                        yield data
        except httpx.TransportError as exc:
            raise transport_error_from(exc) from exc
