"""``cleverfox storage gc | check | stats`` on a data directory holding real backup files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from tests.support.stored import Store, add_run, new_ids, server_store, store_backup

from cleverfox.cli.main import cli
from cleverfox.server.migrate import upgrade
from cleverfox.server.models import StoragePack

CLEAN_ENV = {name: None for name in os.environ if name.startswith("CLEVERFOX_")}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory with two backup files of one company (SQLite, local storage)."""
    made = server_store(tmp_path, f"sqlite:///{tmp_path / 'cleverfox.db'}")
    upgrade(made.db.engine)
    ids = new_ids()
    for number in range(2):
        with made.db.writing() as session:
            run = add_run(session, *ids)
        store_backup(made, run, {"a.bin": os.urandom(3000), "b.txt": b"%d" % number})
    yield tmp_path
    made.db.dispose()


def _run(data_dir: Path, *args: str, code: int = 0, **env: str) -> Any:
    result = CliRunner().invoke(
        cli, ["storage", *args, "--data-dir", str(data_dir), "--json"], env={**CLEAN_ENV, **env}
    )
    assert result.exit_code == code, (result.output, result.exception)
    return json.loads(result.stdout)


def test_stats_and_a_clean_check(data_dir: Path) -> None:
    [company] = _run(data_dir, "stats")["Companies"]
    assert company["BackupFiles"] == 2 and company["Chunks"] > 0
    report = _run(data_dir, "check", "--read-data")
    assert report["Ok"] is True and report["Manifests"] == 2
    assert _run(data_dir, "check", "--company", "1")["Companies"] == 0


def test_damage_exits_1_with_the_files_it_affects(data_dir: Path) -> None:
    store: Store = server_store(data_dir, f"sqlite:///{data_dir / 'cleverfox.db'}")
    with store.db.reading() as session:
        name = session.scalars(select(StoragePack.name).order_by(StoragePack.id)).first()
    store.db.dispose()
    assert name is not None
    (data_dir / "storage" / name).unlink()
    report = _run(data_dir, "check", code=1)
    assert report["Ok"] is False
    assert {d["Problem"] for d in report["DamagedChunks"]} == {"its pack is missing"}
    assert all(d["BackupFiles"] for d in report["DamagedChunks"])


def test_gc_runs_a_pass(data_dir: Path) -> None:
    report = _run(data_dir, "gc", CLEVERFOX_STORAGE_GC_GRACE="0")
    assert report["Ran"] is True and report["ChunksDeleted"] == 0


def test_a_missing_secret_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["storage", "stats", "--data-dir", str(tmp_path / "none")], env=CLEAN_ENV
    )
    assert result.exit_code == 1
    assert "secret" in result.output.lower()
