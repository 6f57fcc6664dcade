"""Who is calling: HTTP Basic with the API key as username (README §2)."""

from __future__ import annotations

import base64
import binascii
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
    """The username of an ``Authorization: Basic …`` header, or ``None`` when malformed."""
    if not value:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username = decoded.partition(":")[0]
    if not username or len(username) > 200 or "\x00" in username:
        return None
    return username
