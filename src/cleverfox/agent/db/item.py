"""A database job item as the dump code reads it: the check-in's JobItem, checked once.

Every rule the server enforces is checked again here, so a malformed check-in fails the item
with a clear :class:`DumpFailed` line instead of a traceback halfway through a dump.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cleverfox.agent.model import DumpFailed

POSTGRESQL = "PGSQL"
MYSQL = "MYSQL"
SQLITE = "SQLITE"
SQL_SERVER = "MSSQL"
ENGINES = frozenset({POSTGRESQL, MYSQL, SQLITE, SQL_SERVER})

PASSWORD = "S"  # noqa: S105 - the AuthenticationMode's name, not a password
OPERATING_SYSTEM = "W"

DEFAULT_PORTS = {POSTGRESQL: 5432, MYSQL: 3306, SQL_SERVER: 1433}
LOCAL_SERVER_NAMES = frozenset({"", ".", "(local)", "localhost", "127.0.0.1", "::1"})

_UNSAFE_IN_FILE_NAME = re.compile(r"[^\w.@+-]+")
MAX_FILE_STEM = 120


@dataclass(frozen=True, slots=True)
class DatabaseItem:
    """One database item: which server, which database, how to sign in, which options.

    ``password`` is None with OS authentication; ``port`` is always set for server engines
    (the item's, or the engine's default) and None for SQLite.
    """

    engine: str
    server_name: str
    database_name: str
    port: int | None
    authentication_mode: str
    username: str | None
    password: str | None
    compress: bool
    copy_only: bool
    log_only: bool

    @property
    def is_local(self) -> bool:
        """The server is this machine, so OS authentication may use a local socket."""
        return self.server_name.strip().casefold() in LOCAL_SERVER_NAMES

    def file_stem(self) -> str:
        """The database name made safe as an archive file name: ``sales/2024`` → ``sales_2024``."""
        stem = _UNSAFE_IN_FILE_NAME.sub("_", self.database_name).strip("._")
        return stem[:MAX_FILE_STEM] or "database"

    @classmethod
    def from_job_item(cls, item: Mapping[str, Any]) -> DatabaseItem:
        """Read the JobItem's wire attributes; ``DumpFailed`` names the first one that is wrong."""
        engine = _text(item, "EngineId").upper()
        if engine not in ENGINES:
            raise DumpFailed(f"EngineId {engine!r} is not a database backup type")
        database_name = _text(item, "DatabaseName")
        if not database_name:
            raise DumpFailed("DatabaseName is required for a database item")
        server_name = _text(item, "ServerName")
        if engine != SQLITE and not server_name:
            raise DumpFailed("ServerName is required for a database item")
        mode = _authentication_mode(item, engine)
        username = _text(item, "Username") or None
        password = item.get("Password")
        if password is not None and not isinstance(password, str):
            raise DumpFailed("Password must be a string")
        if mode == PASSWORD and engine != SQLITE and username is None:
            raise DumpFailed("Username is required when AuthenticationMode is S")
        return cls(
            engine=engine,
            server_name=server_name,
            database_name=database_name,
            port=_port(item, engine),
            authentication_mode=mode,
            username=username,
            password=password if mode == PASSWORD else None,
            compress=_flag(item, "OptionCompress"),
            copy_only=_flag(item, "OptionCopyOnly"),
            log_only=_flag(item, "OptionLogOnly"),
        )


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DumpFailed(f"{name} must be a string")
    if "\0" in value:
        raise DumpFailed(f"{name} must not contain NUL")
    return value.strip()


def _authentication_mode(item: Mapping[str, Any], engine: str) -> str:
    mode = _text(item, "AuthenticationMode").upper()
    if not mode:
        if engine == SQL_SERVER:
            raise DumpFailed("AuthenticationMode is required for SQL Server (W or S)")
        return PASSWORD
    if mode not in (PASSWORD, OPERATING_SYSTEM):
        raise DumpFailed(f"AuthenticationMode must be W or S, not {mode!r}")
    return mode


def _port(item: Mapping[str, Any], engine: str) -> int | None:
    port = item.get("Port")
    if engine == SQLITE:
        return None
    if port is None:
        return DEFAULT_PORTS[engine]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise DumpFailed(f"Port must be a number from 1 to 65535, not {port!r}")
    return port


def _flag(item: Mapping[str, Any], name: str) -> bool:
    value = item.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DumpFailed(f"{name} must be true or false")
    return value
