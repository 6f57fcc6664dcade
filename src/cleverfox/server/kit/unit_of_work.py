"""The unit of work of one request: one transaction around a service call, then its answer.

An endpoint hands ``UnitOfWork`` an *action* (the service call, given the transaction's
session or connection) and a *presenter* (the action's result on the wire). The verbs are
generic in the action's result, so mypy checks that each presenter accepts exactly what
its action returns. ``write`` commits before the response is built: a failed commit is
never answered as a success, and a unique-constraint race becomes its 409
(``Services.conflicts``), never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.hot import HotReads
from cleverfox.server.kit.inputs import Body
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.responses import JsonResponse, collection, element
from cleverfox.server.kit.services import Services
from cleverfox.server.kit.tokens import check_token, record_token

T = TypeVar("T")
Presenter: TypeAlias = Callable[[T], dict[str, Any] | None]
"""Writes an action's result on the wire; ``None`` (an absent object) answers 404."""
Resource = tuple[str, str]
"""A collection and the attribute of its id: ``("companies", "CompanyId")``."""


class UnitOfWork:
    """One request's database work for the partner ``partner_id`` (the tenant every
    service call is scoped to), with the process's ``services``."""

    def __init__(self, services: Services, partner_id: int) -> None:
        self.services = services
        self.partner_id = partner_id

    def get(self, action: Callable[[Session], T], present: Presenter[T]) -> JsonResponse:
        """One object, read in a read transaction."""
        with self.services.db.reading() as session:
            return element(_present(present, action(session)))

    def list(
        self,
        query: ListQuery,
        action: Callable[[Session, ListQuery], tuple[Sequence[T], bool]],
        present: Presenter[T],
    ) -> JsonResponse:
        """A page of a collection (the rows and whether more follow), in a read transaction."""
        with self.services.db.reading() as session:
            rows, has_more = action(session, query)
            data = [_present(present, row) for row in rows]
        return collection(data, page_no=query.page_no, page_size=query.page_size, has_more=has_more)

    async def fetch(
        self, action: Callable[[HotReads], Awaitable[T]], present: Presenter[T]
    ) -> JsonResponse:
        """``get`` for the hottest reads (``kit.hot``), from an ``async`` endpoint: ``action``
        reads with ``HotReads.fetch_one``, without leaving the event loop."""
        return element(_present(present, await action(self.services.hot)))

    def get_rows(self, action: Callable[[Connection], T], present: Presenter[T]) -> JsonResponse:
        """``get`` on a Core connection (``Database.connection_reading``): for hot read paths
        answered by one statement that selects columns, presented from its row."""
        with self.services.db.connection_reading() as connection:
            return element(_present(present, action(connection)))

    def list_rows(
        self,
        query: ListQuery,
        action: Callable[[Connection, ListQuery], tuple[Sequence[T], bool]],
        present: Presenter[T],
        *,
        snapshot: bool = False,
    ) -> JsonResponse:
        """``list`` on a Core connection, like ``get_rows``; with ``snapshot``, ``action`` may
        run several statements (``Database.connection_snapshot``)."""
        db = self.services.db
        reading = db.connection_snapshot() if snapshot else db.connection_reading()
        with reading as connection:
            rows, has_more = action(connection, query)
        data = [_present(present, row) for row in rows]
        return collection(data, page_no=query.page_no, page_size=query.page_size, has_more=has_more)

    def write(
        self,
        body: Body | None,
        resource: Resource,
        action: Callable[[Session], T],
        present: Presenter[T],
        *,
        status: int = 200,
    ) -> JsonResponse:
        """Run ``action`` in one transaction with the body's Token checked and recorded
        (``body`` ``None``: no Token); 201 adds ``Location``."""
        collection_name, id_attr = resource
        token = body.token if body else None
        try:
            with self.services.db.writing() as session:
                if token:
                    check_token(session, self.partner_id, token)
                result = action(session)
                session.flush()
                data = _present(present, result)
                if token:
                    record_token(
                        session, self.partner_id, token, collection_name, data.get(id_attr)
                    )
        except IntegrityError as exc:
            conflict = self.services.conflicts.translate(exc)
            if conflict is None:
                raise  # a constraint no rule covers: a bug, answered 500 and logged
            raise conflict from exc
        headers = {}
        if status == 201:
            headers["Location"] = f"/api/{collection_name}/{data[id_attr]}"
        return element(data, status=status, headers=headers)


def _present(present: Presenter[T], result: T) -> dict[str, Any]:
    data = present(result)
    if data is None:
        raise NotFound()
    return data
