"""Reading what the lifecycle needs of stored blobs: a manifest's chunk ids, a company's sealer.

Shared by garbage collection (releasing a deleted manifest's references) and the check
(every manifest's chunks exist). The manifest blob is read whole: it is small next to the
data it describes (about 40 bytes a chunk, compressed).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from sqlalchemy.orm import Session

from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import StorageManifest
from cleverfox.server.storage.keys import existing_keys
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest_stream import ManifestReader
from cleverfox.storage.resolution import ResolvedEntry
from cleverfox.storage.sealing import CompanySealer

MANIFEST_PREFIX = "manifests/"
PACK_PREFIX = "packs/"
STORED_PREFIXES = (PACK_PREFIX, MANIFEST_PREFIX)
"""Where packs and manifest blobs live; anything else in the backend is not storage's."""


def sealer_of(session: Session, secret: ServerSecret, company_id: int) -> CompanySealer:
    """The company's sealer; ``Damaged`` if it has no keys (nothing of it can be opened)."""
    keys = existing_keys(session, secret, company_id)
    if keys is None:
        raise Damaged(f"company {company_id} has stored objects but no keys")
    return CompanySealer(keys.data_key, company_id)


def manifest_entries(
    backend: Backend, sealer: CompanySealer, manifest: StorageManifest
) -> Iterator[ResolvedEntry]:
    """The manifest's entries read from its blob; ``Damaged`` or ``ObjectNotFound`` if the
    blob is altered, cut or gone (raised while iterating)."""
    blob = backend.get(manifest.blob_name)
    reader = ManifestReader(sealer, manifest.digest, io.BytesIO(blob).read)
    yield from reader.entries()


def manifest_chunk_ids(
    backend: Backend, sealer: CompanySealer, manifest: StorageManifest
) -> set[ChunkId]:
    """The distinct chunk ids the manifest references (one reference each)."""
    return {
        ref.chunk_id
        for entry in manifest_entries(backend, sealer, manifest)
        for ref in entry.chunks
    }
