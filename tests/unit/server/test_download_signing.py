"""Signed download URLs: what ``sign_url`` makes ``check_url`` accepts until it expires;
anything altered — id, kind, expiry, signature, or another secret — is ``url_invalid``."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from cleverfox.server.kit.errors import Forbidden
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.storage.signing import URL_LIFETIME, check_url, entry_kind, sign_url

KEY = ServerSecret(b"k" * 32).signing_key
OTHER_KEY = ServerSecret(b"o" * 32).signing_key
NOW = datetime(2026, 5, 1, 12, 0, 0, 500_000)


def parts(path: str) -> tuple[int, str, str, str]:
    split = urlsplit(path)
    _, _, _, item, kind = split.path.split("/")
    query = parse_qs(split.query)
    return int(item), kind, query["expires"][0], query["sig"][0]


def code_of(key: bytes, item: int, kind: str, expires: str | None, sig: str | None,
            now: datetime = NOW) -> str:  # fmt: skip
    with pytest.raises(Forbidden) as caught:
        check_url(key, item, kind, expires, sig, now)
    return caught.value.code


def test_a_fresh_url_passes_until_it_expires() -> None:
    signed = sign_url(KEY, 42, "file", NOW)
    assert signed.path.startswith("/api/files/42/file?expires=")
    assert signed.expires == (NOW + URL_LIFETIME).replace(microsecond=0)
    item, kind, expires, sig = parts(signed.path)
    check_url(KEY, item, kind, expires, sig, NOW)
    check_url(KEY, item, kind, expires, sig, NOW + URL_LIFETIME - timedelta(seconds=1))
    assert code_of(KEY, item, kind, expires, sig, NOW + URL_LIFETIME) == "url_expired"


@pytest.mark.parametrize(
    "change",
    [
        lambda i, k, e, s: (i + 1, k, e, s),
        lambda i, k, e, s: (i, "list", e, s),
        lambda i, k, e, s: (i, entry_kind(1), e, s),
        lambda i, k, e, s: (i, k, str(int(e) + 3600), s),
        lambda i, k, e, s: (i, k, e, ("A" if s[0] != "A" else "B") + s[1:]),
        lambda i, k, e, s: (i, k, e, s[:-1]),
        lambda i, k, e, s: (i, k, None, s),
        lambda i, k, e, s: (i, k, e, None),
        lambda i, k, e, s: (i, k, "-5", s),
        lambda i, k, e, s: (i, k, e, s + "="),
        lambda i, k, e, s: (i, "entry-0", e, s),
        lambda i, k, e, s: (i, "../file", e, s),
    ],
)
def test_an_altered_url_is_invalid(change: object) -> None:
    item, kind, expires, sig = parts(sign_url(KEY, 42, "file", NOW).path)
    altered = change(item, kind, expires, sig)  # type: ignore[operator]
    assert code_of(KEY, *altered) == "url_invalid"


def test_another_secret_does_not_accept_the_url() -> None:
    item, kind, expires, sig = parts(sign_url(KEY, 7, entry_kind(3), NOW).path)
    check_url(KEY, item, kind, expires, sig, NOW)
    assert code_of(OTHER_KEY, item, kind, expires, sig) == "url_invalid"


def test_an_expired_and_altered_url_is_invalid_not_expired() -> None:
    item, kind, expires, sig = parts(sign_url(KEY, 7, "list", NOW).path)
    later = NOW + 2 * URL_LIFETIME
    assert code_of(KEY, item, "file", expires, sig, later) == "url_invalid"
    assert code_of(KEY, item, kind, expires, sig, later) == "url_expired"
