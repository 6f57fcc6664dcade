"""Retention of cloud copies and the deletes of a job, device or company, on real stores."""

from __future__ import annotations

from sqlalchemy import select
from tests.support.stored import Run, Store, add_run, new_ids, store_backup

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import Actor, EventKind
from cleverfox.server.logs.schemas import COMPLETED, FAILED
from cleverfox.server.models import Event, Log, StorageManifest
from cleverfox.server.storage.retention import (
    apply_retention,
    release_company_files,
    release_device_files,
    release_job_files,
)


def _runs(store: Store, statuses: list[str], keep: int, job: int | None = None) -> list[Run]:
    partner, company, device, new_job = new_ids()
    made = []
    for number, status in enumerate(statuses):
        with store.db.writing() as session:
            run = add_run(
                session,
                partner,
                company,
                device,
                job or new_job,
                status=status,
                cloud_keep_last=keep,
            )
        store_backup(store, run, {"a.txt": b"same in every run " * 20, "n.txt": b"%d" % number})
        made.append(run)
    return made


def _retain(store: Store, run: Run) -> int:
    with store.db.writing() as session:
        log = session.get(Log, run.log_id)
        assert log is not None
        return apply_retention(session, log, utcnow())


def _live(store: Store, runs: list[Run]) -> list[bool]:
    with store.db.reading() as session:
        deleted = dict(
            session.execute(
                select(StorageManifest.log_id, StorageManifest.deleted_on).where(
                    StorageManifest.log_id.in_([r.log_id for r in runs])
                )
            ).all()
        )
    return [deleted[r.log_id] is None for r in runs]


def _deleted_events(store: Store, run: Run) -> list[tuple[int | None, int | None, str]]:
    with store.db.reading() as session:
        rows = session.execute(
            select(Event.log_id, Event.log_item_id, Event.actor)
            .where(
                Event.event_type_id == int(EventKind.BACKUP_FILE_DELETED),
                Event.job_id == run.job_id,
            )
            .order_by(Event.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_completed_run_keeps_the_newest_cloud_keep_last_and_deletes_older(store: Store) -> None:
    runs = _runs(store, [COMPLETED] * 4, keep=2)
    assert _retain(store, runs[-1]) == 2
    assert _live(store, runs) == [False, False, True, True]
    assert _deleted_events(store, runs[0]) == [
        (runs[0].log_id, runs[0].log_item_id, "Server"),
        (runs[1].log_id, runs[1].log_item_id, "Server"),
    ]
    assert _retain(store, runs[-1]) == 0  # again: nothing more, no second Event
    assert len(_deleted_events(store, runs[0])) == 2


def test_a_failed_run_never_deletes_a_good_one(store: Store) -> None:
    runs = _runs(store, [COMPLETED, COMPLETED, FAILED], keep=1)
    assert _retain(store, runs[-1]) == 0  # a failed finish applies no retention
    assert _live(store, runs) == [True, True, True]


def test_failed_runs_newer_than_the_oldest_kept_keep_their_files(store: Store) -> None:
    runs = _runs(store, [FAILED, COMPLETED, FAILED, COMPLETED], keep=2)
    assert _retain(store, runs[-1]) == 1  # only the failed run older than both kept
    assert _live(store, runs) == [False, True, True, True]


def test_fewer_completed_runs_than_cloud_keep_last_delete_nothing(store: Store) -> None:
    runs = _runs(store, [COMPLETED, FAILED, COMPLETED], keep=3)
    assert _retain(store, runs[-1]) == 0
    assert _live(store, runs) == [True, True, True]


def test_cloud_keep_last_zero_keeps_no_cloud_copy(store: Store) -> None:
    runs = _runs(store, [COMPLETED, COMPLETED], keep=0)
    assert _retain(store, runs[-1]) == 2
    assert _live(store, runs) == [False, False]


def test_retention_touches_only_its_own_job(store: Store) -> None:
    first = _runs(store, [COMPLETED, COMPLETED], keep=1)
    other = _runs(store, [COMPLETED, COMPLETED], keep=1)
    assert _retain(store, first[-1]) == 1
    assert _live(store, first + other) == [False, True, True, True]


def test_deleting_a_job_device_or_company_deletes_its_files(store: Store) -> None:
    runs = _runs(store, [COMPLETED, FAILED], keep=5)
    now = utcnow()
    with store.db.writing() as session:
        assert release_job_files(session, runs[0].job_id, Actor.API, now) == 2
        assert release_job_files(session, runs[0].job_id, Actor.API, now) == 0
    assert _live(store, runs) == [False, False]
    assert [actor for *_, actor in _deleted_events(store, runs[0])] == ["Api", "Api"]
    on_device = _runs(store, [COMPLETED], keep=5)
    with store.db.writing() as session:
        assert release_device_files(session, on_device[0].device_id, Actor.API, now) == 1
    of_company = _runs(store, [COMPLETED], keep=5)
    with store.db.writing() as session:
        assert release_company_files(session, of_company[0].company_id, Actor.API, now) == 1
    assert _live(store, on_device + of_company) == [False, False]
