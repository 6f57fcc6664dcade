"""Signed download URLs: ``/api/files/{LogItemId}/{kind}?expires=…&sig=…``, no key needed.

The signature is HMAC-SHA256 under the server secret's URL-signing key over a purpose
label, the Log Item id, the kind (``file``, ``list`` or ``entry-<EntryId>``) and the expiry
(Unix seconds), written base64url without padding. So a URL names exactly one Log Item, one
kind and one moment; changing any of them (or the signature) makes it ``url_invalid``, and
an intact URL past its expiry is ``url_expired`` (403 both). Signatures are compared in
constant time.

Only the secret's *current* master signs and verifies: after ``cleverfox secret rotate``
the URLs handed out before stop working (403 ``url_invalid``); a client asks the download
call again for a fresh one. URLs live an hour, so this costs little.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cleverfox.server.kit.errors import Forbidden

FILES_PATH = "/api/files"
URL_LIFETIME = timedelta(hours=1)
FILE, LIST = "file", "list"
ENTRY_PREFIX = "entry-"
_PURPOSE = b"cleverfox backup download\x00"
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")
_EXPIRES = re.compile(r"[0-9]{1,12}")
_KIND = re.compile(r"file|list|entry-[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """A download URL's path and query (``path``), and when it stops working (UTC, naive)."""

    path: str
    expires: datetime


def entry_kind(entry_id: int) -> str:
    """The kind of a single-file download of entry ``entry_id``."""
    return f"{ENTRY_PREFIX}{entry_id}"


def is_kind(text: str) -> bool:
    """Whether ``text`` names a download kind (``file``, ``list``, ``entry-<n>``)."""
    return _KIND.fullmatch(text) is not None


def sign_url(key: bytes, log_item_id: int, kind: str, now: datetime) -> SignedUrl:
    """The URL of ``kind`` of Log Item ``log_item_id``, valid for ``URL_LIFETIME`` from
    ``now`` (naive UTC); the expiry is whole seconds, rounded down."""
    expires = int((now.replace(tzinfo=UTC) + URL_LIFETIME).timestamp())
    signature = _signature(key, log_item_id, kind, expires)
    path = f"{FILES_PATH}/{log_item_id}/{kind}?expires={expires}&sig={signature}"
    return SignedUrl(path, datetime.fromtimestamp(expires, UTC).replace(tzinfo=None))


def check_url(
    key: bytes, log_item_id: int, kind: str, expires: str | None, sig: str | None, now: datetime
) -> None:
    """Pass if the URL's parts are ones ``sign_url`` made and it has not expired at ``now``;
    else 403 ``url_invalid`` (anything altered or missing) or ``url_expired``."""
    if (
        expires is None
        or sig is None
        or _EXPIRES.fullmatch(expires) is None
        or _SIGNATURE.fullmatch(sig) is None
        or not is_kind(kind)
    ):
        raise _invalid()
    expected = _signature(key, log_item_id, kind, int(expires))
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise _invalid()
    if int(expires) <= now.replace(tzinfo=UTC).timestamp():
        raise Forbidden(
            "This download URL has expired; ask the download call for a new one.",
            code="url_expired",
        )


def _signature(key: bytes, log_item_id: int, kind: str, expires: int) -> str:
    message = _PURPOSE + f"{log_item_id}\x00{kind}\x00{expires}".encode()
    raw = hmac.digest(key, message, hashlib.sha256)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _invalid() -> Forbidden:
    return Forbidden("This download URL is not valid (altered or incomplete).", code="url_invalid")
