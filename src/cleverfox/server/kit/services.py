"""What a server process shares between requests: ``Services``, built once by the app factory.

Endpoints and dependencies reach it through ``services_of(request)``; nothing in the server
keeps process state in module globals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from starlette.requests import Request

from cleverfox.server.kit.auth import AuthCache, KeyResolver
from cleverfox.server.kit.conflicts import Conflicts
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.hot import HotReads
from cleverfox.server.kit.ratelimit import TokenBuckets
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.tls import presented_fingerprint
from cleverfox.settings import Settings
from cleverfox.storage.backends.opening import open_backend
from cleverfox.storage.backends.retrying import RetryingBackend


@dataclass
class Services:
    """The process's settings, database, secret and the tables and caches built from them.

    ``resolvers`` find the owner of a key digest, in order; ``conflicts`` says which 409 a
    unique constraint means; ``rate`` is ``None`` when rate limits are off.
    """

    settings: Settings
    db: Database
    secret: ServerSecret
    resolvers: Sequence[KeyResolver]
    conflicts: Conflicts
    rate: TokenBuckets | None
    auth_failures: TokenBuckets
    auth_cache: AuthCache = field(init=False)
    hot: HotReads = field(init=False)

    def __post_init__(self) -> None:
        self.auth_cache = AuthCache(self.settings.auth_cache_seconds)
        self.hot = HotReads(self.db)

    @cached_property
    def certificate_fingerprint(self) -> str | None:
        """The SHA-256 fingerprint agents pin (``kit.tls.presented_fingerprint``), read on
        first use: building the app must not make or read a certificate it may never need."""
        return presented_fingerprint(self.settings)

    @cached_property
    def storage(self) -> RetryingBackend:
        """The backend backup data lives in (``--storage-url``), opened on first use: a
        server that never stores a chunk neither makes the local folder nor loads botocore."""
        return open_backend(self.settings)


def services_of(request: Request) -> Services:
    """The ``Services`` of the app serving ``request``."""
    # By item: ``State`` answers attribute access only after a failed look-up (~1 µs more).
    services: Services = request.app.state["services"]
    return services
