"""The server's half of storage: company keys, the SQL chunk index, uploads, downloads,
retention and garbage collection, on top of the ``cleverfox.storage`` engine."""
