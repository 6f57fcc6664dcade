"""Backing up one job item, keeping local copies, and restoring (the agent's ``backup`` part).

The runner (``agent.core``) calls, per job item of a run::

    back_up_item(ctx: ItemContext) -> ItemResult

File items (EngineId ``FILE``) walk BaseFolder (``walk``, ``patterns``); database items go
through ``cleverfox.agent.db.open_dump``. Either way the files go through one chunk pipeline
(``pipeline``: the files cache, worker processes, only missing chunks compressed and sent)
to the server (``ctx.uploader``, CloudKeepLast > 0) and/or to the job's local store
(``local_store``, LocalKeepLast > 0), then the manifest is committed — to the server
first, then locally — and the files cache is kept. ``ItemResult.log_item`` holds the finish's
LogItems entry: the server's file attributes when it has a cloud copy, else those computed
locally (the archive is a pure function of the manifest, so the sizes are the ones the
server would compute).

The CLI calls ``restore(...)`` and ``list_copies(...)`` (``restore``); their docstrings
state their contracts. Nothing here raises out of ``back_up_item``: every problem is an
``errors`` line (the item failed) or a ``warnings`` line (a file skipped).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cleverfox.agent.backup.files_cache import FilesCache
from cleverfox.agent.backup.local_store import ItemBinding, LocalStore, StoreError
from cleverfox.agent.backup.patterns import rules_of
from cleverfox.agent.backup.pipeline import Cancelled, Pipeline
from cleverfox.agent.backup.restore import list_copies, restore
from cleverfox.agent.backup.spool import EntrySpool
from cleverfox.agent.backup.tee import TeeUploader
from cleverfox.agent.backup.walk import walk
from cleverfox.agent.model import Committed, ItemContext, ItemResult, ManifestEntry, Uploader
from cleverfox.storage.errors import StorageError
from cleverfox.storage.manifest import normalise_extensions

__all__ = [
    "FILE_ENGINE",
    "back_up_item",
    "engine_of",
    "list_copies",
    "local_store_folder",
    "restore",
]

FILE_ENGINE = "FILE"


def local_store_folder(ctx: ItemContext) -> Path:
    """The job's ArchiveFolder: the Log's (relative to the agent's data folder) or its
    default, ``archive/job-{JobId}``."""
    folder = Path(str(ctx.job.get("ArchiveFolder") or f"archive/job-{ctx.job.get('JobId')}"))
    return folder if folder.is_absolute() else ctx.state_dir / folder


def engine_of(item: Mapping[str, Any]) -> str:
    """The item's EngineId: its own, its BackupType's, or ``FILE`` for BackupTypeId 1 (the
    catalogue's fixed row) or none given."""
    backup_type = item.get("BackupType")
    engine = item.get("EngineId") or (
        backup_type.get("EngineId") if isinstance(backup_type, Mapping) else None
    )
    if engine:
        return str(engine).upper()
    return FILE_ENGINE if item.get("BackupTypeId") in (None, 1) else f"type {item['BackupTypeId']}"


def back_up_item(ctx: ItemContext) -> ItemResult:
    """Back up one job item of the Log ``ctx.log_id``; never raises for a backup problem."""
    job_item_id = int(ctx.item["JobItemId"])
    result = ItemResult(ok=False, log_item={"JobItemId": job_item_id})
    local_keep = int(ctx.job.get("LocalKeepLast") or 0)
    if ctx.uploader is None and local_keep <= 0:
        result.errors.append("the job keeps no copies (CloudKeepLast and LocalKeepLast are 0)")
        return result
    try:
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            store = None
            if local_keep > 0:
                store = stack.enter_context(
                    LocalStore(local_store_folder(ctx), id_key=ctx.storage.id_key)
                )
            _back_up(ctx, result, store, stack)
            if store is not None:
                store.prune(job_item_id, local_keep)
    except Cancelled:
        result.ok = False
        result.errors.append("the run was cancelled")
    except (StoreError, StorageError, OSError) as error:
        result.ok = False
        result.errors.append(f"{ctx.item.get('Name') or job_item_id}: {_message(error)}")
    except Exception as error:  # the client's refusals (storage_limit_reached, …) and the rest
        result.ok = False
        result.errors.append(f"{ctx.item.get('Name') or job_item_id}: {_message(error)}")
    return result


def _back_up(
    ctx: ItemContext, result: ItemResult, store: LocalStore | None, stack: contextlib.ExitStack
) -> None:
    extensions = normalise_extensions(str(ctx.item.get("NoCompressExtensions") or ""))
    target: Uploader
    tee = None
    if ctx.uploader is not None and store is not None:
        target = tee = TeeUploader(ctx.uploader, store)
    else:
        target = ctx.uploader or store  # type: ignore[assignment]
    pipeline = stack.enter_context(
        Pipeline(
            ctx.storage,
            target,
            extensions=extensions,
            progress=ctx.progress,
            warn=result.warnings.append,
            cancel=ctx.cancel,
        )
    )
    spool = stack.enter_context(EntrySpool(ctx.state_dir))
    cache = None
    if engine_of(ctx.item) == FILE_ENGINE:
        cache = stack.enter_context(
            FilesCache(ctx.state_dir, int(ctx.item["JobItemId"]), ctx.storage)
        )
        _walk_files(ctx, result, pipeline, spool, cache, store)
    else:
        _dump_database(ctx, result, pipeline, spool)
    committed = _commit(ctx, store, spool, extensions)
    result.log_item.update(_file_attributes(committed, store))
    if cache is not None:
        cache.commit()
    result.bytes_uploaded = (
        tee.cloud_bytes if tee else (0 if ctx.uploader is None else pipeline.stats.bytes_sent)
    )
    result.ok = True


def _walk_files(
    ctx: ItemContext,
    result: ItemResult,
    pipeline: Pipeline,
    spool: EntrySpool,
    cache: FilesCache,
    store: LocalStore | None,
) -> None:
    base = str(ctx.item.get("BaseFolder") or "")
    if not base:
        raise StoreError("the item has no BaseFolder")
    rules = rules_of(ctx.item, base)
    # Never the agent's own moving parts, should BaseFolder contain them.
    skip = [str(ctx.state_dir)] + ([str(store.root)] if store is not None else [])
    found = walk(
        base,
        rules,
        include_subfolders=bool(ctx.item.get("IncludeSubFolders", True)),
        warn=result.warnings.append,
        skip_folders=skip,
    )
    try:
        pipeline.back_up_files(found, spool, cache)
    except FileNotFoundError:
        raise StoreError(f"BaseFolder {base} does not exist") from None
    except NotADirectoryError:
        raise StoreError(f"BaseFolder {base} is not a folder") from None
    except PermissionError:
        raise StoreError(f"BaseFolder {base} cannot be read: permission denied") from None


def _dump_database(
    ctx: ItemContext, result: ItemResult, pipeline: Pipeline, spool: EntrySpool
) -> None:
    from cleverfox.agent.db import open_dump

    work_dir = ctx.state_dir / "dumps"
    work_dir.mkdir(parents=True, exist_ok=True)
    with open_dump(ctx.item, work_dir=work_dir) as dump:
        pipeline.back_up_streams(dump.files(), spool)
        result.log_item["ServerVersion"] = dump.server_version
        result.log_item["ServerEdition"] = dump.server_edition


def _commit(
    ctx: ItemContext, store: LocalStore | None, spool: EntrySpool, extensions: Sequence[str]
) -> tuple[Committed | None, Committed | None]:
    job_item_id = int(ctx.item["JobItemId"])
    # The server first: a refused commit (storage_limit_reached…) fails the item before a
    # local copy of it exists, so a failed run never takes a good copy's place locally.
    cloud = None
    if ctx.uploader is not None:
        cloud = ctx.uploader.commit_files(ctx.log_id, job_item_id, _entries(spool))
    local = None
    if store is not None:
        store.bind(
            ItemBinding(
                job_id=_int_or_none(ctx.job.get("JobId")),
                job_name=str(ctx.job.get("Name") or ""),
                item_name=str(ctx.item.get("Name") or ""),
                started_on=ctx.started_on,
                time_zone=ctx.time_zone,
                extensions=tuple(extensions),
            )
        )
        local = store.commit_files(ctx.log_id, job_item_id, spool.manifest_entries())
        log_item_id = _int_or_none(cloud.log_item.get("LogItemId")) if cloud else None
        copy = store.find_copy(log_id=ctx.log_id, job_item_id=job_item_id)
        if copy is not None and log_item_id is not None:
            store.set_log_item_id(copy.copy_id, log_item_id)
    return local, cloud


def _entries(spool: EntrySpool) -> Iterator[ManifestEntry]:
    return spool.manifest_entries()


_FILE_ATTRIBUTES = (
    "BackupFileName",
    "BackupFileSize",
    "BackupListName",
    "BackupListSize",
    "BackupListCount",
)


def _file_attributes(
    committed: tuple[Committed | None, Committed | None], store: LocalStore | None
) -> dict[str, Any]:
    local, cloud = committed
    chosen: Mapping[str, Any] = (cloud or local or Committed({})).log_item
    attributes = {key: chosen.get(key) for key in _FILE_ATTRIBUTES if key in chosen}
    attributes["BackupFolder"] = str(store.archive_folder) if store is not None else None
    return attributes


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _message(error: BaseException) -> str:
    text = str(error).strip()
    return text or type(error).__name__
