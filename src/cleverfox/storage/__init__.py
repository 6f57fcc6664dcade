"""The storage engine: backup files as deduplicated, compressed, encrypted chunks.

It owns the format of ``docs/storage-format.md`` and nothing else: content-defined chunking
(``chunking``), keyed chunk ids (``ids``), pieces and their verification (``pieces``),
AES-256-GCM sealing under a company's keys (``sealing``), the agent's upload records
(``records``), write-once packs (``packs``), the chunk index interface (``index``), manifests
and their digest (``manifest``), resolution against the index (``resolution``), the sealed
manifest stream (``manifest_stream``), the ZIP archive and its byte ranges (``archive``, with
the records of ``zipformat``) and the backup list (``listing``). Errors are in ``errors``.
``backends`` is the lowest layer: dumb storage of named, write-once objects on a local
directory or an S3-compatible service.

It imports nothing of the web layer and talks to no database or backend: callers pass
bytes, mappings and callables (the server backs them with SQL and a ``Backend``, the agent
with its own SQLite and files). This ``__init__`` imports nothing, so ``import
cleverfox.storage`` costs nothing at start-up; import the submodule you need.
"""
