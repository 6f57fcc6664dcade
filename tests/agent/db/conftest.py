"""Fixtures for the dump tests: real scratch databases (see ``databases``)."""

from tests.agent.db.databases import (
    mariadb_root,
    mariadb_scratch,
    mariadb_target,
    postgres_admin,
    postgres_scratch,
    postgres_target,
    work_dir,
)

__all__ = [
    "mariadb_root",
    "mariadb_scratch",
    "mariadb_target",
    "postgres_admin",
    "postgres_scratch",
    "postgres_target",
    "work_dir",
]
