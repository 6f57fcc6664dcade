"""Both copies at once: the server's and the local store's, from one pipeline.

``missing`` asks both and answers the union (in the order asked); ``put_pack`` sends each
the records it said it lacks, so neither receives what it has and the pipeline compresses
each chunk once. ``cloud_bytes`` counts what went to the server (the Log's BytesUploaded).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cleverfox.agent.model import Committed, ManifestEntry, Uploader
from cleverfox.storage.records import encode_records, parse_records


class TeeUploader:
    """An ``Uploader`` over ``cloud`` and ``local``; commits go to each by the caller."""

    def __init__(self, cloud: Uploader, local: Uploader) -> None:
        self.cloud = cloud
        self.local = local
        self.cloud_bytes = 0
        self._cloud_wants: set[bytes] = set()
        self._local_wants: set[bytes] = set()

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        cloud = set(self.cloud.missing(chunk_ids))
        local = set(self.local.missing(chunk_ids))
        self._cloud_wants |= cloud
        self._local_wants |= local
        return [i for i in dict.fromkeys(chunk_ids) if i in cloud or i in local]

    def put_pack(self, body: bytes) -> tuple[int, int]:
        records = parse_records(body)
        stored = duplicates = 0
        for wants, target, is_cloud in (
            (self._local_wants, self.local, False),
            (self._cloud_wants, self.cloud, True),
        ):
            chosen = [r for r in records if r.chunk_id in wants]
            if not chosen:
                continue
            part = (
                body
                if len(chosen) == len(records)
                else encode_records((r.chunk_id, r.codec, bytes(r.piece)) for r in chosen)
            )
            done, again = target.put_pack(part)
            wants.difference_update(r.chunk_id for r in chosen)
            if is_cloud:
                self.cloud_bytes += len(part)
                stored, duplicates = done, again
        return stored, duplicates

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        return self.cloud.commit_files(log_id, job_item_id, entries)

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        return self.cloud.manifest(log_item_id)

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        return self.cloud.read_chunks(chunk_ids)
