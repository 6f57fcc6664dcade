"""The outbox dispatcher against the real database (SQLite, or PostgreSQL when the run has
one) and a real SMTP server on loopback: what arrives, once, and what the rows then say."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Select, delete, select
from tests.support.server import postgres_database

from cleverfox.server import migrate
from cleverfox.server.duties.registry import server_duties
from cleverfox.server.duties.runner import DutyRunner
from cleverfox.server.kit.db import Database
from cleverfox.server.mail import MAX_ATTEMPTS, new_message_id, transport_from_settings
from cleverfox.server.mail.dispatch import dispatch_due_mail, mail_duty
from cleverfox.server.mail.transport import MailTransport
from cleverfox.server.models import Event, Log, Mail
from cleverfox.settings import Settings

T = TypeVar("T")
StartServer = Callable[..., Any]

NOW = datetime(2024, 3, 1, 12, 0)
SENDER = "CleverFox Backup <noreply@cleverfox.example>"
PARTNER_ID = 7
SENT, FAILED = 70, 71


# --- the database ------------------------------------------------------------------------


@contextmanager
def fresh_database(database_url: str | None, directory: Path) -> Iterator[Database]:
    """A migrated database of its own: no running server's dispatcher shares its rows."""
    if database_url is None:
        db = Database(f"sqlite:///{directory / 'dispatch.db'}", pool_size=4)
        migrate.upgrade(db.engine)
        yield db
        db.dispose()
        return
    with postgres_database(database_url.rsplit("/", 1)[0]) as url:
        db = Database(url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=4)
        migrate.upgrade(db.engine)
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def module_db(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    with fresh_database(database_url, tmp_path_factory.mktemp("dispatch")) as db:
        yield db


@pytest.fixture
def db(module_db: Database) -> Database:
    """The module's database with no mails, logs or events left by an earlier test."""
    with module_db.writing() as session:
        for model in (Mail, Log, Event):
            session.execute(delete(model))
    return module_db


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, mail_from=SENDER)


def rows(db: Database, stmt: Select[T]) -> list[T]:
    with db.reading() as session:
        found = list(session.scalars(stmt))
        session.expunge_all()
    return found


def the_mail(db: Database, mail_id: int) -> Mail:
    [mail] = rows(db, select(Mail).where(Mail.id == mail_id))
    return mail


def events(db: Database) -> list[Event]:
    return rows(db, select(Event).order_by(Event.id))


def add_mail(db: Database, **overrides: Any) -> Mail:
    values: dict[str, Any] = {
        "partner_id": PARTNER_ID,
        "kind": "invitation",
        "log_id": None,
        "message_id": new_message_id("cleverfox.example"),
        "to_addresses": "ops@example.com",
        "subject": "[CleverFox Backup] You have been added to Acme",
        "body": "Hello Ivy,\n",
        "attempts": 0,
        "next_attempt_at": NOW,
        "added_on": NOW - timedelta(minutes=5),
    }
    values.update(overrides)
    with db.writing() as session:
        mail = Mail(**values)
        session.add(mail)
    return mail


def add_log(db: Database, **overrides: Any) -> Log:
    values: dict[str, Any] = {
        "partner_id": PARTNER_ID,
        "company_id": 11,
        "device_id": 22,
        "job_id": 33,
        "time_zone_id": "W. Europe Standard Time",
        "iana_time_zone_id": "Europe/Berlin",
        "name": "Nightly",
        "job_status": "Failed",
        "added_on": NOW,
    }
    values.update(overrides)
    with db.writing() as session:
        log = Log(**values)
        session.add(log)
    return log


def smtp_transport(server: Any) -> MailTransport:
    return transport_from_settings(f"smtp://{server.host}:{server.port}", Path("unused"))


def message_ids(server: Any) -> list[str]:
    return [str(received.message["Message-ID"]) for received in server.handler.received]


# --- delivery ----------------------------------------------------------------------------


def test_a_due_row_is_delivered_once_with_its_message_id(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    mail = add_mail(
        db,
        to_addresses="ops@example.com; lead@example.com",
        cc_addresses="audit@example.com",
        bcc_addresses="hidden@example.org",
    )
    transport = smtp_transport(server)

    assert dispatch_due_mail(db, transport, settings, NOW) == 1
    assert dispatch_due_mail(db, transport, settings, NOW + timedelta(hours=1)) == 0

    [received] = server.handler.received
    message: EmailMessage = received.message
    assert message["Message-ID"] == mail.message_id
    assert received.mail_from == "noreply@cleverfox.example"
    assert received.rcpt_tos == [
        "ops@example.com",
        "lead@example.com",
        "audit@example.com",
        "hidden@example.org",
    ]
    assert message["To"] == "ops@example.com, lead@example.com"
    assert message["Cc"] == "audit@example.com"
    assert message["Bcc"] is None and b"hidden@example.org" not in received.raw
    assert message["From"] == SENDER
    assert message["Subject"] == mail.subject
    assert message.get_content().replace("\r\n", "\n") == mail.body
    sent = the_mail(db, mail.id)
    assert (sent.sent_at, sent.failed_at, sent.attempts) == (NOW, None, 1)
    [event] = events(db)
    assert (event.event_type_id, event.actor, event.partner_id) == (SENT, "Server", PARTNER_ID)


def test_only_due_rows_are_sent(db: Database, smtp_server: StartServer, settings: Settings) -> None:
    server = smtp_server()
    due = add_mail(db)
    add_mail(db, next_attempt_at=NOW + timedelta(seconds=1))
    add_mail(db, sent_at=NOW - timedelta(hours=1))
    add_mail(db, failed_at=NOW - timedelta(hours=1))

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 1
    assert message_ids(server) == [due.message_id]


def test_rows_are_sent_oldest_due_first_in_batches(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    later = add_mail(db, next_attempt_at=NOW - timedelta(minutes=1))
    earlier = add_mail(db, next_attempt_at=NOW - timedelta(minutes=2))
    last = add_mail(db)
    transport = smtp_transport(server)

    assert dispatch_due_mail(db, transport, settings, NOW, limit=2) == 2
    assert dispatch_due_mail(db, transport, settings, NOW, limit=2) == 1
    assert message_ids(server) == [earlier.message_id, later.message_id, last.message_id]


def test_concurrent_dispatchers_deliver_each_row_exactly_once(
    module_db: Database, db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    mails = [add_mail(db) for _ in range(60)]
    dispatchers = [Database(module_db.url, pool_size=2) for _ in range(4)]
    start = threading.Barrier(len(dispatchers))
    handled: list[int] = []

    def run(dispatcher: Database) -> None:
        start.wait()
        handled.append(dispatch_due_mail(dispatcher, smtp_transport(server), settings, NOW))

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for dispatcher in dispatchers:
        dispatcher.dispose()

    assert sorted(message_ids(server)) == sorted(m.message_id for m in mails)
    assert sum(handled) == len(mails)
    if not db.sqlite:  # SKIP LOCKED lets them work side by side, not one after the other
        assert sum(1 for count in handled if count) > 1
    assert all(m.sent_at == NOW and m.attempts == 1 for m in rows(db, select(Mail)))
    assert len([e for e in events(db) if e.event_type_id == SENT]) == len(mails)


class Crash(BaseException):
    """The process dies: nothing after it runs, the transaction is never committed."""


class CrashAfterAcceptance:
    def __init__(self, inner: MailTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise Crash


def test_a_crash_after_acceptance_repeats_that_mail_once_with_its_message_id(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    mail = add_mail(db)
    transport = smtp_transport(server)

    with pytest.raises(Crash):
        dispatch_due_mail(db, CrashAfterAcceptance(transport), settings, NOW)
    assert the_mail(db, mail.id).sent_at is None  # the mark died with the process
    assert dispatch_due_mail(db, transport, settings, NOW) == 1
    assert dispatch_due_mail(db, transport, settings, NOW) == 0

    assert message_ids(server) == [mail.message_id, mail.message_id]
    assert the_mail(db, mail.id).sent_at == NOW
    assert [e.event_type_id for e in events(db)] == [SENT]


# --- failures ----------------------------------------------------------------------------


def test_a_451_is_retried_with_backoff_and_then_delivered(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    server.handler.data_reply = "451 4.3.0 Try again later"
    mail = add_mail(db)
    transport = smtp_transport(server)

    assert dispatch_due_mail(db, transport, settings, NOW) == 1
    first = the_mail(db, mail.id)
    assert (first.attempts, first.next_attempt_at) == (1, NOW + timedelta(minutes=1))
    assert first.last_error is not None and "451" in first.last_error
    assert (first.sent_at, first.failed_at) == (None, None)
    assert dispatch_due_mail(db, transport, settings, NOW + timedelta(seconds=59)) == 0

    retry_at = NOW + timedelta(minutes=1)
    assert dispatch_due_mail(db, transport, settings, retry_at) == 1
    second = the_mail(db, mail.id)
    assert (second.attempts, second.next_attempt_at) == (2, retry_at + timedelta(minutes=2))

    server.handler.data_reply = None
    assert dispatch_due_mail(db, transport, settings, retry_at + timedelta(minutes=2)) == 1
    delivered = the_mail(db, mail.id)
    assert (delivered.attempts, delivered.sent_at) == (3, retry_at + timedelta(minutes=2))
    assert message_ids(server) == [mail.message_id]
    assert [e.event_type_id for e in events(db)] == [SENT]


def test_retryable_failures_are_given_up_after_the_last_attempt(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    server.handler.data_reply = "451 4.3.0 Try again later"
    mail = add_mail(db, attempts=MAX_ATTEMPTS - 1)

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 1
    given_up = the_mail(db, mail.id)
    assert (given_up.attempts, given_up.failed_at, given_up.sent_at) == (MAX_ATTEMPTS, NOW, None)
    [event] = events(db)
    assert (event.event_type_id, event.actor, event.partner_id) == (FAILED, "Server", PARTNER_ID)


def test_a_550_fails_the_row_at_once_with_notification_failed(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    server.handler.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"
    mail = add_mail(db, to_addresses="gone@example.com")
    transport = smtp_transport(server)

    assert dispatch_due_mail(db, transport, settings, NOW) == 1
    assert dispatch_due_mail(db, transport, settings, NOW + timedelta(days=1)) == 0
    failed = the_mail(db, mail.id)
    assert (failed.attempts, failed.failed_at, failed.sent_at) == (1, NOW, None)
    assert failed.last_error is not None and "550" in failed.last_error
    assert server.handler.received == []
    assert [(e.event_type_id, e.partner_id) for e in events(db)] == [(FAILED, PARTNER_ID)]


def test_a_row_that_makes_no_valid_mail_fails_without_blocking_the_rest(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    broken = add_mail(
        db, subject="Hello\r\nBcc: everyone@example.com", next_attempt_at=NOW - timedelta(minutes=1)
    )
    fine = add_mail(db)

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 2
    assert the_mail(db, broken.id).failed_at == NOW
    assert message_ids(server) == [fine.message_id]


# --- job results -------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["completed", "failed", "missed"])
def test_a_job_result_mail_sets_its_logs_processed_on(
    db: Database, smtp_server: StartServer, settings: Settings, outcome: str
) -> None:
    server = smtp_server()
    log = add_log(db, job_status=outcome.capitalize())
    add_mail(db, kind=f"job_{outcome}", log_id=log.id)

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 1
    [stored] = rows(db, select(Log).where(Log.id == log.id))
    processed = {
        name: getattr(stored, f"notification_job_{name}_processed_on")
        for name in ("completed", "failed", "missed")
    }
    assert processed == {name: NOW if name == outcome else None for name in processed}
    [event] = events(db)
    assert (
        event.event_type_id,
        event.log_id,
        event.company_id,
        event.device_id,
        event.job_id,
        event.partner_id,
    ) == (SENT, log.id, 11, 22, 33, PARTNER_ID)


def test_a_failed_job_result_mail_leaves_processed_on_unset(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    server.handler.data_reply = "554 5.6.0 Message rejected"
    log = add_log(db)
    add_mail(db, kind="job_failed", log_id=log.id)

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 1
    [stored] = rows(db, select(Log).where(Log.id == log.id))
    assert stored.notification_job_failed_processed_on is None
    [event] = events(db)
    assert (event.event_type_id, event.log_id, event.device_id) == (FAILED, log.id, 22)


def test_a_mail_whose_log_is_gone_is_still_sent(
    db: Database, smtp_server: StartServer, settings: Settings
) -> None:
    server = smtp_server()
    mail = add_mail(db, kind="job_missed", log_id=987654)

    assert dispatch_due_mail(db, smtp_transport(server), settings, NOW) == 1
    assert message_ids(server) == [mail.message_id]
    [event] = events(db)
    assert (event.event_type_id, event.log_id, event.device_id) == (SENT, 987654, None)


# --- outbox mode and the duty ------------------------------------------------------------


def test_without_smtp_each_row_becomes_one_eml_file(db: Database, settings: Settings) -> None:
    mails = [add_mail(db) for _ in range(3)]
    transport = transport_from_settings(None, settings.outbox_dir)

    assert dispatch_due_mail(db, transport, settings, NOW) == 3
    assert dispatch_due_mail(db, transport, settings, NOW) == 0
    files = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(files) == 3
    contents = b"".join(path.read_bytes() for path in files)
    assert all(m.message_id.encode() in contents for m in mails)
    assert all(m.sent_at == NOW for m in rows(db, select(Mail)))


def test_the_server_runs_the_mail_duty(
    db: Database, smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server()
    settings = Settings(
        data_dir=tmp_path, mail_from=SENDER, smtp_url=f"smtp://{server.host}:{server.port}"
    )
    [duty] = [d for d in server_duties(settings) if d.name == "mail"]
    mails = [add_mail(db) for _ in range(3)]

    runner = DutyRunner(db, [duty], clock=lambda: NOW)
    assert runner.drain(duty) == 3
    assert sorted(message_ids(server)) == sorted(m.message_id for m in mails)


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"smtp_url": "http://mail.example.com"}, "SMTP URL"), ({"mail_from": "nobody"}, "mail-from")],
)
def test_a_misconfigured_mail_duty_fails_at_start_up(
    tmp_path: Path, options: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        mail_duty(Settings(data_dir=tmp_path, **options))  # type: ignore[arg-type]
