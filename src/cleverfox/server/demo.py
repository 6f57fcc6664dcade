"""Demo data for ``cleverfox demo`` (what ``make run`` starts), and only for it.

The demo partner's API key is kept in the data directory (``demo-api-key``, mode 0600) so a
second ``make run`` prints the same working ``curl`` line. Seeding runs once per data
directory, in the caller's transaction: three companies, each with a subscription and a
user, devices in several time zones whose agents have checked in (real device keys), jobs
of several frequencies with their items — all made through each package's service, so each
writes its Event — then about three weeks of runs (``demo_history``).

The setup is dated as if done 22 days ago, in one afternoon (UTC), before any job's first
run: every row and Event the services wrote is moved back to its moment. Every job's
NextRunOn ends in the future, except on the sales laptop, whose agent went quiet yesterday:
a run due there within its LateAfter window is recorded Missed by the missed-job duty once
the window closes (as are, while the demo runs without agents, the runs that come due). The
users' invitation mails are queued as the services queue them; the first start delivers
them (to the outbox folder unless ``--smtp-url`` is set).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cleverfox import __version__
from cleverfox.server.companies import repository as companies
from cleverfox.server.companies.service import create_company
from cleverfox.server.company_users.service import create_user as create_company_user
from cleverfox.server.demo_history import ItemProfile, JobHistory, RunProfile, write_history
from cleverfox.server.devices.presence import INTERVALS_BEFORE_OFFLINE
from cleverfox.server.devices.service import check_in, create_device
from cleverfox.server.events.repository import redate_events_after
from cleverfox.server.job_items.service import create_item
from cleverfox.server.jobs.schedule import to_local
from cleverfox.server.jobs.service import create_job
from cleverfox.server.kit.datetimes import format_datetime, utcnow
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Device
from cleverfox.server.partner_users import repository as partner_users
from cleverfox.server.partner_users.service import create_user as create_partner_user
from cleverfox.server.partners import operator
from cleverfox.server.partners import repository as partners
from cleverfox.server.runs.repository import lock_job
from cleverfox.server.subscriptions.service import create_subscription

DEMO_KEY_FILE = "demo-api-key"
DEMO_PARTNER_NAME = "CleverFox Demo Partner"
SET_UP_DAYS_AGO = 22
# Device Online lasts three check-in intervals; the demo serves the default interval (60 s).
ONLINE_WINDOW = timedelta(seconds=INTERVALS_BEFORE_OFFLINE * 60)
_WINDOWS_ROOT = r"C:\ProgramData\CleverFox Backup"
_LINUX_ROOT = "/var/lib/cleverfox"
_UPLOAD_ERROR = "Upload to storage failed after 5 attempts: the connection was reset."
_FILE_ERRORS = (
    r"Creating the VSS snapshot of C:\ failed: another shadow copy is in progress (0x8004230F).",
    "The archive folder's disk is full: 1.2 GB free, 3.8 GB needed.",
    _UPLOAD_ERROR,
)
_MSSQL_ERRORS = (
    "Login failed for user 'backup_svc'. (SQL Server error 18456)",
    "BACKUP DATABASE is terminating abnormally: not enough space on the disk. (Error 3013)",
    _UPLOAD_ERROR,
)
_PGSQL_ERRORS = (
    'pg_dump: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" '
    "failed: No such file or directory",
    "pg_dump: error: query failed: ERROR: canceling statement due to lock timeout",
    _UPLOAD_ERROR,
)
_GB = 1024**3
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Demo:
    partner_id: int
    api_key: str


def ensure_demo(
    session: Session, secret: ServerSecret, data_dir: Path, *, now: datetime | None = None
) -> Demo:
    """The demo partner (made with its data on first use) and its API key."""
    key_file = data_dir / DEMO_KEY_FILE
    if key_file.exists():
        partner_id_text, _, api_key = key_file.read_text().strip().partition(" ")
        partner = partners.get_partner(session, int(partner_id_text))
        if partner is not None and partner.api_key_digest in secret.digests(api_key):
            return Demo(partner.id, api_key)
    made = operator.create_partner(
        session,
        secret,
        DEMO_PARTNER_NAME,
        owner=operator.Owner("owner@demo.cleverfox.invalid", "Dana", "Demo"),
    )
    seed_demo(session, secret, made, now or utcnow())
    _write_key(key_file, made.partner_id, made.api_key)
    return Demo(made.partner_id, made.api_key)


def seed_demo(
    session: Session, secret: ServerSecret, made: operator.NewPartner, now: datetime
) -> None:
    """The demo partner's companies, devices, jobs and history, as of ``now``."""
    seeder = _Seeder(session, secret, made.partner_id, now)
    day = (now - timedelta(days=SET_UP_DAYS_AGO)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    seeder.partner(made, day - timedelta(hours=1))
    histories = [
        h
        for n, spec in enumerate(COMPANIES)
        for h in seeder.company(spec, day + n * timedelta(hours=2, minutes=30))
    ]
    write_history(session, histories, now, ONLINE_WINDOW)


@dataclass(frozen=True)
class _Item:
    wire: dict[str, Any]  # its POST body without JobId
    profile: ItemProfile


@dataclass(frozen=True)
class _Job:
    wire: dict[str, Any]  # its POST body without DeviceId and NextRunOn
    at: time
    items: tuple[_Item, ...]
    runs: RunProfile

    def first_run(self, local: datetime) -> datetime:
        """Its first NextRunOn: from the day after ``local``, a day the schedule chooses."""
        day = local.date() + timedelta(days=1)
        while not self._chooses(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.at)

    def _chooses(self, day: date) -> bool:
        if self.wire["Frequency"] == "Weekly":
            return bool(self.wire.get(f"On{_WEEKDAYS[day.weekday()]}"))
        return self.wire.get("DayOfMonth") in (None, day.day)


@dataclass(frozen=True)
class _Device:
    wire: dict[str, Any]  # its POST body without CompanyId and SubscriptionId
    facts: dict[str, str] | None  # what its agent reports; None: never connected
    jobs: tuple[_Job, ...] = ()
    quiet_for: timedelta = timedelta(seconds=25)  # since its agent's last check-in

    @property
    def archive_root(self) -> str:
        linux = self.facts is not None and self.facts["OsName"] == "Ubuntu"
        return _LINUX_ROOT if linux else _WINDOWS_ROOT


@dataclass(frozen=True)
class _Company:
    wire: dict[str, Any]  # its POST body without PartnerId and PlanTypeId
    plan_id: int
    subscription: dict[str, Any]
    user: dict[str, Any]
    devices: tuple[_Device, ...]


class _Seeder:
    """Makes the demo through the services, then moves what they wrote to its moment."""

    def __init__(self, session: Session, secret: ServerSecret, partner_id: int, now: datetime):
        self.session, self.secret, self.partner_id, self.now = session, secret, partner_id, now
        self._last_event_id = 0

    def partner(self, made: operator.NewPartner, when: datetime) -> None:
        """Backdate the partner, its own company and owner; add a technician."""
        rows: list[Any] = [
            partners.get_partner(self.session, made.partner_id),
            companies.get_company(self.session, made.partner_id, made.company_id),
        ]
        if made.partner_user_id is not None:
            rows.append(partner_users.get_user(self.session, made.partner_id, made.partner_user_id))
        self._stamp(when, *rows)
        user = create_partner_user(
            self.session,
            self.partner_id,
            {
                "PartnerId": self.partner_id,
                "FirstName": "Sam",
                "LastName": "Okafor",
                "Email": "sam.okafor@cleverfox-demo.example",
                "WorkPhone": "+1 425 555 0100",
            },
            Actor.API,
        )
        self._stamp(when + timedelta(minutes=10), user)

    def company(self, spec: _Company, when: datetime) -> list[JobHistory]:
        raw = {"PartnerId": self.partner_id, "PlanTypeId": 1, **spec.wire}
        company = create_company(self.session, self.partner_id, raw, Actor.API)
        self._stamp(when, company)
        subscription = create_subscription(
            self.session,
            self.partner_id,
            {
                "CompanyId": company.id,
                "PlanId": spec.plan_id,
                **spec.subscription,
            },
            Actor.API,
        ).subscription
        self._stamp(when + timedelta(minutes=2), subscription)
        user = create_company_user(
            self.session, self.partner_id, {"CompanyId": company.id, **spec.user}, Actor.API
        )
        self._stamp(when + timedelta(minutes=4), user)
        histories: list[JobHistory] = []
        for n, device in enumerate(spec.devices, 1):
            histories += self.device(
                company.id, subscription.id, device, when + timedelta(minutes=40 * n)
            )
        return histories

    def device(
        self, company_id: int, subscription_id: int, spec: _Device, when: datetime
    ) -> list[JobHistory]:
        """The device, its agent's first check-in, its jobs; its agent's last check-in."""
        raw = {"CompanyId": company_id, "SubscriptionId": subscription_id, **spec.wire}
        device = create_device(self.session, self.partner_id, raw, Actor.API, self.secret).device
        self._stamp(when, device)
        if spec.facts is None:
            return []
        installed = when + timedelta(minutes=15)
        check_in(self.session, device.id, spec.facts, installed, ONLINE_WINDOW)
        self._stamp(installed)
        histories = [
            self.job(device, job, installed + timedelta(minutes=5 * n), spec)
            for n, job in enumerate(spec.jobs, 1)
        ]
        device.last_api_check_at = self.now - spec.quiet_for
        return histories

    def job(self, device: Device, spec: _Job, when: datetime, on: _Device) -> JobHistory:
        zone = ZoneInfo(device.iana_time_zone_id)
        first = spec.first_run(to_local(when, zone))
        raw = {"DeviceId": device.id, "NextRunOn": format_datetime(first), **spec.wire}
        job = create_job(self.session, self.partner_id, raw, Actor.API, now=when)
        items = [
            create_item(
                self.session,
                self.partner_id,
                {"JobId": job.id, **item.wire},
                Actor.API,
                self.secret,
            )
            for item in spec.items
        ]
        self._stamp(when, job, *items)
        loaded = lock_job(self.session, job.id)  # with the device and subscription a Log needs
        assert loaded is not None
        profiles = [item.profile for item in spec.items]
        return JobHistory(
            loaded, list(zip(items, profiles, strict=True)), spec.runs, on.archive_root
        )

    def _stamp(self, when: datetime, *rows: Any) -> None:
        """Date ``rows`` and every Event written since the last stamp at ``when``."""
        self.session.flush()
        for row in rows:
            row.added_on = when
        self.session.flush()  # the session does not autoflush; a reload would undo it
        self._last_event_id = redate_events_after(
            self.session, self.partner_id, self._last_event_id, when
        )


def _write_key(path: Path, partner_id: int, api_key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{partner_id} {api_key}\n")


# The demo's data ---------------------------------------------------------------------------


def _facts(hostname: str, os_name: str, os_version: str) -> dict[str, str]:
    return {
        "Hostname": hostname,
        "OsName": os_name,
        "OsVersion": os_version,
        "AgentVersion": __version__,
    }


def _schedule(frequency: str, name: str, **wire: Any) -> dict[str, Any]:
    keep = {"Hourly": (48, 24), "Daily": (30, 7), "Weekly": (12, 4), "Monthy": (12, 2)}
    late = {"Hourly": 30, "Daily": 120, "Weekly": 240, "Monthy": 720}
    cloud, local = keep[frequency]
    return {
        "Name": name,
        "Frequency": frequency,
        "Every": 1,
        "LateAfter": late[frequency],
        "CloudKeepLast": cloud,
        "LocalKeepLast": local,
        **wire,
    }


def _folder(name: str, base: str, gb: float, files: int, **wire: Any) -> _Item:
    """A File item: ``base`` and its subfolders, ``gb`` GB in ``files`` files at first."""
    windows = "\\" in base
    body = {
        "Name": name,
        "BackupTypeId": 1,
        "BaseFolder": base,
        "IncludeSubFolders": True,
        "SearchPatterns": "*.*",
        "ExcludeFolders": "AppData\\Local\\Temp\r\nAppData\\Local\\Microsoft\\Windows\\INetCache"
        if windows and base.endswith("Users")
        else None,
        "ExcludePatterns": "*.tmp\r\n~$*" if windows else "*.tmp",
        "NoCompressExtensions": ".jpg\r\n.png\r\n.zip\r\n.mp4",
        **wire,
    }
    errors = _FILE_ERRORS if windows else _FILE_ERRORS[1:]
    return _Item(body, ItemProfile(int(gb * _GB), 0.003, files, ".zip", errors=errors))


def _sql_server(name: str, server: str, database: str, gb: float) -> _Item:
    body = {
        "Name": name,
        "BackupTypeId": 2,
        "ServerName": server,
        "DatabaseName": database,
        "AuthenticationMode": "S",
        "Username": "backup_svc",
        "Password": "demo-only-not-a-real-password",
        "OptionCompress": True,
        "OptionCopyOnly": True,
    }
    profile = ItemProfile(
        int(gb * _GB), 0.002, 0, ".bak", "15.0.4375.4", "Standard Edition (64-bit)", _MSSQL_ERRORS
    )
    return _Item(body, profile)


def _users_backup(at: time, gb: float, files: int, runs: RunProfile) -> _Job:
    item = _folder("User folders", "C:\\Users", gb, files)
    return _Job(_schedule("Daily", "Daily backup of C:\\Users"), at, (item,), runs)


_SQL_WEEKLY = _Job(
    _schedule("Weekly", "Weekly SQL Server backup", OnSunday=True),
    time(2, 0),
    (
        _sql_server("Northwind ERP", "NW-SQL01", "NorthwindERP", 2.4),
        _sql_server("Northwind CRM", "NW-SQL01", "NorthwindCRM", 0.9),
    ),
    RunProfile(minutes=6, fail_rate=0.15),
)
_PGSQL_HOURLY = _Job(
    _schedule("Hourly", "Hourly PostgreSQL backup"),
    time(0, 15),
    (
        _Item(
            {
                "Name": "Practice management database",
                "BackupTypeId": 3,
                "ServerName": "localhost",
                "DatabaseName": "dental_practice",
                "AuthenticationMode": "W",
                "OptionCompress": True,
            },
            ItemProfile(
                412 * 1024**2, 0.001, 0, ".dump", "16.3", "PostgreSQL 16.3 (Ubuntu)", _PGSQL_ERRORS
            ),
        ),
    ),
    RunProfile(minutes=0.8, fail_rate=0.02, miss_rate=0.005, retry_rate=0),
)

COMPANIES = (
    _Company(
        {
            "Name": "Northwind Traders",
            "ExternalId": "NW-001",
            "AddressLine1": "2110 Western Ave",
            "CityMunicipality": "Seattle",
            "StateProvidence": "WA",
            "PostalCode": "98121",
            "Country": "United States",
            "Phone": "+1 206 555 0142",
        },
        3,
        {
            "ExternalId": "SUB-NW-001",
            "SendNotificationTo": "it@northwind.example",
            "SendNotificationOnStorageLimit": True,
        },
        {"FirstName": "Nora", "LastName": "Lindqvist", "Email": "nora@northwind.example"},
        (
            _Device(
                {
                    "Name": "NW-FS01 Head office file server",
                    "ExternalId": "NW-DEV-01",
                    "TimeZoneId": "Pacific Standard Time",
                    "SendNotificationTo": "it@northwind.example",
                    "SendNotificationOnJobFailed": True,
                    "SendNotificationOnJobMissed": True,
                },
                _facts("NW-FS01", "Windows Server 2022 Standard", "10.0.20348"),
                (
                    _Job(
                        _schedule("Daily", "Daily backup of users and shares"),
                        time(1, 30),
                        (
                            _folder("User folders", "C:\\Users", 7.4, 48_200),
                            _folder("Shared documents", "D:\\Shares", 21.0, 96_000),
                        ),
                        RunProfile(minutes=22),
                    ),
                ),
            ),
            _Device(
                {
                    "Name": "NW-SQL01 Database server",
                    "ExternalId": "NW-DEV-02",
                    "TimeZoneId": "Pacific Standard Time",
                    "SendNotificationTo": "dba@northwind.example",
                    "SendNotificationOnJobFailed": True,
                },
                _facts("NW-SQL01", "Windows Server 2019 Standard", "10.0.17763"),
                (_SQL_WEEKLY,),
            ),
            _Device(
                {
                    "Name": "NW-NYC-LT07 Sales laptop",
                    "ExternalId": "NW-DEV-03",
                    "TimeZoneId": "Eastern Standard Time",
                },
                _facts("NW-NYC-LT07", "Windows 11 Pro", "10.0.22631"),
                (
                    _users_backup(
                        time(12, 30), 3.1, 21_400, RunProfile(minutes=9, days_off=frozenset({6, 7}))
                    ),
                ),
                quiet_for=timedelta(hours=19),
            ),
        ),
    ),
    _Company(
        {
            "Name": "Contoso Dental",
            "ExternalId": "CD-002",
            "AddressLine1": "18 Ponsonby Road",
            "CityMunicipality": "Auckland",
            "PostalCode": "1011",
            "Country": "New Zealand",
            "Phone": "+64 9 555 0187",
        },
        2,
        {"ExternalId": "SUB-CD-002"},
        {"FirstName": "Aroha", "LastName": "Ngata", "Email": "aroha@contoso-dental.example"},
        (
            _Device(
                {
                    "Name": "Front desk PC",
                    "ExternalId": "CD-DEV-01",
                    "TimeZoneId": "New Zealand Standard Time",
                    "SendNotificationTo": "office@contoso-dental.example",
                    "SendNotificationOnJobCompleted": True,
                    "SendNotificationOnJobFailed": True,
                    "SendNotificationOnJobMissed": True,
                },
                _facts("CD-FRONTDESK", "Windows 10 Pro", "10.0.19045"),
                (_users_backup(time(18, 30), 1.9, 12_800, RunProfile(minutes=6, miss_rate=0.08)),),
            ),
            _Device(
                {
                    "Name": "Practice server",
                    "ExternalId": "CD-DEV-02",
                    "TimeZoneId": "New Zealand Standard Time",
                },
                _facts("contoso-srv01", "Ubuntu", "22.04.4 LTS"),
                (
                    _PGSQL_HOURLY,
                    _Job(
                        _schedule("Daily", "Nightly X-ray images"),
                        time(23, 0),
                        (
                            _folder(
                                "X-ray images",
                                "/srv/imaging",
                                38.0,
                                152_000,
                                SearchPatterns="*.dcm\r\n*.jpg",
                            ),
                        ),
                        RunProfile(minutes=35, fail_rate=0.03),
                    ),
                ),
            ),
        ),
    ),
    _Company(
        {
            "Name": "Fabrikam Legal",
            "ExternalId": "FL-003",
            "AddressLine1": "41 Chancery Lane",
            "CityMunicipality": "London",
            "PostalCode": "WC2A 1JA",
            "Country": "United Kingdom",
            "Phone": "+44 20 7946 0321",
        },
        2,
        {"ExternalId": "SUB-FL-003"},
        {
            "FirstName": "Oliver",
            "LastName": "Grant",
            "Email": "oliver.grant@fabrikam-legal.example",
        },
        (
            _Device(
                {
                    "Name": "FL-SRV01 Office server",
                    "ExternalId": "FL-DEV-01",
                    "TimeZoneId": "GMT Standard Time",
                    "SendNotificationTo": "it@fabrikam-legal.example",
                    "SendNotificationCc": "oliver.grant@fabrikam-legal.example",
                    "SendNotificationOnJobFailed": True,
                    "SendNotificationOnJobMissed": True,
                },
                _facts("FL-SRV01", "Windows Server 2022 Standard", "10.0.20348"),
                (
                    _Job(
                        _schedule("Daily", "Daily backup of client files"),
                        time(22, 0),
                        (_folder("Client files", "D:\\Clients", 54.0, 233_000),),
                        RunProfile(minutes=28),
                    ),
                    _Job(
                        _schedule("Weekly", "Case database backup", OnMonday=True, OnThursday=True),
                        time(23, 30),
                        (_sql_server("Case manager", "FL-SRV01\\SQLEXPRESS", "CaseManager", 1.3),),
                        RunProfile(minutes=4, fail_rate=0.1),
                    ),
                    _Job(
                        _schedule("Monthy", "Monthly archive of closed matters", DayOfMonth=1),
                        time(3, 0),
                        (_folder("Closed matters", "E:\\Archive", 120.0, 410_000),),
                        RunProfile(minutes=95, fail_rate=0),
                    ),
                ),
            ),
            _Device(
                {
                    "Name": "FL-FRA-LT02 Partner laptop (Frankfurt)",
                    "ExternalId": "FL-DEV-02",
                    "TimeZoneId": "W. Europe Standard Time",
                },
                _facts("FL-FRA-LT02", "Windows 11 Pro", "10.0.22631"),
                (_users_backup(time(13, 0), 4.6, 30_900, RunProfile(minutes=11)),),
            ),
            _Device(
                {
                    "Name": "FL-RECEPTION Reception PC",
                    "ExternalId": "FL-DEV-03",
                    "TimeZoneId": "GMT Standard Time",
                },
                None,
            ),
        ),
    ),
)
