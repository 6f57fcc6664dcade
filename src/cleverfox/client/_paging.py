"""Walking a collection page by page (sans-IO: the clients send what it asks for).

Collections come newest first. With integer ids the cursor pages by ``BeforeId`` — each
request asks for ids below the last one seen — which stays fast and skips nothing when
objects are added while a listing runs. Time Zones have string ids, so they are paged by
``PageNo``. A listing stops on ``has_more: false``, on a short page when the server does not
send ``has_more``, on an empty page, or when ``limit`` objects were yielded. Only one page
is held at a time, so memory stays flat however long the listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, cast

from cleverfox.client._model_base import IntIdModel
from cleverfox.client._resources import ResourceSpec
from cleverfox.client._wire import M, Page, encode_filters
from cleverfox.client.errors import UnexpectedResponse

MAX_PAGE_SIZE = 1000


class PageCursor(Generic[M]):
    """Where a listing is: ``next_params`` gives the next request's query (None when the
    listing is over), ``take`` consumes its page and returns the objects to yield."""

    def __init__(
        self,
        spec: ResourceSpec,
        filters: Mapping[str, object],
        *,
        page_size: int,
        limit: int | None,
        extra_filters: Mapping[str, object] | None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size is 1 to {MAX_PAGE_SIZE}")
        if limit is not None and limit < 0:
            raise ValueError("limit cannot be negative")
        remaining = dict(filters)
        before_id = remaining.pop("before_id", None) if spec.paged_by_id else None
        self._query = encode_filters(
            remaining, spec.filter_names, extra_filters, where=f"{spec.path}.list()"
        )
        self._by_id = spec.paged_by_id
        self._before_id = cast(int | None, before_id)
        self._page_no = 1
        self._page_size = page_size
        self._requested = page_size
        self._left = limit
        self._done = limit == 0

    def next_params(self) -> dict[str, str] | None:
        """The query of the next page, or None when there is nothing more to fetch."""
        if self._done:
            return None
        self._requested = (
            self._page_size if self._left is None else min(self._page_size, self._left)
        )
        query = {**self._query, "PageSize": str(self._requested)}
        if not self._by_id:
            query["PageNo"] = str(self._page_no)
        elif self._before_id is not None:
            query["BeforeId"] = str(self._before_id)
        return query

    def take(self, page: Page[M]) -> list[M]:
        """The page's objects to yield; moves the cursor past them."""
        items = page.items if self._left is None else page.items[: self._left]
        if self._left is not None:
            self._left -= len(items)
        more = page.has_more if page.has_more is not None else len(page.items) >= self._requested
        if not page.items or not more or self._left == 0:
            self._done = True
        elif self._by_id:
            self._advance(cast(IntIdModel, page.items[-1]).id, page)
        else:
            self._page_no += 1
        return items

    def _advance(self, last_id: int, page: Page[M]) -> None:
        if self._before_id is not None and last_id >= self._before_id:
            raise UnexpectedResponse(
                f"BeforeId={self._before_id} answered id {last_id}: paging would not end",
                status=page.status,
                request_id=page.request_id,
            )
        self._before_id = last_id
