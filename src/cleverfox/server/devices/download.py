"""The agent configuration file behind a device's ``AgentDownloadUrl``.

``GET /agent/config/{token}`` needs no key: the token is the device id and an HMAC (the
server secret's URL-signing key) of that id and the device's current key digest. Rotating
the device key therefore invalidates every URL handed out before, and a token cannot be
forged or pointed at another device. The file carries what an agent needs to reach this
server and prove who it is: the server URL, the certificate fingerprint to pin and the
device's id and key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Device
from cleverfox.settings import Settings

CONFIG_PATH = "/agent/config"
CONFIG_FILE_NAME = "cleverfox-agent.json"
CONFIG_FORMAT_VERSION = 1
_PURPOSE = b"cleverfox agent config\x00"
_SIGNATURE_CHARS = 43  # base64url of 32 bytes, unpadded


def config_token(secret: ServerSecret, device: Device) -> str:
    """``{DeviceId}.{signature}``: valid until the device's key changes."""
    return _token(secret, device.id, device.api_key_digest)


def agent_download_url(secret: ServerSecret, base_url: str, device: Device) -> str:
    """Where this device's agent configuration is downloaded, without a key."""
    return download_url_of(secret, base_url, device.id, device.api_key_digest)


def download_url_of(secret: ServerSecret, base_url: str, device_id: int, key_digest: str) -> str:
    """``agent_download_url`` from the device's id and key digest (columns of its row)."""
    return f"{base_url}{CONFIG_PATH}/{_token(secret, device_id, key_digest)}"


def _token(secret: ServerSecret, device_id: int, key_digest: str) -> str:
    return f"{device_id}.{_signature(secret, device_id, key_digest)}"


def device_id_of(token: str) -> int | None:
    """The device id a token claims (unverified), or ``None`` when it is not a token at all."""
    device_id, dot, signature = token.partition(".")
    if not dot or len(signature) != _SIGNATURE_CHARS or not _ascii_digits(device_id):
        return None
    if len(device_id) > 18:
        return None
    return int(device_id)


def token_matches(secret: ServerSecret, device: Device, token: str) -> bool:
    """Whether ``token`` is this device's current token (compared in constant time)."""
    return hmac.compare_digest(config_token(secret, device).encode(), token.encode())


def agent_config(
    device: Device, api_key: str, server_url: str, fingerprint: str | None
) -> dict[str, Any]:
    """The configuration file's content (``fingerprint`` is null behind trusted proxies)."""
    return {
        "FormatVersion": CONFIG_FORMAT_VERSION,
        "ServerUrl": server_url,
        "CertificateFingerprintSha256": fingerprint,
        "DeviceId": device.id,
        "ApiKey": api_key,
    }


CONFIG_RESPONSE: dict[str, Any] = {
    "description": f"The agent configuration file, ``{CONFIG_FILE_NAME}``.",
    "headers": {
        "Content-Disposition": {
            "description": f'``attachment; filename="{CONFIG_FILE_NAME}"``: a file, not an '
            "API envelope.",
            "schema": {"type": "string"},
        },
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "title": "AgentConfig",
                "properties": {
                    "FormatVersion": {"type": "integer", "const": CONFIG_FORMAT_VERSION},
                    "ServerUrl": {"type": "string"},
                    "CertificateFingerprintSha256": {"type": ["string", "null"]},
                    "DeviceId": {"type": "integer", "format": "int64"},
                    "ApiKey": {"type": "string"},
                },
                "required": ["FormatVersion", "ServerUrl", "DeviceId", "ApiKey"],
            },
        },
    },
}
"""The download's 200 in the OpenAPI document: its ``Content-Disposition`` says it is a file."""


def _signature(secret: ServerSecret, device_id: int, key_digest: str) -> str:
    message = _PURPOSE + f"{device_id}:{key_digest}".encode()
    mac = hmac.new(secret.signing_key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def public_base_url(settings: Settings, host_header: str | None) -> str:
    """``https://host[:port]`` that clients use: ``--public-url``, else the request's Host."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = (host_header or "").strip()
    if not host or any(c in host for c in "/\\@?# \t"):
        host = f"{settings.host}:{settings.port}"
    return f"https://{host}"


def _ascii_digits(text: str) -> bool:
    """``0-9`` only: ``str.isdigit`` also accepts ``³``, which ``int`` cannot read."""
    return text.isascii() and text.isdigit()
