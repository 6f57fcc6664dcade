"""The authentication cache (``kit.auth.AuthCache``) and how ``kit.access`` uses it.

A partner key authenticated in this process is trusted for ``auth_cache_seconds`` without a
thread hop or a query; unknown keys, refused partners and device keys always go to the
database, so a failure is never remembered. Deactivation and rotation end a cached key's
life within the window (the contract side: ``tests/contract/test_auth.py``).
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.support.clock import ManualClock

from cleverfox.server.kit.access import _owner_of
from cleverfox.server.kit.auth import AuthCache, DevicePrincipal, PartnerPrincipal, Principal
from cleverfox.server.kit.conflicts import Conflicts
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import Forbidden
from cleverfox.server.kit.ratelimit import TokenBuckets
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.services import Services
from cleverfox.settings import Settings

PARTNER = PartnerPrincipal(partner_id=7, key_digest="d-partner")
DEVICE = DevicePrincipal(
    device_id=3, partner_id=7, company_id=5, is_inactive=False, key_digest="d-device"
)


def test_a_partner_is_cached_for_the_window_and_then_forgotten() -> None:
    clock = ManualClock()
    cache = AuthCache(2, clock=clock)
    cache.put("d", PARTNER)
    clock.now += 1.99
    assert cache.get("d") == PARTNER
    clock.now += 0.01
    assert cache.get("d") is None
    assert cache.get("other") is None


def test_device_keys_are_never_cached() -> None:
    cache = AuthCache(2)
    cache.put("d", DEVICE)
    assert cache.get("d") is None


def test_zero_seconds_turns_the_cache_off() -> None:
    cache = AuthCache(0)
    cache.put("d", PARTNER)
    assert not cache.enabled and cache.get("d") is None


def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AuthCache, "MAX_ENTRIES", 3)
    clock = ManualClock()
    cache = AuthCache(2, clock=clock)
    for digest in ("a", "b", "c"):
        cache.put(digest, PARTNER)
    clock.now += 1
    cache.put("d", PARTNER)  # full of live entries: starts over
    assert [cache.get(d) for d in "abcd"] == [None, None, None, PARTNER]
    clock.now += 1.5  # "d" still live
    for digest in ("e", "f"):
        cache.put(digest, PARTNER)
    clock.now += 0.6  # "d" expired, "e" and "f" live
    cache.put("g", PARTNER)  # full: drops the expired one only
    assert [cache.get(d) for d in "defg"] == [None, PARTNER, PARTNER, PARTNER]


class Resolver:
    """A key resolver answering ``answer`` (or raising it) and counting its calls."""

    def __init__(self, answer: Principal | Exception | None) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self, _session: Session, _digest: str) -> Principal | None:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}", pool_size=1)
    yield db
    db.dispose()


def services(database: Database, resolver: Resolver, seconds: float = 2) -> Services:
    return Services(
        settings=Settings(auth_cache_seconds=seconds),
        db=database,
        secret=ServerSecret(os.urandom(32)),
        resolvers=[resolver],
        conflicts=Conflicts(()),
        rate=None,
        auth_failures=TokenBuckets(1, 1),
    )


def basic(key: str, password: str = "") -> str:
    """An ``Authorization`` header carrying ``key``."""
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


HEADER = basic("cfp_key")


def owner_twice(serving: Services, header: str = HEADER) -> list[Principal | None]:
    async def twice() -> list[Principal | None]:
        return [await _owner_of(serving, header), await _owner_of(serving, header)]

    return asyncio.run(twice())


def test_a_partner_key_is_looked_up_once_within_the_window(database: Database) -> None:
    resolver = Resolver(PARTNER)
    assert owner_twice(services(database, resolver)) == [PARTNER, PARTNER]
    assert resolver.calls == 1


def test_with_the_cache_off_every_request_looks_up(database: Database) -> None:
    resolver = Resolver(PARTNER)
    assert owner_twice(services(database, resolver, seconds=0)) == [PARTNER, PARTNER]
    assert resolver.calls == 2


@pytest.mark.parametrize("answer", [None, DEVICE])
def test_unknown_and_device_keys_are_looked_up_every_time(
    database: Database, answer: Principal | None
) -> None:
    resolver = Resolver(answer)
    assert owner_twice(services(database, resolver)) == [answer, answer]
    assert resolver.calls == 2


def test_a_refused_partner_is_looked_up_every_time(database: Database) -> None:
    resolver = Resolver(Forbidden("no", code="partner_plan_required"))
    serving = services(database, resolver)
    for _ in range(2):
        with pytest.raises(Forbidden):
            asyncio.run(_owner_of(serving, HEADER))
    assert resolver.calls == 2


def test_a_malformed_header_is_refused_without_a_look_up(database: Database) -> None:
    resolver = Resolver(PARTNER)
    assert owner_twice(services(database, resolver), "Bearer cfp_key") == [None, None]
    assert resolver.calls == 0


def test_each_header_is_its_own_entry_and_long_ones_are_not_kept(database: Database) -> None:
    resolver = Resolver(PARTNER)
    serving = services(database, resolver)
    assert owner_twice(serving, basic("cfp_key", "a password")) == [PARTNER, PARTNER]
    assert resolver.calls == 1  # the same key in another header: looked up once more
    assert owner_twice(serving, basic("cfp_key", "p" * 600)) == [PARTNER, PARTNER]
    assert resolver.calls == 3  # a long password: looked up every time
