"""The generic parts of the namespaces: get, paging, writes with Tokens, delete.

The resource classes in ``_async_resources`` declare the typed surface; this module does the
work. Its contract is stated in ``_async_resources``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import ClassVar, Generic, TypeVar, cast

from cleverfox.client._async_http import AsyncSession
from cleverfox.client._paging import PageCursor
from cleverfox.client._resources import ResourceSpec
from cleverfox.client._wire import (
    Call,
    M,
    check_ignored_parameters,
    decode_element,
    decode_page,
    encode_body,
    warn_ignored_attributes,
    with_token,
)
from cleverfox.client.errors import DuplicateRequest

I = TypeVar("I", int, str)  # noqa: E741 - the id type, as in Generic[M, I]
Extra = Mapping[str, object] | None


class Reader(Generic[M, I]):
    """A collection that can be read: ``get`` and paging. ``_spec`` names the resource."""

    _spec: ClassVar[ResourceSpec]

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._model = cast(type[M], self._spec.model)

    async def get(self, id: I) -> M:
        """The object with this id; NotFound if there is none the caller may see."""
        response = await self._session.send(Call("GET", self._spec.element_url(id)))
        return decode_element(response, self._model)

    def _list(
        self, filters: Mapping[str, object], page_size: int, limit: int | None, extra: Extra
    ) -> AsyncIterator[M]:
        cursor: PageCursor[M] = PageCursor(
            self._spec, filters, page_size=page_size, limit=limit, extra_filters=extra
        )
        return self._walk(cursor)

    async def _walk(self, cursor: PageCursor[M]) -> AsyncIterator[M]:
        while (query := cursor.next_params()) is not None:
            call = Call("GET", self._spec.collection_url, params=query)
            response = await self._session.send(call)
            check_ignored_parameters(response)
            for item in cursor.take(decode_page(response, self._model)):
                yield item


class Editable(Reader[M, int]):
    """A collection whose objects change through the API, always with a Token."""

    async def _create(self, attributes: Mapping[str, object], token: str | None, extra: Extra) -> M:
        where = f"{self._spec.path}.create()"
        body = encode_body(attributes, self._spec.create_names, extra, where=where)
        call = Call("POST", self._spec.collection_url, body=with_token(body, token))
        return await self._write(call, None)

    async def _update(
        self, id: int, changes: Mapping[str, object], token: str | None, extra: Extra
    ) -> M:
        where = f"{self._spec.path}.update()"
        body = encode_body(changes, self._spec.update_names, extra, where=where)
        call = Call("PUT", self._spec.element_url(id), body=with_token(body, token))
        return await self._write(call, id)

    async def _action(self, id: int, action: str, token: str | None) -> M:
        url = self._spec.element_url(id, action)
        return await self._write(Call("POST", url, body=with_token({}, token)), id)

    async def _write(self, call: Call, id: int | None) -> M:
        """Send a write of element ``id`` (None: a create). A ``duplicate_request`` naming
        what this call writes is its own earlier attempt, or a repeat with the caller's
        Token: it resolves to that object, fetched by id. Any other is raised."""
        try:
            response = await self._session.send(call)
        except DuplicateRequest as duplicate:
            original = self._spec.original(duplicate, id)
            if original is None:
                raise
            response = await self._session.send(Call("GET", self._spec.element_url(original)))
        else:
            warn_ignored_attributes(response)
        return decode_element(response, self._model)


class Collection(Editable[M]):
    """A collection with every verb: also ``delete``."""

    async def delete(self, id: int) -> M:
        """Delete the object (and what the contract deletes with it); the object as it was.

        Not re-sent after a failure that may have reached the server (DELETE has no Token):
        such a failure is raised, and a later NotFound then means it was deleted.
        """
        call = Call("DELETE", self._spec.element_url(id), replayable=False)
        return decode_element(await self._session.send(call), self._model)
