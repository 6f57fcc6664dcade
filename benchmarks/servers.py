"""Server processes for the benchmarks: databases, server stacks, a partner with data.

Modelled on ``tests/support/server.py`` (copied, not imported, so benchmarks do not depend on
the test tree): a fresh data directory per engine, a fresh PostgreSQL database per run that
is dropped afterwards, the server's output in a log file (a pipe nobody reads could fill up
and stall the server mid-benchmark), readiness by polling ``/healthz``, SIGTERM to stop.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.kit.tls import ensure_certificate
from cleverfox.server.partners import operator
from cleverfox.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Engine:
    """A database to serve from: SQLite in the data directory, or a PostgreSQL URL."""

    name: str
    data_dir: Path
    database_url: str | None

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)


@dataclass(frozen=True)
class Stack:
    """How the app is served: the production runner (uvicorn), granian or hypercorn."""

    name: str
    server: str  # "uvicorn", "granian" or "hypercorn": the package that serves
    workers: int
    description: str


UVICORN = Stack(
    "uvicorn", "uvicorn", 1, "production runner: uvicorn + uvloop + httptools, 1 process"
)
UVICORN_2W = Stack(
    "uvicorn-2w", "uvicorn", 2, "production runner with --workers 2 (2 uvicorn processes)"
)
GRANIAN = Stack(
    "granian",
    "granian",
    1,
    "granian (Rust HTTP + rustls, ASGI interface, uvloop), 1 process, --ssl-protocol-min tls1.2",
)
HYPERCORN = Stack(
    "hypercorn",
    "hypercorn",
    1,
    "hypercorn (pure Python over h11, stdlib TLS, uvloop worker), 1 process",
)
STACKS = {stack.name: stack for stack in (UVICORN, UVICORN_2W, GRANIAN, HYPERCORN)}


def installed(stack: Stack) -> bool:
    """Whether the server package of ``stack`` can be imported here.

    granian is not a project dependency (``.venv/bin/pip install granian``); without it the
    stack comparison runs on the stacks that are there and says which it left out.
    """
    return importlib.util.find_spec(stack.server) is not None


@dataclass
class RunningServer:
    """A benchmark server process and how to reach it."""

    stack: Stack
    engine: Engine
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: TextIO

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")


@dataclass(frozen=True)
class Partner:
    """A tenant to benchmark as: its API key and its own company."""

    partner_id: int
    company_id: int
    api_key: str


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    """SQLite (WAL) in a temporary data directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="cleverfox_bench_") as tmp:
        yield Engine("SQLite", Path(tmp), None)


@contextmanager
def postgres_engine(server_url: str, prefix: str = "cleverfox_bench_") -> Iterator[Engine]:
    """A fresh PostgreSQL database ``<prefix><random>``, dropped afterwards."""
    import psycopg

    name = f"{prefix}{secrets.token_hex(4)}"
    admin = f"{server_url.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Engine("PostgreSQL", Path(tmp), f"{server_url.rstrip('/')}/{name}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable(server_url: str) -> bool:
    """Whether a PostgreSQL server answers at ``server_url`` (within three seconds)."""
    import psycopg

    try:
        psycopg.connect(f"{server_url.rstrip('/')}/postgres", connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(stack: Stack, engine: Engine) -> RunningServer:
    """Start ``stack`` serving ``benchmarks.ceiling_app`` on ``engine``; wait until ready.

    Rate limits are off (``CLEVERFOX_RATE_LIMIT=0``). Raises ``RuntimeError`` with the
    server's output when it exits or does not answer ``/healthz`` in time.
    """
    port = free_port()
    log_path = engine.data_dir / f"server-{stack.name}-{port}.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        _command(stack, engine, port),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=_environment(stack, engine, port),
        cwd=REPO_ROOT,
    )
    server = RunningServer(stack, engine, port, process, log_path, log_file)
    _wait_ready(server)
    return server


def stop(server: RunningServer) -> int:
    """SIGTERM, then SIGKILL if it does not end in time; returns the exit code."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    server.log_file.close()
    return int(server.process.returncode)


@contextmanager
def running(stack: Stack, engine: Engine) -> Iterator[RunningServer]:
    """A started server, stopped on the way out."""
    server = start(stack, engine)
    try:
        yield server
    finally:
        stop(server)


def _environment(stack: Stack, engine: Engine, port: int) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLEVERFOX_")}
    environment.update(
        CLEVERFOX_DATA_DIR=str(engine.data_dir),
        CLEVERFOX_PORT=str(port),
        CLEVERFOX_HOST="127.0.0.1",
        CLEVERFOX_RATE_LIMIT="0",
        CLEVERFOX_WORKERS=str(stack.workers),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    if engine.database_url:
        environment["CLEVERFOX_DATABASE_URL"] = engine.database_url
    return environment


def _command(stack: Stack, engine: Engine, port: int) -> list[str]:
    if stack.server == "uvicorn":
        return [sys.executable, "-m", "benchmarks.serve"]
    pair = ensure_certificate(engine.settings)  # the same self-signed pair uvicorn serves
    if stack.server == "granian":
        return _granian(stack, port, pair.cert_path, pair.key_path)
    return _hypercorn(stack, port, pair.cert_path, pair.key_path)


def _granian(stack: Stack, port: int, cert: Path, key: Path) -> list[str]:
    """granian's own TLS (rustls): PKCS#8 key, and TLS 1.2 allowed (its default floor is 1.3)."""
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(stack.workers)),
        *("--loop", "uvloop", "--http", "1", "--no-access-log"),
        *("--ssl-certificate", str(cert), "--ssl-keyfile", str(key)),
        *("--ssl-protocol-min", "tls1.2"),
        "benchmarks.ceiling_app:create",
    ]


def _hypercorn(stack: Stack, port: int, cert: Path, key: Path) -> list[str]:
    """hypercorn's TLS context sets ``OP_NO_TLSv1_1`` and older itself (checked by the suite)."""
    return [
        *(sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}"),
        *("--workers", str(stack.workers), "--worker-class", "uvloop"),
        *("--certfile", str(cert), "--keyfile", str(key)),
        "benchmarks.ceiling_app:create()",
    ]


def _wait_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.output()
            server.log_file.close()
            raise RuntimeError(f"{server.stack.name} exited:\n{output}")
        try:
            answer = httpx.get(server.url + "/healthz", verify=False, timeout=2)  # noqa: S501
            if answer.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop(server)
    raise RuntimeError(f"{server.stack.name} did not start:\n{server.output()}")


def new_partner(engine: Engine, name: str = "Benchmark Partner") -> Partner:
    """A partner on plan type 1 (API access) made with the operator's own code."""
    settings = engine.settings
    db = Database(settings.resolved_database_url, pool_size=1)
    try:
        with db.writing() as session:
            secret = load_or_create_secret(settings.secret_key_path)
            made = operator.create_partner(session, secret, name, 1)
    finally:
        db.dispose()
    return Partner(made.partner_id, made.company_id, made.api_key)


def company_body(partner: Partner, name: str) -> dict[str, object]:
    """The body of POST /api/companies for ``partner``."""
    return {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": name}


def seed_companies(server: RunningServer, partner: Partner, count: int) -> None:
    """Give ``partner`` ``count`` more companies through the API."""
    # The server's certificate is self-signed and this is loopback: nothing to verify against.
    auth = (partner.api_key, "")
    with httpx.Client(base_url=server.url, auth=auth, verify=False) as client:  # noqa: S501
        for number in range(count):
            body = company_body(partner, f"Seeded company {number}")
            response = client.post("/api/companies", json=body, timeout=30)
            if response.status_code != 201:
                raise RuntimeError(f"seeding failed: {response.status_code} {response.text}")


def accepted_tls_versions(port: int) -> dict[str, bool]:
    """Which TLS versions a server on ``port`` completes a handshake with (1.1, 1.2, 1.3)."""
    versions = {
        "TLSv1.1": ssl.TLSVersion.TLSv1_1,
        "TLSv1.2": ssl.TLSVersion.TLSv1_2,
        "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    }
    return {name: _handshakes(port, version) for name, version in versions.items()}


def _handshakes(port: int, version: ssl.TLSVersion) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = version
    context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer the old protocol
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            return conn.version() == version_name(version)
    except (OSError, ssl.SSLError):
        return False


def version_name(version: ssl.TLSVersion) -> str:
    return {
        ssl.TLSVersion.TLSv1_1: "TLSv1.1",
        ssl.TLSVersion.TLSv1_2: "TLSv1.2",
        ssl.TLSVersion.TLSv1_3: "TLSv1.3",
    }[version]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` and all its descendants (Linux ``/proc``).

    Per request this is the noise-resistant measure on a shared machine: other load slows the
    server's wall clock but hardly changes what one request costs it. ``None`` off Linux.
    """
    try:
        tick = os.sysconf("SC_CLK_TCK")
        children = _children_by_parent()
    except (OSError, ValueError):
        return None
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _process_ticks(current)
        pending.extend(children.get(current, ()))
    return total / tick


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _process_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0  # utime, stime


def _stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` after the command name: state, ppid, …; empty if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rpartition(")")[2].split()
