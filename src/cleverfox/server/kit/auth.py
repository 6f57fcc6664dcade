"""Who is calling: HTTP Basic with the API key as username (README §2)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PartnerPrincipal:
    """An active partner on a Partner Plan, authenticated by its API key."""

    partner_id: int
    key_digest: str


@dataclass(frozen=True)
class DevicePrincipal:
    """A device's agent, authenticated by the device's ApiKey."""

    device_id: int
    partner_id: int
    company_id: int
    is_inactive: bool
    key_digest: str


Principal = PartnerPrincipal | DevicePrincipal
KeyResolver = Callable[[Session, str], Principal | None]
"""Finds the owner of a key digest; ``None`` when it owns none. May raise ``Forbidden``."""


def api_key_from_header(value: str | None) -> str | None:
    """The username of an ``Authorization: Basic …`` header, or ``None`` when malformed.

    ``value`` is the header as the server read it (bytes as Latin-1), so it may hold any
    character from U+0000 to U+00FF: anything outside base64's ASCII alphabet is malformed."""
    if not value:
        return None
    scheme, _, encoded = value.partition(" ")
    encoded = encoded.strip()
    # b64decode refuses a non-ASCII str with ValueError, not binascii.Error.
    if scheme.lower() != "basic" or not encoded or not encoded.isascii():
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username = decoded.partition(":")[0]
    if not username or len(username) > 200 or "\x00" in username:
        return None
    return username


class AuthCache:
    """Partner principals this process authenticated in the last ``seconds``, by the
    ``Authorization`` header that carried the key (the same key, so the same principal).

    Only successes are kept, and only partners': an unknown key, a refused partner
    (``partner_plan_required``) and every device key go to the database on every request,
    so a failure is never remembered and an agent sees its device's state at once. The
    price: an operator's ``partner deactivate`` or ``partner apikey`` takes effect within
    ``seconds`` in a process that served that key recently (docs/api.md, "Decisions").
    ``seconds == 0`` turns the cache off. Used from the event loop only, hence no lock.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, PartnerPrincipal]] = {}

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, credential: str) -> PartnerPrincipal | None:
        """The principal cached for ``credential`` unless its window has passed."""
        entry = self._entries.get(credential)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[credential]
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal) -> None:
        """Remember a successful partner authentication for ``seconds`` (others: ignored)."""
        if not self.enabled or not isinstance(principal, PartnerPrincipal):
            return
        now = self._clock()
        if len(self._entries) >= self.MAX_ENTRIES:
            self._drop_expired(now)
        self._entries[credential] = (now + self.seconds, principal)

    def _drop_expired(self, now: float) -> None:
        live = {d: e for d, e in self._entries.items() if e[0] > now}
        if len(live) >= self.MAX_ENTRIES:  # all fresh: start over rather than grow
            live = {}
        self._entries = live
