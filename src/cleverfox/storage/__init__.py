"""Storage: what the server keeps of every backup, and where (docs/storage-format.md).

Imports nothing of the web layer. ``storage.backends`` is the lowest layer: dumb storage of
named, write-once objects on a local directory or an S3-compatible service.
"""
