"""What a job item of each backup type needs: required attributes, defaults, credentials.

Checked on the item as it is after a change (README §3, conditional rules):

- File (``FILE``): BaseFolder and SearchPatterns are required.
- Databases (``MSSQL``, ``PGSQL``, ``MYSQL``, ``SQLITE``): DatabaseName is required;
  ServerName too, except for SQLite, whose DatabaseName is the database file's path.
  Port defaults to the backup type's Port.
- AuthenticationMode: SQL Server requires it; PostgreSQL and MySQL default to ``S``; SQLite
  does not use it. With ``S`` on a server database, Username and Password are required.
"""

from __future__ import annotations

from cleverfox.server.kit.errors import FieldError, required
from cleverfox.server.models import BackupType, JobItem

FILE = "FILE"
SQL_SERVER = "MSSQL"
SQLITE = "SQLITE"
SERVER_DATABASES = frozenset({"MSSQL", "PGSQL", "MYSQL"})
PASSWORD_AUTHENTICATION = "S"  # noqa: S105 - the mode's name, not a password
DEFAULT_TO_PASSWORD = SERVER_DATABASES - {"MSSQL"}


def is_database(backup_type: BackupType) -> bool:
    return backup_type.engine_id != FILE


def apply_defaults(item: JobItem, backup_type: BackupType) -> None:
    """Fill the Port and AuthenticationMode a database type implies when none is set."""
    if not is_database(backup_type):
        return
    if item.port is None:
        item.port = backup_type.port
    if item.authentication_mode is None and backup_type.engine_id in DEFAULT_TO_PASSWORD:
        item.authentication_mode = PASSWORD_AUTHENTICATION


def problems(item: JobItem, backup_type: BackupType) -> list[FieldError]:
    """Every conditional rule ``item`` breaks for ``backup_type`` (empty when valid)."""
    engine = backup_type.engine_id
    if engine == FILE:
        return _missing(item, ("BaseFolder", "base_folder"), ("SearchPatterns", "search_patterns"))
    errors = _missing(item, ("DatabaseName", "database_name"))
    if engine != SQLITE:
        errors += _missing(item, ("ServerName", "server_name"))
    if engine == SQL_SERVER:
        errors += _missing(item, ("AuthenticationMode", "authentication_mode"))
    if engine in SERVER_DATABASES and item.authentication_mode == PASSWORD_AUTHENTICATION:
        errors += _missing(
            item, ("Username", "username_encrypted"), ("Password", "password_encrypted")
        )
    return errors


def _missing(item: JobItem, *attributes: tuple[str, str]) -> list[FieldError]:
    return [required(name) for name, field in attributes if getattr(item, field) in (None, "")]
