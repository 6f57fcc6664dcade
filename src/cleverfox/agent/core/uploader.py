"""The agent transport as the backup pipeline's :class:`~cleverfox.agent.model.Uploader`.

The SDK returns its own plain types (it never imports the agent); this adapter turns them
into the agent's shared ones, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cleverfox.agent.model import Committed, ManifestEntry
from cleverfox.client.agent import AgentClient


class ServerUploader:
    """One device's storage calls on ``client`` (which the caller owns and closes)."""

    def __init__(self, client: AgentClient) -> None:
        self._client = client

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        return self._client.missing(chunk_ids)

    def put_pack(self, body: bytes) -> tuple[int, int]:
        return self._client.put_pack(body)

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        return Committed(self._client.commit_files(log_id, job_item_id, entries))

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        for line in self._client.manifest(log_item_id):
            yield ManifestEntry(line.path, line.mode, line.size, line.modified_utc, line.chunk_ids)

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        return self._client.read_chunks(chunk_ids)
