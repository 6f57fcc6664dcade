"""The agent's transport: a device's calls to ``/api/agent/…`` (sync), typed.

:class:`AgentClient` speaks for one device with its key (HTTP Basic, as every agent call).
TLS is the SDK's: ``fingerprint=`` pins the server's certificate inside the handshake, before
the key is written. Retries are the SDK's :class:`~cleverfox.client.RetryPolicy`; a call is
re-sent after a failure that may have reached the server only when the protocol makes it
harmless (reads, the idempotent finish, progress, packs and a manifest's last page). Every
failure is a ``cleverfox.client.errors`` type, e.g. a :class:`~cleverfox.client.errors.Conflict`
with ``code == "chunk_missing"`` whose ``body["ids"]`` names the chunks.

The storage methods (``missing``, ``put_pack``, ``commit_files``, ``manifest``,
``read_chunks``) are the shape ``cleverfox.agent.model.Uploader`` asks for; the agent adapts
their plain results to its own types (the SDK never imports the agent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from cleverfox.client._agent_http import AgentCall, AgentSession, data_of, unexpected
from cleverfox.client._agent_wire import (
    CheckIn,
    FileEntry,
    ManifestLine,
    StorageInfo,
    check_in_of,
    entry_bytes,
    entry_json,
    hex_ids,
    ids_of,
    local_text,
    manifest_line,
    records_of,
)
from cleverfox.client._config import DEFAULT_RETRIES, DEFAULT_TIMEOUT, authorization, http_options
from cleverfox.client._retry import RetryPolicy
from cleverfox.client._tls import Verify, ssl_context
from cleverfox.client._wire import error_from_response, transport_error_from

__all__ = [
    "AgentClient",
    "AgentConfig",
    "CheckIn",
    "FileEntry",
    "ManifestLine",
    "StorageInfo",
    "fetch_agent_config",
]

COMMIT_PAGE_BYTES = 8 * 1024 * 1024
"""A manifest page's JSON body stays under this (and under the server's MaxPackBytes)."""
MAX_MISSING_IDS = 10_000
MAX_READ_IDS = 1_000
PROGRESS_FIGURES = (
    "FilesDone",
    "FilesTotal",
    "BytesDone",
    "BytesTotal",
    "BytesUploaded",
    "RateBytesPerSecond",
    "EtaSeconds",
)


@dataclass(frozen=True)
class AgentConfig:
    """The configuration file behind a device's ``AgentDownloadUrl``."""

    server_url: str
    fingerprint: str | None
    device_id: int
    api_key: str


class AgentClient:
    """One device's connection to its server's agent endpoints.

    ``base_url`` is ``https://host:port``; ``device_key`` the device's ApiKey. Options are the
    partner :class:`~cleverfox.client.Client`'s (``fingerprint``, ``verify``, ``timeout``,
    ``retries``, ``transport``, ``proxy``, ``sleep``). Use it in ``with`` or ``close()`` it.
    """

    def __init__(
        self,
        base_url: str,
        device_key: str,
        *,
        fingerprint: str | None = None,
        verify: Verify = True,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        transport: httpx.BaseTransport | None = None,
        proxy: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        commit_page_bytes: int = COMMIT_PAGE_BYTES,
    ) -> None:
        options = http_options(
            base_url,
            verify=verify,
            fingerprint=fingerprint,
            timeout=timeout,
            transport=transport,
            proxy=proxy,
        )
        self._session = AgentSession(
            httpx.Client(**options),
            authorization=authorization(device_key),
            policy=RetryPolicy.of(retries),
            sleep=sleep,
        )
        self.base_url: str = options["base_url"]
        self.commit_page_bytes = commit_page_bytes

    def __repr__(self) -> str:
        return f"AgentClient({self.base_url!r})"

    # -- check-in and runs ---------------------------------------------------------------

    def checkin(self, facts: Mapping[str, str | None] | None = None) -> CheckIn:
        """``POST /api/agent/checkin`` with the facts reported (``Hostname``, ``OsName``,
        ``OsVersion``, ``AgentVersion``): the device, its jobs, what to run now, the clock."""
        response = self._session.send(
            AgentCall("POST", "/api/agent/checkin", body=dict(facts or {}))
        )
        return check_in_of(response)

    def start_log(
        self, job_id: int, *, started_on: datetime | None = None, trigger: str = "Schedule"
    ) -> dict[str, Any]:
        """``POST /api/agent/logs``: the Running Log (wire names). ``started_on`` is device
        local. Not re-sent once it may have reached the server (it is not idempotent):
        the caller then sees the failure, and a later 409 ``job_already_running``."""
        body: dict[str, object] = {"JobId": job_id, "Trigger": trigger}
        if started_on is not None:
            body["JobStartedOn"] = local_text(started_on)
        call = AgentCall("POST", "/api/agent/logs", body=body, replayable=False)
        return self._element(self._session.send(call))

    def finish_log(
        self,
        log_id: int,
        *,
        status: str,
        completed_on: datetime | None = None,
        error_messages: Sequence[str] = (),
        log_items: Sequence[Mapping[str, object]] = (),
        bytes_uploaded: int | None = None,
    ) -> dict[str, Any]:
        """``PUT /api/agent/logs/{LogId}``: finish a run as ``Completed`` or ``Failed``;
        the finished Log. Idempotent on the server, so re-sent after any passing failure."""
        body: dict[str, object] = {"JobStatus": status, "LogItems": [dict(i) for i in log_items]}
        if completed_on is not None:
            body["JobCompletedOn"] = local_text(completed_on)
        if error_messages:
            body["ErrorMessages"] = "\r\n".join(error_messages)
        if bytes_uploaded is not None:
            body["BytesUploaded"] = bytes_uploaded
        return self._element(
            self._session.send(AgentCall("PUT", f"/api/agent/logs/{log_id}", body))
        )

    def progress(self, log_id: int, figures: Mapping[str, int]) -> None:
        """``PUT /api/agent/logs/{LogId}/progress`` with ``FilesDone``, ``BytesDone``… (wire
        names, non-negative integers); ValueError for another name or a negative value."""
        for name, value in figures.items():
            if name not in PROGRESS_FIGURES or value < 0:
                raise ValueError(f"progress takes {', '.join(PROGRESS_FIGURES)} (≥ 0), not {name}")
        self._session.send(AgentCall("PUT", f"/api/agent/logs/{log_id}/progress", dict(figures)))

    # -- storage: upload -----------------------------------------------------------------

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        """``POST /api/agent/chunks/missing``: which of ``chunk_ids`` the company lacks, in
        request order (sent in batches of 10,000)."""
        out: list[bytes] = []
        for start in range(0, len(chunk_ids), MAX_MISSING_IDS):
            batch = hex_ids(chunk_ids[start : start + MAX_MISSING_IDS])
            response = self._session.send(
                AgentCall("POST", "/api/agent/chunks/missing", {"Ids": batch})
            )
            out.extend(ids_of(response, self._field(response, "Missing")))
        return out

    def put_pack(self, body: bytes) -> tuple[int, int]:
        """``PUT /api/agent/packs`` with a body of records: ``(stored, duplicates)``."""
        call = AgentCall(
            "PUT", "/api/agent/packs", content=body, content_type="application/octet-stream"
        )
        response = self._session.send(call)
        stored, duplicates = self._field(response, "Stored"), self._field(response, "Duplicates")
        if not isinstance(stored, int) or not isinstance(duplicates, int):
            raise unexpected(response, "Stored and Duplicates are not integers")
        return stored, duplicates

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterable[FileEntry]
    ) -> dict[str, Any]:
        """``POST /api/agent/logs/{LogId}/files``: an item's whole manifest, sent in pages of
        at most ``commit_page_bytes`` (``More: true`` stages, the last page commits); the
        Log Item. A staging page is not re-sent after an unknown fate (the server would stage
        it twice); the committing page is (the commit is idempotent)."""
        url = f"/api/agent/logs/{log_id}/files"
        page: list[dict[str, object]] = []
        size = 0
        for entry in entries:
            wire = entry_json(entry)
            grows = entry_bytes(wire)
            if page and size + grows > self.commit_page_bytes:
                body = {"JobItemId": job_item_id, "Entries": page, "More": True}
                self._session.send(AgentCall("POST", url, body, replayable=False))
                page, size = [], 0
            page.append(wire)
            size += grows
        body = {"JobItemId": job_item_id, "Entries": page, "More": False}
        return self._element(self._session.send(AgentCall("POST", url, body)))

    # -- storage: restore ----------------------------------------------------------------

    def manifest(self, log_item_id: int) -> Iterator[ManifestLine]:
        """``GET /api/agent/logitems/{LogItemId}/manifest``: the entries, streamed."""
        call = AgentCall("GET", f"/api/agent/logitems/{log_item_id}/manifest")
        with self._session.stream(call) as response:
            for line in response.iter_lines():
                if line.strip():
                    yield manifest_line(response, line.encode())

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        """``POST /api/agent/chunks/read``: ``(chunk id, codec, piece)`` per id, in order
        (asked 1,000 at a time). The caller checks each piece against its id."""
        for start in range(0, len(chunk_ids), MAX_READ_IDS):
            batch = hex_ids(chunk_ids[start : start + MAX_READ_IDS])
            call = AgentCall("POST", "/api/agent/chunks/read", {"Ids": batch})
            with self._session.stream(call) as response:
                yield from records_of(response, response.iter_bytes())

    # -- plumbing ------------------------------------------------------------------------

    def _element(self, response: httpx.Response) -> dict[str, Any]:
        data = data_of(response)
        if not isinstance(data, dict):
            raise unexpected(response, "the data is not an object")
        return data

    def _field(self, response: httpx.Response, name: str) -> object:
        data = self._element(response)
        if name not in data:
            raise unexpected(response, f"the answer has no {name}")
        return data[name]

    def close(self) -> None:
        """Close the connections."""
        self._session.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def fetch_agent_config(
    url: str,
    *,
    fingerprint: str | None = None,
    verify: Verify = True,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> AgentConfig:
    """Download a device's ``AgentDownloadUrl`` (no key needed). TLS is trusted as
    ``fingerprint``/``verify`` say (a self-signed server needs ``fingerprint``). Raises
    ``cleverfox.client.errors`` types; ``UnexpectedResponse`` when it is not such a file."""
    parsed = httpx.URL(url)
    if parsed.scheme != "https" or not parsed.host:
        raise ValueError("the agent download URL must be an https:// URL")
    options: dict[str, Any] = {"timeout": timeout, "trust_env": False, "follow_redirects": False}
    if transport is not None:
        options["transport"] = transport
    else:
        options["verify"] = ssl_context(verify, fingerprint)
    try:
        with httpx.Client(**options) as http:
            response = http.get(url, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise transport_error_from(exc) from exc
    if not response.is_success:
        raise error_from_response(response)
    return _config_of(response)


def _config_of(response: httpx.Response) -> AgentConfig:
    try:
        body = response.json()
        fingerprint = body.get("CertificateFingerprintSha256")
        config = AgentConfig(
            server_url=str(body["ServerUrl"]),
            fingerprint=str(fingerprint) if fingerprint else None,
            device_id=int(body["DeviceId"]),
            api_key=str(body["ApiKey"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unexpected(response, "this is not an agent configuration file") from exc
    return config
