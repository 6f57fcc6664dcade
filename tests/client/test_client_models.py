"""Models: snake_case over PascalCase, aware date-times, open enums, kept unknowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from cleverfox.client import (
    Company,
    ConnectionStatus,
    Device,
    Event,
    Frequency,
    Job,
    JobStatus,
    Log,
    TimeZone,
)
from tests.client.fakes import company, device, job

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def test_snake_case_attributes_over_wire_names() -> None:
    made = Company.model_validate(
        company(CompanyId=3, StateProvidence="NY", AddressLine1="1 Main St", CityMunicipality="X")
    )
    assert made.company_id == made.id == 3
    assert made.state_providence == "NY"
    assert made.address_line1 == "1 Main St"
    assert made.city_municipality == "X"


def test_unknown_attributes_are_kept_under_their_wire_names() -> None:
    made = Company.model_validate(company(CompanyId=3, Brand="new", Rating={"Stars": 4}))
    assert made.extra == {"Brand": "new", "Rating": {"Stars": 4}}
    assert made.to_wire()["Brand"] == "new"
    assert "Token" not in made.extra  # a known attribute, always null


def test_embedded_objects_are_typed() -> None:
    made = Device.model_validate(device(DeviceId=1, Company=company(CompanyId=1, Partner=None)))
    assert isinstance(made.company, Company)
    assert made.company.partner is None


def test_unknown_enum_values_are_kept() -> None:
    made = Job.model_validate(job(JobId=1, Frequency="Fortnightly", LastJobStatus="Paused"))
    assert made.frequency == "Fortnightly"
    assert isinstance(made.frequency, Frequency)
    assert not made.frequency.known
    assert made.last_job_status == "Paused"
    assert Frequency.DAILY.known


def test_enums_read_case_insensitively_and_keep_the_published_monthy() -> None:
    assert Frequency("daily") is Frequency.DAILY
    assert Frequency("Monthly") is Frequency.MONTHLY
    assert Frequency.MONTHLY == "Monthy"
    assert ConnectionStatus("never connected") is ConnectionStatus.NEVER_CONNECTED


def test_utc_attributes_are_aware_in_utc() -> None:
    made = Company.model_validate(company(CompanyId=1, AddedOn="2025-01-02T03:04:05.678"))
    assert made.added_on == datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_our_utc_attributes_with_z_are_aware() -> None:
    made = Job.model_validate(job(JobId=1, NextRunUtc="2025-01-02T06:30:00.000Z"))
    assert made.next_run_utc == datetime(2025, 1, 2, 6, 30, tzinfo=UTC)


def test_local_attributes_are_in_the_devices_zone() -> None:
    made = Device.model_validate(device(DeviceId=1, LastApiCheckAt="2025-07-01T09:00:00.000"))
    assert made.last_api_check_at == datetime(2025, 7, 1, 9, 0, tzinfo=NEW_YORK)
    assert made.last_api_check_at is not None
    assert made.last_api_check_at.utcoffset() == timedelta(hours=-4)


def test_a_windows_time_zone_id_alone_is_enough() -> None:
    wire = device(
        DeviceId=1, TimeZoneId="W. Europe Standard Time", LastApiCheckAt="2025-01-01T10:00:00.000"
    )
    del wire["IanaTimeZoneId"]
    made = Device.model_validate(wire)
    assert made.last_api_check_at is not None
    assert made.last_api_check_at.utcoffset() == timedelta(hours=1)


def test_a_jobs_local_attributes_take_its_embedded_devices_zone() -> None:
    made = Job.model_validate(
        job(
            JobId=1,
            NextRunOn="2025-01-02T01:30:00.000",
            ExpireOn="2025-02-01T00:00:00.000",
            Device=device(DeviceId=1),
        )
    )
    assert made.next_run_on == datetime(2025, 1, 2, 1, 30, tzinfo=NEW_YORK)
    assert made.expire_on is not None
    assert made.expire_on.tzinfo == NEW_YORK


def test_a_job_without_its_device_stays_naive() -> None:
    made = Job.model_validate(job(JobId=1, Device=None))
    assert made.next_run_on == datetime(2025, 1, 2, 1, 30)
    assert made.next_run_on.tzinfo is None


def test_an_unknown_zone_leaves_local_times_naive() -> None:
    made = Device.model_validate(
        device(
            DeviceId=1,
            TimeZoneId="Mars Standard Time",
            IanaTimeZoneId=None,
            LastApiCheckAt="2025-01-01T10:00:00.000",
        )
    )
    assert made.last_api_check_at == datetime(2025, 1, 1, 10, 0)


def test_a_logs_local_times_and_its_embedded_job_take_the_logs_zone() -> None:
    made = Log.model_validate(
        {
            "LogId": 9,
            "TimeZoneId": "W. Europe Standard Time",
            "IanaTimeZoneId": "Europe/Berlin",
            "JobStartedOn": "2025-01-01T02:00:00.000",
            "JobCompletedOn": "2025-01-01T02:10:00.000",
            "NextRunOn": "2025-01-02T02:00:00.000",
            "JobStatus": "Completed",
            "Job": job(JobId=1, Device=None),
            "Device": None,
            "LogItems": None,
            "NotificationJobFailedProcessedOn": "2025-01-01T01:11:00.000",
        }
    )
    assert made.job_started_on == datetime(2025, 1, 1, 2, 0, tzinfo=BERLIN)
    assert made.job_completed_on == datetime(2025, 1, 1, 2, 10, tzinfo=BERLIN)
    assert made.job is not None
    assert made.job.next_run_on.tzinfo == BERLIN
    assert made.notification_job_failed_processed_on == datetime(2025, 1, 1, 1, 11, tzinfo=UTC)
    assert made.job_status is JobStatus.COMPLETED
    assert made.log_items == []


def test_a_job_started_on_that_is_not_a_date_is_kept_as_sent() -> None:
    made = Log.model_validate({"LogId": 1, "JobStartedOn": "yesterday evening"})
    assert made.job_started_on == "yesterday evening"


def test_null_booleans_read_as_false() -> None:
    made = Company.model_validate(company(CompanyId=1, IsInactive=None))
    assert made.is_inactive is False


def test_secrets_stay_out_of_repr() -> None:
    made = Device.model_validate(device(DeviceId=1, ApiKey="s3cr3t"))
    assert made.api_key == "s3cr3t"
    assert "s3cr3t" not in repr(made)


def test_models_are_read_only_snapshots() -> None:
    made = Company.model_validate(company(CompanyId=1))
    with pytest.raises(ValidationError):
        made.name = "changed"  # type: ignore[misc]


def test_event_changes_and_time_zone_ids() -> None:
    event = Event.model_validate(
        {
            "EventId": 1,
            "EventTypeId": 32,
            "EventType": "Device Modified",
            "Actor": "Api",
            "Changes": {"Name": ["a", "b"]},
        }
    )
    assert event.changes == {"Name": ["a", "b"]}
    zone = TimeZone.model_validate(
        {"TimeZoneId": "Eastern Standard Time", "IanaId": "America/New_York"}
    )
    assert zone.id == "Eastern Standard Time"
    assert zone.zone() == NEW_YORK
