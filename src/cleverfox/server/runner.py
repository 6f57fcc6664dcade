"""How a ``cleverfox serve`` process serves the application (spec README §1, operator-cli.md).

``serve`` runs uvicorn in this process or, with ``--workers N``, in N spawned worker
processes sharing one listening socket. Every process builds its own app by calling an
import-string factory; the factory reads the one ``Settings`` object back from the
``CLEVERFOX_*`` environment variables that ``serve`` exports from the caller's settings, so
the workers see exactly what the command line said.

Directly on the network the port speaks TLS 1.2 or newer only; plain HTTP and older TLS
handshakes fail without an HTTP answer. Behind ``--trusted-proxies`` it speaks plain HTTP,
guarded by ``TrustedProxyMiddleware``. SIGTERM/SIGINT stop accepting, let the requests in
flight finish (up to ``GRACEFUL_SHUTDOWN_SECONDS``) and make ``serve`` return 0.

No 503 is needed around start-up and shutdown: uvicorn listens only after the app's lifespan
start-up has finished, and on shutdown it stops listening first and closes idle keep-alive
connections, so no request reaches an app that is not ready.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import ssl
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from cleverfox.server.kit.proxy import TrustedProxyMiddleware, wrap_for_proxies
from cleverfox.server.kit.tls import (
    MINIMUM_TLS_VERSION,
    CertificatePair,
    ensure_certificate,
    server_ssl_context,
)
from cleverfox.settings import Settings

__all__ = [
    "DEFAULT_APP_FACTORY",
    "GRACEFUL_SHUTDOWN_SECONDS",
    "mask_password",
    "serve",
    "settings_to_env",
    "startup_facts",
    "wrap_for_proxies",
]

DEFAULT_APP_FACTORY = "cleverfox.server.app:create_app_from_env"
GRACEFUL_SHUTDOWN_SECONDS = 30
ENV_PREFIX = "CLEVERFOX_"
WORKER_READY_POLL_SECONDS = 1.0

ReadyCallback = Callable[[list[str]], None]
logger = logging.getLogger("uvicorn.error")


def serve(
    settings: Settings,
    *,
    app_factory: str = DEFAULT_APP_FACTORY,
    on_ready: ReadyCallback | None = None,
) -> int:
    """Serve the app made by ``app_factory`` until SIGTERM/SIGINT; return the exit code.

    ``app_factory`` is ``"module:function"``, a function of no arguments that builds the app
    from the environment and must wrap it with ``wrap_for_proxies`` (checked: behind proxies a
    factory that does not is refused). ``on_ready`` gets the start-up facts (``startup_facts``)
    once every worker serves. Returns 0 after a signal-initiated shutdown, 3 when the app or
    the socket failed to start. Raises ``TlsConfigurationError`` for an unusable certificate.
    Exports ``settings`` into this process's environment (``settings_to_env``).
    """
    with _signals_end_serving():
        try:
            return _serve(settings, app_factory, on_ready or _ignore)
        except SystemExit as exc:  # uvicorn reports start-up failures this way
            return _exit_code(exc)
        except _StopServing:
            return 0


def settings_to_env(settings: Settings) -> dict[str, str]:
    """``CLEVERFOX_*`` variables from which ``Settings()`` rebuilds ``settings`` exactly.

    Scalars are written as text, lists (trusted proxies, rate limit) as JSON, which is how
    ``Settings`` reads complex values from the environment. Unset (``None``) fields are left
    out; ``serve`` also removes them from the environment.
    """
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            env[ENV_PREFIX + name.upper()] = _env_text(value)
    for name in Settings.model_fields:  # the JSON dump masks secrets; the workers need them
        secret = getattr(settings, name)
        if isinstance(secret, SecretStr):
            env[ENV_PREFIX + name.upper()] = secret.get_secret_value()
    return env


def startup_facts(settings: Settings, pair: CertificatePair | None, port: int) -> list[str]:
    """One line per fact an operator needs: URL, the API reference, certificate fingerprint,
    database, storage (once it exists: a storage folder is named only when it is there).

    Passwords in the database and storage URLs are masked.
    """
    scheme = "https" if pair is not None else "http"
    url = f"{scheme}://{_url_host(settings.host)}:{port}/"
    lines = [f"URL: {url}", f"API reference: {url}api/docs"]
    if pair is not None:
        lines.append(f"TLS certificate SHA-256 fingerprint: {pair.fingerprint_sha256}")
    else:
        proxies = ", ".join(str(network) for network in settings.trusted_proxies)
        lines.append(f"TLS: terminated by the trusted proxies {proxies} (plain HTTP here)")
    if settings.public_url:
        lines.append(f"Public URL: {settings.public_url}")
    lines.append(f"Database: {mask_password(settings.resolved_database_url)}")
    storage = _storage(settings)
    if storage is not None:
        lines.append(f"Storage: {storage}")
    return lines


def mask_password(url: str) -> str:
    """``url`` with the password of its user part and any ``password=`` parameter as ``***``.

    Everything else is kept byte for byte (``sqlite:////abs/path`` stays as it is).
    """
    netloc = urlsplit(url).netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.partition(":")[0]
            url = url.replace(netloc, f"{user}:***@{host}", 1)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def _serve(settings: Settings, app_factory: str, on_ready: ReadyCallback) -> int:
    pair = None if settings.behind_proxy else ensure_certificate(settings)
    if pair is not None:
        server_ssl_context(pair)  # fail here, once, rather than in every worker
    _export_to_environ(settings)
    config = _ServingConfig(settings, app_factory, pair)
    listener = config.bind_socket()
    facts = startup_facts(settings, pair, listener.getsockname()[1])
    if settings.workers > 1:
        return _run_workers(config, listener, lambda: on_ready(facts))
    return _run_in_process(config, listener, lambda: on_ready(facts))


def _run_in_process(config: Config, listener: socket.socket, announce: Callable[[], None]) -> int:
    server = _AnnouncingServer(config, announce)
    server.run(sockets=[listener])
    return 0 if server.started else STARTUP_FAILURE


def _run_workers(config: Config, listener: socket.socket, announce: Callable[[], None]) -> int:
    supervisor = _AnnouncingSupervisor(config, [listener], announce)
    supervisor.run()
    failed = any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


class _ServingConfig(Config):
    """uvicorn's ``Config`` for our server, checked in every process that loads it.

    Picklable (it travels to spawned workers): the TLS context comes from a module-level
    ``_TlsContextFactory`` and the checks run in ``load``, which each worker calls.
    """

    def __init__(self, settings: Settings, app_factory: str, pair: CertificatePair | None):
        super().__init__(
            app_factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            loop="auto",  # uvloop when installed
            http=_GracefulHttpProtocol,
            lifespan="on",  # a failing start-up (migrations) must stop the server
            access_log=False,
            proxy_headers=False,  # TrustedProxyMiddleware alone decides whom to believe
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            ssl_context_factory=None if pair is None else _TlsContextFactory(pair),
        )
        self.behind_proxy = settings.behind_proxy

    def load(self) -> None:
        """Load as uvicorn does, then refuse to serve on an unsafe transport."""
        super().load()
        problem = self._transport_problem()
        if problem is not None:
            logger.error(problem)
            sys.exit(STARTUP_FAILURE)  # uvicorn's "do not restart this worker" code

    def _transport_problem(self) -> str | None:
        if self.behind_proxy:
            if not isinstance(self.loaded_app, TrustedProxyMiddleware):
                return f"{self.app} must return wrap_for_proxies(app, settings) behind proxies"
            return None
        if self.ssl is None or self.ssl.minimum_version < MINIMUM_TLS_VERSION:
            return "TLS must be on, with TLS 1.2 as the oldest version allowed"
        return None


class _GracefulHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that does not let an idle peer stall a shutdown.

    Closing a TLS connection waits for the peer's close_notify; a client that keeps an idle
    keep-alive connection open and never reads would hold the shutdown for the full grace
    period. After a request finishes (or at once, for an idle connection) the transport is
    given ``_FLUSH_SECONDS`` to send what it has, then aborted.
    """

    def shutdown(self) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        super().shutdown()
        if idle:
            self._abort_later()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            self._abort_later()

    def _abort_later(self) -> None:
        transport = self.transport
        self.loop.call_later(_FLUSH_SECONDS, transport.abort)


_FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _TlsContextFactory:
    """uvicorn's ``ssl_context_factory``: our context instead of uvicorn's default one."""

    pair: CertificatePair

    def __call__(self, config: Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return server_ssl_context(self.pair)


class _AnnouncingServer(Server):
    """A uvicorn server that calls ``announce`` once it listens with the app started."""

    def __init__(self, config: Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._announce()


class _AnnouncingSupervisor(Multiprocess):
    """uvicorn's worker supervisor that calls ``announce`` once every worker serves."""

    def __init__(
        self, config: Config, sockets: list[socket.socket], announce: Callable[[], None]
    ) -> None:
        super().__init__(config, sockets)
        self._announce = announce

    def init_processes(self) -> None:
        super().init_processes()
        if self._wait_for_workers():
            self._announce()

    def _wait_for_workers(self) -> bool:
        """Whether all workers came up; gives up on a signal or a worker that died starting."""
        for worker in self.processes:
            while not worker.wait_until_ready(WORKER_READY_POLL_SECONDS, self.should_exit):
                self.handle_signals()
                if self.should_exit.is_set() or worker.exitcode is not None:
                    return False
        return True


class _StopServing(BaseException):
    """A SIGTERM/SIGINT outside uvicorn's handling; no ``except Exception`` may swallow it."""


@contextlib.contextmanager
def _signals_end_serving() -> Iterator[None]:
    """Make SIGTERM/SIGINT end ``serve`` normally instead of killing the process.

    uvicorn handles both signals while it serves, and afterwards re-raises the signal it got
    to the handler it found; that handler (ours) turns it into ``_StopServing``. The same
    happens for a signal during start-up, before uvicorn listens. The caller's handlers are
    restored on the way out.
    """
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, _raise_stop_serving) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_stop_serving(signum: int, frame: FrameType | None) -> None:
    raise _StopServing(signal.Signals(signum).name)


def _export_to_environ(settings: Settings) -> None:
    """Make this process's ``CLEVERFOX_*`` settings variables say exactly ``settings``.

    Variables of unset fields are removed too, so a stale one can't reach the workers
    (pydantic-settings reads names case-insensitively, hence the ``upper()``).
    """
    names = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for key in [k for k in os.environ if k.upper() in names]:
        del os.environ[key]
    os.environ.update(settings_to_env(settings))


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    return 1


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _storage(settings: Settings) -> str | None:
    if settings.storage_url:
        return mask_password(settings.storage_url)
    folder = (settings.data_dir / "storage").resolve()
    return str(folder) if folder.is_dir() else None


def _ignore(lines: list[str]) -> None:
    """The default ``on_ready``: the caller did not ask for the start-up facts."""
