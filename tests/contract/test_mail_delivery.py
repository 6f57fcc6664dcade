"""Mail leaves a real ``cleverfox serve`` started with ``--smtp-url``: a new user's invitation
arrives at a real SMTP server on loopback within seconds, recorded as sent, once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from tests.support.server import (
    Partner,
    ServerProcess,
    free_port,
    postgres_database,
    start_server,
    stop_server,
)

from cleverfox.server.kit.db import Database
from cleverfox.server.models import Mail

LOOPBACK = "127.0.0.1"
NOTIFICATION_SENT = 70
ARRIVAL_TIMEOUT = 20.0  # the mail duty runs every 5 s


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every mail it accepts: (envelope recipients, message)."""

    port: int = 0
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(bytes(envelope.content), policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]

    def wait_for(self, address: str, timeout: float = ARRIVAL_TIMEOUT) -> EmailMessage:
        """The first mail to ``address``; fails the test when none arrives in ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self.to(address):
            assert time.monotonic() < deadline, f"no mail to {address} within {timeout} s"
            time.sleep(0.1)
        return self.to(address)[0]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    handler = Inbox(port=free_port())
    controller = Controller(handler, hostname=LOOPBACK, port=handler.port)
    controller.start()
    yield handler
    controller.stop()


@contextmanager
def own_database(database_url: str | None) -> Iterator[str | None]:
    """A PostgreSQL database of this module's own (so the session's server, sending to its
    outbox, never takes these rows); SQLite lives in the server's data directory anyway."""
    if database_url is None:
        yield None
        return
    with postgres_database(database_url.rsplit("/", 1)[0]) as url:
        yield url


@pytest.fixture(scope="module")
def mailing_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, inbox: Inbox
) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp("mailing-server")
    smtp_url = f"smtp://{LOOPBACK}:{inbox.port}"
    with own_database(database_url) as url:
        process = start_server(data_dir, url, "--rate-limit", "0", "--smtp-url", smtp_url)
        yield process
        stop_server(process)


@pytest.fixture
def mailing_partner(mailing_server: ServerProcess) -> Iterator[Partner]:
    made = mailing_server.new_partner("Mailing Partner")
    yield made
    made.client.close()


def mails_to(server: ServerProcess, address: str) -> list[Mail]:
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.reading() as session:
            found = list(session.scalars(select(Mail).where(Mail.to_addresses == address)))
            session.expunge_all()
    finally:
        db.dispose()
    return found


def test_a_new_partner_user_gets_the_invitation_mail(
    mailing_server: ServerProcess, mailing_partner: Partner, inbox: Inbox
) -> None:
    email = f"ivy.{secrets.token_hex(4)}@example.com"
    created = mailing_partner.client.post(
        "/api/partnerusers",
        json={
            "PartnerId": mailing_partner.partner_id,
            "FirstName": "Ivy",
            "LastName": "Invitee",
            "Email": email,
        },
    )
    assert created.status_code == 201, created.text

    message = inbox.wait_for(email)
    [row] = mails_to(mailing_server, email)
    assert message["Message-ID"] == row.message_id
    assert message["To"] == email
    assert "Mailing Partner" in str(message["Subject"])
    assert "Ivy" in message.get_content()
    assert row.sent_at is not None and row.attempts == 1
    time.sleep(1)  # a later round of the duty sends nothing again
    assert len(inbox.to(email)) == 1
    sent = mailing_partner.client.get("/api/events", params={"EventTypeId": NOTIFICATION_SENT})
    assert sent.status_code == 200
    assert [e["PartnerId"] for e in sent.json()["data"]] == [mailing_partner.partner_id]


def test_a_new_company_user_gets_the_invitation_mail(
    mailing_server: ServerProcess, mailing_partner: Partner, inbox: Inbox
) -> None:
    email = f"cora.{secrets.token_hex(4)}@example.com"
    created = mailing_partner.client.post(
        "/api/companyusers",
        json={
            "CompanyId": mailing_partner.company_id,
            "FirstName": "Cora",
            "LastName": "Customer",
            "Email": email,
        },
    )
    assert created.status_code == 201, created.text

    message = inbox.wait_for(email)
    [row] = mails_to(mailing_server, email)
    assert message["Message-ID"] == row.message_id
    assert "Cora" in message.get_content()
