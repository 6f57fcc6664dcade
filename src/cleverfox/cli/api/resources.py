"""One declaration per resource of the API: the command group, its columns and its verbs.

The options of ``list``, ``create`` and ``update`` are not declared here: they come from the
SDK's keyword arguments (``cleverfox.client.params``), so the command line takes exactly
what the SDK takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleverfox.client import params as p


@dataclass(frozen=True)
class Action:
    """A ``POST …/{Id}/{action}`` of the API as a command (``devices rotate-key 7``)."""

    command: str
    method: str  # of the SDK namespace
    summary: str
    done: str  # what it printed for people, with {id}


@dataclass(frozen=True)
class Resource:
    """A collection of the API as a command group.

    ``from_partner`` names create attributes filled from the caller's partner when not
    given (a partner creates companies of its own plan type under itself).
    """

    name: str
    namespace: str
    singular: str
    summary: str
    columns: tuple[str, ...]
    filters: type
    create: type | None = None
    update: type | None = None
    deletable: bool = False
    actions: tuple[Action, ...] = ()
    id_type: type = int
    from_partner: tuple[str, ...] = ()
    create_example: str = ""
    list_examples: tuple[str, ...] = ()


PERSON = ("first_name", "last_name", "email", "is_account_owner", "is_inactive")

RESOURCES = (
    Resource(
        "partners",
        "partners",
        "partner",
        "Your partner account (a list of one).",
        ("partner_id", "name", "application_id", "plan_type_id", "is_inactive"),
        p.PartnerFilters,
        update=p.PartnerUpdate,
    ),
    Resource(
        "partner-users",
        "partner_users",
        "partner user",
        "People of your organisation who use the web console.",
        ("partner_user_id", *PERSON),
        p.PartnerUserFilters,
        p.PartnerUserCreate,
        p.PartnerUserUpdate,
        deletable=True,
        from_partner=("partner_id",),
        create_example="--first-name Ada --last-name Lovelace --email ada@partner.example",
    ),
    Resource(
        "plan-types",
        "plan_types",
        "plan type",
        "The families of plans (read-only).",
        ("plan_type_id", "name", "has_api_access", "is_inactive"),
        p.PlanTypeFilters,
    ),
    Resource(
        "plans",
        "plans",
        "plan",
        "What a subscription may be on (read-only).",
        (
            "plan_id",
            "name",
            "plan_type_id",
            "device_limit",
            "storage_limit",
            "download_limit",
            "is_inactive",
        ),
        p.PlanFilters,
    ),
    Resource(
        "companies",
        "companies",
        "company",
        "Your customers.",
        ("company_id", "name", "external_id", "device_count", "is_inactive", "added_on"),
        p.CompanyFilters,
        p.CompanyCreate,
        p.CompanyUpdate,
        deletable=True,
        from_partner=("partner_id", "plan_type_id"),
        create_example='--name "Acme Ltd" --external-id CRM-1042 --country UK',
        list_examples=("--name-contains acme", "--external-id CRM-1042 --json"),
    ),
    Resource(
        "company-users",
        "company_users",
        "company user",
        "People of a customer company.",
        ("company_user_id", "company_id", *PERSON),
        p.CompanyUserFilters,
        p.CompanyUserCreate,
        p.CompanyUserUpdate,
        deletable=True,
        create_example="--company-id 12 --first-name Grace --last-name Hopper "
        "--email grace@acme.example",
        list_examples=("--company-id 12",),
    ),
    Resource(
        "subscriptions",
        "subscriptions",
        "subscription",
        "Companies' plans.",
        (
            "subscription_id",
            "company_id",
            "plan_id",
            "external_id",
            "status",
            "device_count",
            "storage_used_bytes",
        ),
        p.SubscriptionFilters,
        p.SubscriptionCreate,
        p.SubscriptionUpdate,
        deletable=True,
        create_example="--company-id 12 --plan-id 2 --send-notification-to ops@acme.example",
        list_examples=("--company-id 12",),
    ),
    Resource(
        "devices",
        "devices",
        "device",
        "The PCs and servers that are backed up.",
        (
            "device_id",
            "name",
            "company_id",
            "subscription_id",
            "time_zone_id",
            "connection_status",
            "last_api_check_at",
            "is_inactive",
        ),
        p.DeviceFilters,
        p.DeviceCreate,
        p.DeviceUpdate,
        deletable=True,
        actions=(
            Action(
                "rotate-key",
                "rotate_api_key",
                "Give the device a new ApiKey; the old one stops working at once.",
                "Device {id} has a new API key.",
            ),
        ),
        create_example='--company-id 12 --subscription-id 34 --name "FILESRV01" '
        '--time-zone-id "GMT Standard Time"',
        list_examples=("--company-id 12 --connection-status Offline",),
    ),
    Resource(
        "time-zones",
        "time_zones",
        "time zone",
        "The time zones a device may use (read-only; ids are Windows ids).",
        ("time_zone_id", "name", "iana_id", "current_utc_offset"),
        p.TimeZoneFilters,
        id_type=str,
    ),
    Resource(
        "backup-types",
        "backup_types",
        "backup type",
        "Files and the kinds of database a job item backs up (read-only).",
        ("backup_type_id", "engine_id", "name", "engine_type", "port", "is_inactive"),
        p.BackupTypeFilters,
    ),
    Resource(
        "jobs",
        "jobs",
        "job",
        "Scheduled backups of devices.",
        (
            "job_id",
            "device_id",
            "name",
            "frequency",
            "next_run_on",
            "last_job_status",
            "is_inactive",
        ),
        p.JobFilters,
        p.JobCreate,
        p.JobUpdate,
        deletable=True,
        actions=(
            Action(
                "run-now",
                "run_now",
                "Ask for a run now; the agent starts it at its next check-in.",
                "Job {id}: run requested; the agent starts it at its next check-in.",
            ),
        ),
        create_example="--device-id 56 --name Nightly --frequency Daily "
        "--next-run-on 2026-03-01T02:00 --late-after 60 --every 1 "
        "--cloud-keep-last 30 --local-keep-last 7",
        list_examples=("--device-id 56", "--frequency Weekly --is-inactive"),
    ),
    Resource(
        "job-items",
        "job_items",
        "job item",
        "What jobs back up: folders or databases.",
        ("job_item_id", "job_id", "name", "backup_type_id", "base_folder", "database_name"),
        p.JobItemFilters,
        p.JobItemCreate,
        p.JobItemUpdate,
        deletable=True,
        create_example='--job-id 78 --backup-type-id 1 --base-folder "D:\\Shares" '
        '--search-patterns "*.*" --include-sub-folders',
        list_examples=("--job-id 78",),
    ),
    Resource(
        "logs",
        "logs",
        "log",
        "Runs of jobs, and missed ones (read-only).",
        ("log_id", "added_on", "company_id", "device_id", "name", "job_status", "trigger"),
        p.LogFilters,
        list_examples=(
            "--job-status Failed --since 24h",
            "--device-id 56 --since 2026-03-01",
            "--job-status Missed --since 7d --json",
        ),
    ),
    Resource(
        "log-items",
        "log_items",
        "log item",
        "Each job item's result within a log (read-only).",
        ("log_item_id", "log_id", "job_item_id", "name", "backup_file_name", "backup_file_size"),
        p.LogItemFilters,
        list_examples=("--log-id 901",),
    ),
    Resource(
        "events",
        "events",
        "event",
        "The audit trail (read-only).",
        ("event_id", "added_on", "event_type", "actor", "company_id", "device_id", "job_id"),
        p.EventFilters,
        list_examples=("--since 24h", "--event-type-id 31 --since 7d --json"),
    ),
    Resource(
        "event-types",
        "event_types",
        "event type",
        "The kinds of event (read-only).",
        ("event_type_id", "name"),
        p.EventTypeFilters,
    ),
)
