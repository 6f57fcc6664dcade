"""``cleverfox storage gc | check | stats``: the operator's view of backup storage.

Each command checks the secret file, opens the (migrated) database and the backend the
settings name (``--storage-url``, the ``CLEVERFOX_S3_*`` variables), calls one function of
``server.storage`` and prints. They run beside serving processes: a GC pass takes the same
lock as the ``storage-gc`` duty, the check and the stats only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import click

from cleverfox.cli.operator.context import (
    Operator,
    OperatorGroup,
    data_options,
    emit,
    json_option,
    pass_operator,
    setting_option,
)
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import SecretFileError, ServerSecret, read_secret
from cleverfox.server.storage.check import CheckReport, check_storage
from cleverfox.server.storage.gc import GarbageCollector, gc_lock_file, run_gc
from cleverfox.server.storage.stats import storage_stats
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.backends.opening import open_backend

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Opened:
    db: Database
    backend: Backend
    secret: ServerSecret


def storage_options(func: F) -> F:
    func = setting_option(
        "--storage-url",
        envvar="CLEVERFOX_STORAGE_URL",
        help="file:///path or s3://bucket/prefix (default: storage/ in the data directory).",
    )(func)
    return data_options(func)


@click.group(cls=OperatorGroup)
def storage() -> None:
    """Backup storage: garbage collection, integrity check, statistics."""


@storage.command("gc")
@storage_options
@json_option
@pass_operator
def storage_gc(operator: Operator, as_json: bool) -> None:
    """Run one garbage collection pass now (the storage-gc duty runs one every hour).

    Deleted files' chunks go once unreferenced for CLEVERFOX_STORAGE_GC_GRACE seconds
    (default a day); packs mostly garbage are rewritten. Does nothing while another
    process runs a pass.

    \b
    Example:
      cleverfox storage gc --data-dir /var/lib/cleverfox --json
    """
    settings = operator.settings

    def collect(opened: Opened) -> dict[str, Any]:
        grace = timedelta(seconds=settings.storage_gc_grace)
        collector = GarbageCollector(opened.db, opened.backend, opened.secret, grace=grace)
        return run_gc(collector, gc_lock_file(settings), utcnow()).as_dict()

    result = _opened(operator, collect)
    if not result["Ran"]:
        emit(result, as_json, "Another process is running a garbage collection pass; try later.")
        return
    emit(result, as_json, "\n".join(f"{key}: {value}" for key, value in result.items()))


@storage.command("check")
@storage_options
@json_option
@click.option("--read-data", is_flag=True, help="Read, decrypt and verify every stored piece.")
@click.option("--company", "company_id", type=click.IntRange(min=1), help="Check one company.")
@pass_operator
def storage_check(
    operator: Operator, as_json: bool, read_data: bool, company_id: int | None
) -> None:
    """Check that every backup file's chunks are indexed and stored; exit 1 on damage.

    Without --read-data: manifests, the index and pack trailers. With it, every piece is
    read back and hashed to its id as well (reads all stored data).

    \b
    Example:
      cleverfox storage check --read-data --json
    """
    report = _opened(
        operator,
        lambda o: check_storage(
            o.db, o.backend, o.secret, read_data=read_data, company_id=company_id
        ),
    )
    emit(report.as_dict(), as_json, _check_text(report))
    if not report.ok:
        raise SystemExit(1)


@storage.command("stats")
@storage_options
@json_option
@pass_operator
def storage_stats_command(operator: Operator, as_json: bool) -> None:
    """Per company: stored bytes, chunks, packs, deduplication ratio, garbage waiting.

    \b
    Example:
      cleverfox storage stats --json
    """
    rows = _opened(operator, lambda o: storage_stats(o.db))
    lines = [
        f"Company {r['CompanyId']}: {r['StoredBytes']} bytes stored in {r['Chunks']} chunks, "
        f"{r['Packs']} packs; {r['BackupFiles']} backup files of {r['LogicalBytes']} bytes "
        f"(ratio {r['DedupRatio']}); garbage waiting: {r['UnreferencedChunks']} chunks, "
        f"{r['RetiredPacks']} retired packs, {r['FilesToRelease']} files to release"
        for r in rows
    ]
    emit({"Companies": rows}, as_json, "\n".join(lines) or "Nothing is stored yet.")


def _check_text(report: CheckReport) -> str:
    head = (
        f"Checked {report.companies} companies, {report.manifests} backup files, "
        f"{report.chunks} chunks in {report.packs} packs"
        + (f", {report.bytes_read} bytes read." if report.read_data else ".")
    )
    if report.ok:
        return head + "\nNo damage found."
    lines = [head]
    for file in report.damaged_files:
        lines.append(f"Backup file of Log Item {file.log_item_id}: {file.problem}")
    for chunk in report.damaged_chunks:
        items = ", ".join(str(f["LogItemId"]) for f in chunk.files) or "none"
        lines.append(f"Chunk {chunk.chunk_id}: {chunk.problem} (Log Items: {items})")
    return "\n".join(lines)


def _opened(operator: Operator, action: Callable[[Opened], R]) -> R:
    """Check the secret file, open the database and the backend, run ``action``, close."""
    settings = operator.settings
    try:
        secret = read_secret(settings.secret_key_path)
    except SecretFileError as exc:
        raise click.ClickException(str(exc)) from None
    db = operator.open_database()
    try:
        return action(Opened(db, open_backend(settings), secret))
    except BackendError as exc:
        raise click.ClickException(f"storage is not available: {exc}") from None
    finally:
        db.dispose()


def command(name: str) -> click.Command:
    """The command ``name`` of this module (``cli.lazy``)."""
    return {"storage": storage}[name]
