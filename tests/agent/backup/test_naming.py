"""The agent names a local-only backup file exactly as the server names a cloud one."""

from __future__ import annotations

from datetime import datetime

import pytest

from cleverfox.agent.backup.naming import backup_file_name, backup_list_name
from cleverfox.server.storage.naming import backup_file_names

WHEN = datetime(2024, 6, 7, 8, 9, 10)


@pytest.mark.parametrize(
    ("job", "item"),
    [
        ("Nightly: C/D", "Docs*"),
        ("  spaced   out  ", "tabs\tand\nlines"),
        ("", "..."),
        ("é" * 200, "ü" * 200),
        ("CON", "nul"),
    ],
)
def test_names_agree_with_the_servers(job: str, item: str) -> None:
    name = backup_file_name(job, item, WHEN)
    assert (name, backup_list_name(name)) == backup_file_names(job, item, WHEN)
    assert len(name.encode()) <= 255
