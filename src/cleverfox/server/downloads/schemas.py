"""Wire shapes of the download endpoints: the entries' filter and the restore request."""

from __future__ import annotations

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Kind

ENTRY_FILTERS = (Filter("PathContains", Kind.STRING),)
READ_IDS_MAX = 1000
READ_BYTES_MAX = 64 << 20
"""At most this many plaintext bytes per ``chunks/read`` request (the agent's batches)."""
