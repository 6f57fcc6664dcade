"""The Backend protocol: restic-style dumb storage of named, write-once objects.

A backend knows nothing of packs, keys or companies: it keeps opaque objects under names
(``backends.names``), writes each once, and reads byte ranges back. Everything above it
(the repository layer, the retrying wrapper) talks to this protocol only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from cleverfox.storage.backends.errors import BackendError, InvalidRange

__all__ = [
    "Backend",
    "Buffer",
    "ObjectInfo",
    "Payload",
    "as_buffers",
    "check_range",
    "payload_size",
    "probe_by_round_trip",
]

Buffer = bytes | bytearray | memoryview
# One buffer, or a sequence of them written back to back (a pack's pieces, unjoined). A
# sequence, not any iterable: a retried put must be able to send the same bytes again.
Payload = Buffer | Sequence[Buffer]

PROBE_PREFIX = "health/"


class ObjectInfo(NamedTuple):
    """One object of a listing."""

    name: str
    size: int


@runtime_checkable
class Backend(Protocol):
    """Named objects, each written once, read by byte ranges.

    Every method validates names (``InvalidName``) and raises only ``BackendError`` and
    its subclasses (``backends.errors``). Implementations are safe to call from several
    threads at once.
    """

    def put(self, name: str, data: Payload) -> None:
        """Store ``data`` under ``name``, which must not exist yet (else ``ObjectExists``).

        The object appears whole or not at all, and is durable when ``put`` returns. Of
        several concurrent puts of one name, one wins and the others raise ``ObjectExists``
        (an S3 service without conditional writes: see ``S3Backend``).
        """
        ...

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """The object's bytes from ``offset``: ``length`` of them, or up to its end.

        Exactly those bytes, or an error: ``ObjectNotFound``, or ``InvalidRange`` when the
        range does not lie inside the object. Never fewer bytes than asked.
        """
        ...

    def size(self, name: str) -> int:
        """The object's size in bytes (``ObjectNotFound`` when there is none)."""
        ...

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Every object whose name starts with ``prefix`` (and sorts after ``start_after``).

        Sorted by name; paged internally, so memory does not grow with the count. Objects
        put or deleted while the listing runs may or may not appear.
        """
        ...

    def delete(self, name: str) -> None:
        """Remove the object; removing one that does not exist is not an error."""
        ...

    def describe(self) -> str:
        """One line for the start-up banner and ``/healthz``; never a credential."""
        ...

    def probe(self) -> None:
        """Write, read back and delete a small object under ``health/``; raise if any fails."""
        ...


def as_buffers(data: Payload) -> list[memoryview]:
    """``data`` as a list of byte-format memoryviews, without copying."""
    if isinstance(data, bytes | bytearray | memoryview):
        return [memoryview(data).cast("B")]
    return [memoryview(part).cast("B") for part in data]


def payload_size(data: Payload) -> int:
    return sum(view.nbytes for view in as_buffers(data))


def check_range(offset: int, length: int | None) -> None:
    """Refuse a negative offset or length before anything is read."""
    if offset < 0 or (length is not None and length < 0):
        raise InvalidRange(f"invalid range: offset {offset}, length {length}")


def probe_by_round_trip(backend: Backend) -> None:
    """The ``probe`` both backends share: put, get and delete a random 32-byte object."""
    name = f"{PROBE_PREFIX}probe_{secrets.token_hex(8)}"
    data = secrets.token_bytes(32)
    backend.put(name, data)
    try:
        if backend.get(name) != data:
            raise BackendError(f"probe object {name!r} read back different bytes")
    finally:
        backend.delete(name)
