"""A real ``cleverfox serve`` process for contract tests and benchmarks.

The database is SQLite in a temporary data directory, or a fresh PostgreSQL database made for
the run when ``CLEVERFOX_TEST_POSTGRES`` names a server (``postgresql://user@host:port``).
Partners are made with the operator's own code against the same database, so each test
gets an isolated tenant without restarting the server.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.partners import operator

FINGERPRINT = re.compile(r"fingerprint: ([0-9A-F:]{95})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Partner:
    partner_id: int
    company_id: int
    api_key: str
    client: httpx.Client


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    database_url: str | None
    process: subprocess.Popen[str]
    fingerprint: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{self.data_dir / 'cleverfox.db'}"

    def client(self, api_key: str | None = None, **kwargs: object) -> httpx.Client:
        auth = (api_key, "") if api_key is not None else None
        return httpx.Client(base_url=self.url, auth=auth, verify=False, timeout=30, **kwargs)  # type: ignore[arg-type]

    def new_partner(self, name: str = "Test Partner", plan_type_id: int = 1) -> Partner:
        db = Database(self.sqlalchemy_url, pool_size=1)
        try:
            with db.writing() as session:
                secret = load_or_create_secret(self.data_dir / "secret.key")
                made = operator.create_partner(session, secret, name, plan_type_id)
        finally:
            db.dispose()
        return Partner(made.partner_id, made.company_id, made.api_key, self.client(made.api_key))


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one run, dropped afterwards."""
    import psycopg

    name = f"cleverfox_test_{secrets.token_hex(4)}"
    admin = f"{server_url.rstrip('/')}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rstrip('/')}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(
    data_dir: Path,
    database_url: str | None,
    *extra: str,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """Start ``cleverfox serve`` and wait until it answers ``/healthz``."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "cleverfox",
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        *extra,
    ]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    environment.update(env or {})
    if database_url:
        environment["CLEVERFOX_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    )
    server = ServerProcess(f"https://127.0.0.1:{port}", data_dir, database_url, process)
    _wait_ready(server, timeout)
    return server


def _wait_ready(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    assert server.process.stdout is not None
    os.set_blocking(server.process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        _drain(server)
        if server.process.poll() is not None:
            raise RuntimeError("server exited:\n" + "".join(server.output))
        try:
            if httpx.get(server.url + "/healthz", verify=False, timeout=2).status_code == 200:
                _drain(server)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("server did not start:\n" + "".join(server.output))


def _drain(server: ServerProcess) -> None:
    assert server.process.stdout is not None
    while True:
        try:
            line = server.process.stdout.readline()
        except (BlockingIOError, ValueError):
            return
        if not line:
            return
        server.output.append(line)
        if match := FINGERPRINT.search(line):
            server.fingerprint = match.group(1)


def stop_server(server: ServerProcess, timeout: float = 20) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    _drain(server)
    return int(server.process.returncode)
