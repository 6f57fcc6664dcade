"""What both clients set up the same way: the API root, credentials, httpx options."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from cleverfox import __version__
from cleverfox.client._tls import Verify, ssl_context

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""30 s to read an answer, 10 s to connect."""
DEFAULT_RETRIES = 3
USER_AGENT = f"cleverfox-python/{__version__}"


def api_root(base_url: str) -> str:
    """The server's root URL: ``https://host:port`` (plus a proxy's path prefix, if any),
    given with or without a trailing ``/api``. Refuses anything but https: the API key
    travels in every request."""
    url = httpx.URL(base_url)
    if url.scheme != "https" or not url.host:
        raise ValueError("base_url must be an https:// URL: the API is HTTPS only")
    path = url.path.rstrip("/")
    path = path.removesuffix("/api")
    return str(url.copy_with(path=path or "/", query=None, fragment=None)).rstrip("/")


def authorization(api_key: str) -> str:
    """The Basic credentials of an API key (the key is the user name, no password)."""
    if not api_key or ":" in api_key or api_key != api_key.strip():
        raise ValueError("api_key must be a non-empty key without ':' or surrounding spaces")
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")


def http_options(
    base_url: str,
    *,
    verify: Verify,
    fingerprint: str | None,
    timeout: float | httpx.Timeout,
    transport: object | None,
    proxy: str | None,
) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client``/``AsyncClient``.

    The environment is not read (no proxy variables, no .netrc): a client does what its
    arguments say. With ``transport=`` the caller owns TLS, so ``verify``/``fingerprint``
    would be silently unused and are refused; build such a transport with
    :func:`cleverfox.client.ssl_context`.
    """
    options: dict[str, Any] = {
        "base_url": api_root(base_url),
        "timeout": timeout,
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        "trust_env": False,
        "follow_redirects": False,
    }
    if transport is not None:
        if fingerprint is not None or verify is not True or proxy is not None:
            raise ValueError("with transport=, set TLS and proxy on the transport itself")
        options["transport"] = transport
    else:
        options["verify"] = ssl_context(verify, fingerprint)
        options["proxy"] = proxy
    return options
