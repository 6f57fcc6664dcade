"""The job-result and invitation mails, as their recipients would read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cleverfox.server.mail import (
    InviteeKind,
    JobOutcome,
    JobResult,
    Recipients,
    invitation_message,
    job_result_message,
    new_message_id,
)

BERLIN = ZoneInfo("Europe/Berlin")
MESSAGE_ID = "<0f1e2d3c@cleverfox.example>"
SENDER = "CleverFox Backup <noreply@cleverfox.example>"
DATE = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)


def job_result(**overrides: Any) -> JobResult:
    fields: dict[str, Any] = {
        "company_name": "Acme Ltd",
        "device_name": "PC-01",
        "job_name": "Nightly",
        "outcome": JobOutcome.FAILED,
        "time_zone": BERLIN,
        "started_on": datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
        "completed_on": datetime(2024, 3, 1, 1, 5, 13, tzinfo=UTC),
        "error_messages": "Disk full\nCould not read C:\\Data\\locked.db\n",
    }
    return JobResult(**(fields | overrides))


def job_mail(result: JobResult | None = None, **overrides: Any) -> EmailMessage:
    arguments: dict[str, Any] = {
        "message_id": MESSAGE_ID,
        "sender": SENDER,
        "recipients": Recipients.from_lists("ops@example.com", "audit@example.com", "boss@x.org"),
        "date": DATE,
    }
    return job_result_message(result or job_result(), **(arguments | overrides))


def body(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


# --- job results ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [
        (JobOutcome.COMPLETED, "completed"),
        (JobOutcome.FAILED, "failed"),
        (JobOutcome.MISSED, "was missed"),
    ],
)
def test_subject_names_job_device_and_outcome(outcome: JobOutcome, ending: str) -> None:
    mail = job_mail(job_result(outcome=outcome))
    assert mail["Subject"] == f"[CleverFox Backup] Job 'Nightly' on PC-01 {ending}"


def test_headers_carry_what_the_caller_gave() -> None:
    mail = job_mail()
    assert mail["Message-ID"] == MESSAGE_ID
    assert mail["From"] == SENDER
    assert (mail["To"], mail["Cc"], mail["Bcc"]) == (
        "ops@example.com",
        "audit@example.com",
        "boss@x.org",
    )
    assert mail["Date"] == "Fri, 01 Mar 2024 02:00:00 +0000"
    assert mail["Auto-Submitted"] == "auto-generated"


def test_body_names_company_device_job_status_and_errors() -> None:
    text = body(job_mail())
    for line in [
        "Company:    Acme Ltd",
        "Device:     PC-01",
        "Job:        Nightly",
        "Status:     Failed",
        "  Disk full",
        "  Could not read C:\\Data\\locked.db",
    ]:
        assert line in text.splitlines()


def test_times_are_shown_in_the_devices_local_time() -> None:
    lines = body(job_mail()).splitlines()
    assert "Started:    2024-03-01 02:00:00 (Europe/Berlin)" in lines
    assert "Completed:  2024-03-01 02:05:13 (Europe/Berlin)" in lines


def test_times_follow_daylight_saving() -> None:
    result = job_result(started_on=datetime(2024, 3, 31, 1, 30, tzinfo=UTC), completed_on=None)
    assert "Started:    2024-03-31 03:30:00 (Europe/Berlin)" in body(job_mail(result))


def test_naive_times_are_already_local_and_the_label_is_the_devices() -> None:
    result = job_result(
        started_on=datetime(2024, 3, 1, 2, 0),
        completed_on=None,
        time_zone_label="W. Europe Standard Time",
    )
    text = body(job_mail(result))
    assert "Started:    2024-03-01 02:00:00 (W. Europe Standard Time)" in text
    assert "Completed:" not in text


def test_a_fixed_offset_zone_is_labelled_by_its_name() -> None:
    result = job_result(time_zone=timezone(timedelta(hours=-5), "EST"), completed_on=None)
    assert "Started:    2024-02-29 20:00:00 (EST)" in body(job_mail(result))


def test_missed_job_shows_when_it_was_due() -> None:
    result = job_result(
        outcome=JobOutcome.MISSED,
        scheduled_on=datetime(2024, 3, 1, 22, 0),
        started_on=None,
        completed_on=None,
        error_messages="",
        log_id=42,
    )
    text = body(job_mail(result))
    assert "Scheduled:  2024-03-01 22:00:00 (Europe/Berlin)" in text
    assert "Started:" not in text
    assert "Errors:" not in text
    assert "Log:        42" in text


def test_names_cannot_forge_headers_or_lines() -> None:
    result = job_result(job_name="Nightly\r\nBcc: thief@example.com", device_name="PC\n01")
    mail = job_mail(result)
    assert (
        mail["Subject"] == "[CleverFox Backup] Job 'Nightly Bcc: thief@example.com' on PC 01 failed"
    )
    assert mail.get_all("Bcc") == ["boss@x.org"]
    assert "Device:     PC 01" in body(mail).splitlines()


def test_building_twice_gives_the_same_mail() -> None:
    assert job_mail().as_bytes() == job_mail().as_bytes()


@pytest.mark.parametrize("message_id", ["", "no-brackets@example.com", "<no-at-sign>", "<a b@c>"])
def test_a_malformed_message_id_is_refused(message_id: str) -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        job_mail(message_id=message_id)


def test_a_date_without_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        job_mail(date=datetime(2024, 3, 1, 2, 0))


@pytest.mark.parametrize("sender", ["", "CleverFox", "noreply@cleverfox.invalid"])
def test_an_invalid_sender_is_refused(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        job_mail(sender=sender)


# --- recipients ----------------------------------------------------------------------------


def test_recipients_from_published_lists() -> None:
    recipients = Recipients.from_lists(
        "a@example.com; b@example.com\r\nnot-an-address", "c@example.com:d@example.com", None
    )
    assert recipients.to == ("a@example.com", "b@example.com")
    assert recipients.cc == ("c@example.com", "d@example.com")
    assert recipients.bcc == ()
    assert recipients.ignored == ("not-an-address",)


@pytest.mark.parametrize("to", [None, "", "nobody", " ; "])
def test_recipients_need_a_valid_to_address(to: str | None) -> None:
    with pytest.raises(ValueError, match="To address"):
        Recipients.from_lists(to, "cc@example.com", "bcc@example.com")


def test_recipients_refuse_invalid_addresses_given_directly() -> None:
    with pytest.raises(ValueError, match="nobody"):
        Recipients(("ops@example.com",), cc=("nobody",))


# --- invitations and ids -------------------------------------------------------------------


def invitation(**overrides: Any) -> EmailMessage:
    arguments: dict[str, Any] = {
        "message_id": MESSAGE_ID,
        "sender": SENDER,
        "date": DATE,
        "email": "jane@example.com",
        "first_name": "Jane",
        "organisation_name": "Acme IT",
        "kind": InviteeKind.PARTNER_USER,
        "sign_in_url": "https://backup.example.com/",
    }
    return invitation_message(**(arguments | overrides))


def test_invitation_goes_to_the_new_user_alone() -> None:
    mail = invitation()
    assert mail["To"] == "jane@example.com"
    assert mail["Cc"] is None
    assert mail["Bcc"] is None
    assert mail["Message-ID"] == MESSAGE_ID
    assert mail["Subject"] == "[CleverFox Backup] You have been added to Acme IT"


def test_invitation_text() -> None:
    text = body(invitation())
    assert text.startswith("Hello Jane,\n")
    assert "added as a partner user of Acme IT on CleverFox Backup" in text
    assert "Sign in at https://backup.example.com/" in text


def test_company_user_invitation_without_a_sign_in_address() -> None:
    text = body(invitation(kind=InviteeKind.COMPANY_USER, sign_in_url=None))
    assert "added as a user of Acme IT" in text
    assert "Your administrator will tell you how to sign in." in text


def test_invitation_to_an_invalid_address_is_refused() -> None:
    with pytest.raises(ValueError, match="jane@"):
        invitation(email="jane@")


def test_new_message_ids_are_unique_and_well_formed() -> None:
    ids = {new_message_id("cleverfox.example") for _ in range(20)}
    assert len(ids) == 20
    for message_id in ids:
        job_mail(message_id=message_id)  # accepted as a Message-ID
        assert message_id.endswith("@cleverfox.example>")


@pytest.mark.parametrize("domain", ["", "a b", "x@y", "<x>"])
def test_message_ids_need_a_plain_domain(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        new_message_id(domain)
