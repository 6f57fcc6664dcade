"""The outbox: one whole .eml file per Message-ID, for servers without SMTP."""

from __future__ import annotations

import email
import threading
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from cleverfox.server.mail import MailDeliveryError, OutboxTransport

NOW = datetime(2024, 3, 1, 2, 0, 0, 123456, tzinfo=UTC)


def mail(message_id: str = "<abc.1@cleverfox.example>") -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["From"] = "noreply@cleverfox.example"
    message["To"] = "ops@example.com"
    message["Bcc"] = "hidden@example.org"
    message["Subject"] = "Hello"
    message.set_content("Body\n")
    return message


def test_the_file_is_named_by_time_and_message_id(tmp_path: Path) -> None:
    OutboxTransport(tmp_path / "outbox", clock=lambda: NOW).send(mail())
    [path] = (tmp_path / "outbox").iterdir()
    assert path.name == "20240301T020000123456Z-abc.1@cleverfox.example.eml"


def test_the_file_holds_the_whole_mail_bcc_included(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).send(mail())
    [path] = tmp_path.iterdir()
    stored = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert stored["Message-ID"] == "<abc.1@cleverfox.example>"
    assert stored["Bcc"] == "hidden@example.org"
    assert stored.get_content() == "Body\n"


def test_the_same_message_id_makes_one_file(tmp_path: Path) -> None:
    clock = iter([NOW, NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)])
    outbox = OutboxTransport(tmp_path, clock=lambda: next(clock))
    outbox.send(mail())
    outbox.send(mail())
    OutboxTransport(tmp_path).send(mail())  # another process, after a restart
    assert [p.name for p in tmp_path.iterdir()] == [
        "20240301T020000123456Z-abc.1@cleverfox.example.eml"
    ]


def test_different_message_ids_make_different_files(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path, clock=lambda: NOW)
    for message_id in ["<a@x.example>", "<b@x.example>", "<x-a@x.example>"]:
        outbox.send(mail(message_id))
    assert len(list(tmp_path.iterdir())) == 3


def test_a_message_id_ending_like_another_is_not_mistaken_for_it(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    outbox.send(mail("<x-a@x.example>"))
    outbox.send(mail("<a@x.example>"))
    assert len(list(tmp_path.iterdir())) == 2


def test_concurrent_sends_of_one_message_id_leave_one_file(tmp_path: Path) -> None:
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        OutboxTransport(tmp_path).send(mail())

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([p for p in tmp_path.iterdir() if p.suffix == ".eml"]) == 1
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".eml"]


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).send(mail())
    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_an_unwritable_outbox_is_a_retryable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(MailDeliveryError) as caught:
        OutboxTransport(blocker).send(mail())
    assert caught.value.retryable


def test_a_mail_without_message_id_is_a_bug(tmp_path: Path) -> None:
    message = mail()
    del message["Message-ID"]
    with pytest.raises(ValueError, match="Message-ID"):
        OutboxTransport(tmp_path).send(message)
