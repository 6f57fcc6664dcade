"""The JobItem as the dump code reads it: every malformed check-in is a clear DumpFailed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.agent.db.databases import read_all

from cleverfox.agent.db import DATABASE_ENGINES, DumpFailed
from cleverfox.agent.db.item import DatabaseItem
from cleverfox.agent.db.process import Scrubber

GOOD = {
    "EngineId": "PGSQL",
    "ServerName": "db.example",
    "DatabaseName": "sales",
    "Port": None,
    "AuthenticationMode": "S",
    "Username": "backup",
    "Password": "pw",
}


def test_the_engines_are_the_catalogues_database_backup_types() -> None:
    assert {"PGSQL", "MYSQL", "SQLITE", "MSSQL"} == DATABASE_ENGINES


@pytest.mark.parametrize(
    ("engine", "port"), [("PGSQL", 5432), ("MYSQL", 3306), ("MSSQL", 1433), ("SQLITE", None)]
)
def test_a_missing_port_is_the_engines_default(engine: str, port: int | None) -> None:
    assert DatabaseItem.from_job_item({**GOOD, "EngineId": engine}).port == port


def test_os_authentication_drops_any_password_it_was_sent() -> None:
    item = DatabaseItem.from_job_item({**GOOD, "AuthenticationMode": "w", "Password": "pw"})
    assert (item.authentication_mode, item.password) == ("W", None)


def test_postgresql_and_mysql_default_to_password_authentication() -> None:
    assert DatabaseItem.from_job_item({**GOOD, "AuthenticationMode": None}).password == "pw"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"EngineId": "FILE"}, "EngineId 'FILE' is not a database backup type"),
        ({"EngineId": None}, "EngineId '' is not a database backup type"),
        ({"EngineId": 3}, "EngineId must be a string"),
        ({"DatabaseName": " "}, "DatabaseName is required"),
        ({"ServerName": ""}, "ServerName is required"),
        ({"Username": None}, "Username is required when AuthenticationMode is S"),
        ({"AuthenticationMode": "X"}, "AuthenticationMode must be W or S, not 'X'"),
        ({"EngineId": "MSSQL", "AuthenticationMode": None}, "AuthenticationMode is required"),
        ({"Port": 0}, "Port must be a number from 1 to 65535, not 0"),
        ({"Port": "5432"}, "Port must be a number from 1 to 65535, not '5432'"),
        ({"Port": True}, "Port must be a number from 1 to 65535, not True"),
        ({"Password": 1234}, "Password must be a string"),
        ({"OptionCopyOnly": "yes"}, "OptionCopyOnly must be true or false"),
        ({"DatabaseName": "a\0b"}, "DatabaseName must not contain NUL"),
    ],
)
def test_a_malformed_item_is_refused_with_the_attribute_named(
    change: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(DumpFailed, match="^" + re.escape(message)):
        read_all({**GOOD, **change}, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("sales", "sales"),
        ("Sales 2024/Q1", "Sales_2024_Q1"),
        ("..", "database"),
        ("../../etc/passwd", "etc_passwd"),
        ("C:\\data\\shop", "C_data_shop"),
        ("Café", "Café"),
        ("x" * 300, "x" * 120),
    ],
)
def test_a_database_name_becomes_a_safe_archive_file_name(name: str, stem: str) -> None:
    assert DatabaseItem.from_job_item({**GOOD, "DatabaseName": name}).file_stem() == stem


def test_the_scrubber_hides_every_secret_even_one_inside_another() -> None:
    scrub = Scrubber(["abc", "abcdef", None, ""])
    assert scrub("x abcdef y abc z") == "x *** y *** z"
