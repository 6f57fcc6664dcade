"""Every namespace and action of the SDK against the real server: what it sends is what the
server takes, and what the server answers decodes into the typed models."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from cleverfox.client import (
    Actor,
    Client,
    ConnectionStatus,
    Frequency,
    JobStatus,
    NotFound,
    SubscriptionStatus,
    Trigger,
)
from tests.client.integration.conftest import Tenant, agent_run, missed_run
from tests.support.server import Partner, ServerProcess


def test_partners_list_get_update(sdk: Client, partner: Partner) -> None:
    (mine,) = list(sdk.partners.list())
    assert mine.partner_id == partner.partner_id
    changed = sdk.partners.update(mine.id, application_id="ACME-7")
    assert changed.application_id == "ACME-7"
    assert sdk.partners.get(mine.id).application_id == "ACME-7"


def test_partner_users_every_verb(sdk: Client, partner: Partner) -> None:
    made = sdk.partner_users.create(
        partner_id=partner.partner_id,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@partner.example",
    )
    assert made.is_account_owner  # the partner's first user
    second = sdk.partner_users.create(
        partner_id=partner.partner_id,
        first_name="Alan",
        last_name="Turing",
        email="alan@partner.example",
        mobile_phone="+44 1234",
    )
    assert [u.id for u in sdk.partner_users.list(email="ALAN@partner.example")] == [second.id]
    assert sdk.partner_users.update(second.id, is_inactive=True).is_inactive
    assert sdk.partner_users.delete(second.id).email == "alan@partner.example"
    with pytest.raises(NotFound):
        sdk.partner_users.get(second.id)


@pytest.mark.parametrize(
    ("namespace", "known_id", "name"),
    [
        ("plan_types", 1, "CleverFox Backup"),
        ("plans", 2, "Medium Plan"),
        ("backup_types", 3, "PostgreSQL"),
        ("event_types", 31, "Device Deleted"),
    ],
)
def test_catalogues_list_and_get(sdk: Client, namespace: str, known_id: int, name: str) -> None:
    catalogue = getattr(sdk, namespace)
    assert known_id in {each.id for each in catalogue.list()}
    assert catalogue.get(known_id).name == name


def test_time_zones_page_by_number_and_get_by_string_id(sdk: Client) -> None:
    zones = list(sdk.time_zones.list(page_size=50))
    assert len(zones) > 100  # several pages of 50
    assert len({zone.id for zone in zones}) == len(zones)
    eastern = sdk.time_zones.get("Eastern Standard Time")
    assert eastern.iana_id == "America/New_York"
    assert eastern.zone() is not None


def test_companies_every_verb(sdk: Client, partner: Partner) -> None:
    made = sdk.companies.create(
        partner_id=partner.partner_id,
        plan_type_id=1,
        name="Acme Ltd",
        external_id="CRM-1",
        state_providence="Kent",
        country="UK",
    )
    assert (made.name, made.state_providence, made.device_count) == ("Acme Ltd", "Kent", 0)
    assert made.added_on is not None and made.added_on.tzinfo is UTC
    assert [c.id for c in sdk.companies.list(external_id="CRM-1")] == [made.id]
    assert [c.id for c in sdk.companies.list(name_contains="ACME")] == [made.id]
    changed = sdk.companies.update(made.id, country=None, phone="0123")
    assert (changed.country, changed.phone) == (None, "0123")
    assert changed.updated_on is not None
    assert sdk.companies.delete(made.id).id == made.id
    with pytest.raises(NotFound):
        sdk.companies.get(made.id)


def test_company_users_every_verb(sdk: Client, partner: Partner) -> None:
    owner = sdk.company_users.create(
        company_id=partner.company_id,
        first_name="Grace",
        last_name="Hopper",
        email="grace@acme.example",
    )
    made = sdk.company_users.create(
        company_id=partner.company_id,
        first_name="Edsger",
        last_name="Dijkstra",
        email="edsger@acme.example",
    )
    assert owner.is_account_owner and not made.is_account_owner
    listed = sdk.company_users.list(company_id=partner.company_id)
    assert [u.id for u in listed] == [made.id, owner.id]
    assert sdk.company_users.update(made.id, work_phone="555").work_phone == "555"
    assert sdk.company_users.get(made.id).company_id == partner.company_id
    assert sdk.company_users.delete(made.id).id == made.id


def test_subscriptions_every_verb(sdk: Client, partner: Partner) -> None:
    made = sdk.subscriptions.create(
        company_id=partner.company_id,
        plan_id=2,
        send_notification_to=["ops@acme.example", "cto@acme.example"],
        send_notification_on_storage_limit=True,
    )
    assert made.status == SubscriptionStatus.ACTIVE
    assert made.plan is not None and made.plan.device_limit == 5
    assert made.period_start is not None and made.period_start.tzinfo is UTC
    assert [s.id for s in sdk.subscriptions.list(company_id=partner.company_id)] == [made.id]
    changed = sdk.subscriptions.update(made.id, external_id="SUB-9")
    assert changed.external_id == "SUB-9"
    assert sdk.subscriptions.delete(made.id).id == made.id


def test_devices_every_verb_and_key_rotation(sdk: Client, tenant: Tenant) -> None:
    device = sdk.devices.get(tenant.device.id)
    assert device.connection_status == ConnectionStatus.NEVER_CONNECTED
    assert device.company is not None and device.company.id == tenant.company.id
    listed = sdk.devices.list(company_id=tenant.company.id, name_contains="fs0")
    assert [d.id for d in listed] == [device.id]
    rotated = sdk.devices.rotate_api_key(device.id)
    assert rotated.api_key and rotated.api_key != device.api_key
    moved = sdk.devices.update(device.id, time_zone_id="Tokyo Standard Time")
    assert moved.iana_time_zone_id == "Asia/Tokyo"
    spare = sdk.devices.create(
        company_id=tenant.company.id,
        subscription_id=tenant.subscription.id,
        name="Spare",
        time_zone_id="Europe/Paris",
    )
    assert sdk.devices.delete(spare.id).name == "Spare"


def test_jobs_every_verb_and_run_now(sdk: Client, tenant: Tenant) -> None:
    job = sdk.jobs.get(tenant.job.id)
    assert job.frequency == Frequency.DAILY
    assert [item.id for item in job.job_items] == [tenant.item.id]
    assert job.next_run_on.tzinfo is not None  # Local, in the device's zone (UTC here)
    assert [j.id for j in sdk.jobs.list(device_id=tenant.device.id, frequency="daily")] == [job.id]
    weekly = sdk.jobs.update(job.id, frequency=Frequency.WEEKLY, on_monday=True, on_friday=True)
    assert (weekly.frequency, weekly.on_friday) == (Frequency.WEEKLY, True)
    assert sdk.jobs.run_now(job.id).id == job.id
    other = sdk.jobs.create(
        device_id=tenant.device.id,
        name="Once",
        frequency="One Time",
        late_after=0,
        every=1,
        next_run_on=job.next_run_on + timedelta(days=3),
        cloud_keep_last=1,
        local_keep_last=1,
    )
    assert sdk.jobs.delete(other.id).name == "Once"


def test_job_items_every_verb(sdk: Client, tenant: Tenant) -> None:
    item = sdk.job_items.get(tenant.item.id)
    assert item.search_patterns == "*.docx\r\n*.xlsx"  # a list is sent \r\n-joined
    assert item.password is None  # write-only
    database = sdk.job_items.create(
        job_id=tenant.job.id,
        backup_type_id=3,
        server_name="db1",
        database_name="erp",
        authentication_mode="S",
        username="backup",
        password="s3cret",
    )
    assert database.port == 5432 and database.password is None
    assert {i.id for i in sdk.job_items.list(job_id=tenant.job.id)} == {item.id, database.id}
    assert sdk.job_items.update(database.id, database_name="crm").database_name == "crm"
    assert sdk.job_items.delete(database.id).id == database.id


def test_logs_log_items_and_events(server: ServerProcess, sdk: Client, tenant: Tenant) -> None:
    failed = agent_run(server, tenant.device, tenant.job.id, "Failed", "disk full")
    completed = agent_run(server, tenant.device, tenant.job.id, "Completed")
    logs = list(sdk.logs.list(device_id=tenant.device.id, since=timedelta(hours=1)))
    assert [log.id for log in logs] == [completed, failed]
    log = sdk.logs.get(failed)
    assert (log.job_status, log.trigger, log.error_messages) == (
        JobStatus.FAILED,
        Trigger.RUN_NOW,
        "disk full",
    )
    assert [x.id for x in sdk.logs.list(job_status=JobStatus.FAILED)] == [failed]
    items = list(sdk.log_items.list(log_id=completed))
    assert items == [] or all(item.log_id == completed for item in items)
    for item in items:
        assert sdk.log_items.get(item.id).id == item.id
    events = list(sdk.events.list(device_id=tenant.device.id))
    assert {e.event_type for e in events} >= {"Device Added", "Job Added", "Job Failed"}
    added = next(e for e in events if e.event_type == "Device Added")
    assert sdk.events.get(added.id).actor == Actor.API


def test_missed_jobs_are_logs_too(server: ServerProcess, sdk: Client, tenant: Tenant) -> None:
    job = missed_run(server, sdk, tenant.device)
    [missed] = sdk.logs.list(job_id=job.id)
    assert (missed.job_status, missed.trigger) == (JobStatus.MISSED, Trigger.SCHEDULE)
    assert missed.job_started_on is None
    assert [log.id for log in sdk.logs.list(job_status="missed", since=timedelta(hours=1))] == [
        missed.id
    ]


def test_embedded_objects_are_decoded_when_first_read(
    server: ServerProcess, sdk: Client, tenant: Tenant
) -> None:
    sdk.devices.update(tenant.device.id, time_zone_id="Tokyo Standard Time")
    agent_run(server, tenant.device, tenant.job.id, "Completed")
    [log] = sdk.logs.list(job_id=tenant.job.id)
    assert isinstance(log.__dict__["device"], dict)  # kept as sent until read
    assert log.to_wire()["Device"]["DeviceId"] == tenant.device.id  # dumped as sent
    assert log.device is not None and log.device.name == "FS01"
    assert log.job is not None and str(log.job.next_run_on.tzinfo) == "Asia/Tokyo"
    assert log.company is not None and log.company.id == tenant.company.id
    assert log == sdk.logs.get(log.id)
