"""``cleverfox partner|plantype|plan|subscription …``: the operator's administration.

Each command opens one write transaction (``Operator.session``), calls one function of the
server's operator modules and prints. Failures are typed errors (``AppError``) that
``cli.main`` prints as one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import json
from typing import Any

import click

from cleverfox.cli.operator.context import (
    Operator,
    OperatorGroup,
    data_options,
    emit,
    json_option,
    pass_operator,
)
from cleverfox.server.catalog import operator as catalog
from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.models import Partner
from cleverfox.server.partners import operator as partners
from cleverfox.server.subscriptions import operator as subscriptions


@click.group(cls=OperatorGroup)
def partner() -> None:
    """Partner accounts."""


@partner.command("create")
@data_options
@json_option
@click.option("--name", required=True, help="The partner's name.")
@click.option("--plan-type-id", type=int, default=1, show_default=True)
@click.option("--owner-email", help="Make this person the account owner (no invitation mail).")
@click.option("--owner-first-name", default="Account")
@click.option("--owner-last-name", default="Owner")
@pass_operator
def partner_create(
    operator: Operator,
    as_json: bool,
    name: str,
    plan_type_id: int,
    owner_email: str | None,
    owner_first_name: str,
    owner_last_name: str,
) -> None:
    """Create a partner with its own company and print its API key (shown this once).

    \b
    Example:
      cleverfox partner create --name "Acme IT" --owner-email ops@acme.example --json
    """
    owner = partners.Owner(owner_email, owner_first_name, owner_last_name) if owner_email else None
    with operator.session() as (session, secret):
        made = partners.create_partner(session, secret, name, plan_type_id, owner)
    result: dict[str, Any] = {
        "PartnerId": made.partner_id,
        "CompanyId": made.company_id,
        "ApiKey": made.api_key,
    }
    if made.partner_user_id is not None:
        result["PartnerUserId"] = made.partner_user_id
    emit(
        result,
        as_json,
        f"Partner {made.partner_id} created (company {made.company_id}).\n"
        f"API key (shown once): {made.api_key}",
    )


@partner.command("list")
@data_options
@json_option
@pass_operator
def partner_list(operator: Operator, as_json: bool) -> None:
    """List every partner, oldest first (``--json``: a JSON list).

    \b
    Example:
      cleverfox partner list --json
    """
    with operator.session() as (session, _secret):
        rows = [_partner_row(p) for p in partners.list_partners(session)]
    click.echo(json.dumps(rows) if as_json else _table(rows))


@partner.command("apikey")
@data_options
@json_option
@click.argument("partner_id", type=int)
@pass_operator
def partner_apikey(operator: Operator, as_json: bool, partner_id: int) -> None:
    """Issue a new API key; the old one stops working.

    \b
    Example:
      cleverfox partner apikey 7 --json
    """
    with operator.session() as (session, secret):
        key = partners.rotate_partner_key(session, secret, partner_id)
    emit({"ApiKey": key}, as_json, f"New API key (shown once): {key}")


@partner.command("activate")
@data_options
@json_option
@click.argument("partner_id", type=int)
@pass_operator
def partner_activate(operator: Operator, as_json: bool, partner_id: int) -> None:
    """Let a deactivated partner use the API again.

    \b
    Example:
      cleverfox partner activate 7
    """
    _set_partner_active(operator, partner_id, True, as_json)


@partner.command("deactivate")
@data_options
@json_option
@click.argument("partner_id", type=int)
@pass_operator
def partner_deactivate(operator: Operator, as_json: bool, partner_id: int) -> None:
    """Stop a partner from using the API (its key gets 403 partner_plan_required).

    \b
    Example:
      cleverfox partner deactivate 7
    """
    _set_partner_active(operator, partner_id, False, as_json)


def _set_partner_active(operator: Operator, partner_id: int, active: bool, as_json: bool) -> None:
    with operator.session() as (session, _secret):
        changed = partners.set_partner_active(session, partner_id, active)
        result = {"PartnerId": changed.id, "IsInactive": changed.is_inactive}
    emit(result, as_json, f"Partner {partner_id} is {'active' if active else 'inactive'}.")


def _partner_row(p: Partner) -> dict[str, Any]:
    return {
        "PartnerId": p.id,
        "Name": p.name,
        "PlanTypeId": p.plan_type_id,
        "PlanType": p.plan_type.name,
        "HasApiAccess": p.plan_type.has_api_access,
        "IsInactive": p.is_inactive,
        "AddedOn": format_datetime(p.added_on),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    """A plain text table of partners, one line each, under a heading."""
    heading = ("ID", "NAME", "PLAN TYPE", "STATUS", "ADDED ON (UTC)")
    lines = [
        (
            str(r["PartnerId"]),
            r["Name"],
            f"{r['PlanTypeId']} {r['PlanType']}",
            "inactive" if r["IsInactive"] else "active",
            r["AddedOn"],
        )
        for r in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(heading, *lines, strict=False)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in (heading, *lines)
    )


@click.group(cls=OperatorGroup)
def plantype() -> None:
    """Plan types (the catalogue of partner plans)."""


@plantype.command("create")
@data_options
@json_option
@click.option("--name", required=True, help="The plan type's name (at most 100 characters).")
@click.option(
    "--no-api-access",
    is_flag=True,
    help="Partners on this plan type may not call the API (403 partner_plan_required).",
)
@pass_operator
def plantype_create(operator: Operator, as_json: bool, name: str, no_api_access: bool) -> None:
    """Create a plan type.

    \b
    Example:
      cleverfox plantype create --name "Reseller Lite" --no-api-access --json
    """
    with operator.session() as (session, _secret):
        made = catalog.create_plan_type(session, name, has_api_access=not no_api_access)
        result = {"PlanTypeId": made.id}
    emit(result, as_json, f"Plan type {result['PlanTypeId']} created.")


@click.group(cls=OperatorGroup)
def plan() -> None:
    """Plans (what a subscription may use)."""


@plan.command("create")
@data_options
@json_option
@click.option("--name", required=True, help="The plan's name (at most 100 characters).")
@click.option("--plan-type-id", type=int, required=True, help="The plan type it belongs to.")
@click.option("--device-limit", type=int, required=True, help="Devices a subscription may have.")
@click.option("--storage-limit-gb", type=int, required=True, help="GB of stored backup data.")
@click.option("--download-limit", is_flag=True, help="Forbid downloading backup files.")
@pass_operator
def plan_create(
    operator: Operator,
    as_json: bool,
    name: str,
    plan_type_id: int,
    device_limit: int,
    storage_limit_gb: int,
    download_limit: bool,
) -> None:
    """Create a plan.

    \b
    Example:
      cleverfox plan create --name "Team" --plan-type-id 1 --device-limit 10 \\
        --storage-limit-gb 500 --json
    """
    with operator.session() as (session, _secret):
        made = catalog.create_plan(
            session,
            name,
            plan_type_id=plan_type_id,
            device_limit=device_limit,
            storage_limit_gb=storage_limit_gb,
            download_limit=download_limit,
        )
        result = {"PlanId": made.id}
    emit(result, as_json, f"Plan {result['PlanId']} created.")


@click.group(cls=OperatorGroup)
def subscription() -> None:
    """Subscriptions: the operator's settings of a company's plan."""


@subscription.command("set")
@data_options
@json_option
@click.argument("subscription_id", type=int)
@click.option(
    "--additional-devices", type=int, help="Devices allowed beyond the plan's device limit."
)
@click.option(
    "--inactive/--active",
    "inactive",
    default=None,
    help="Deactivate or reactivate the subscription.",
)
@pass_operator
def subscription_set(
    operator: Operator,
    as_json: bool,
    subscription_id: int,
    additional_devices: int | None,
    inactive: bool | None,
) -> None:
    """Set a subscription's AdditionalDevice and IsInactive (read-only to partners).

    \b
    Example:
      cleverfox subscription set 12 --additional-devices 3 --active
    """
    with operator.session() as (session, _secret):
        view = subscriptions.set_subscription(
            session, subscription_id, additional_devices=additional_devices, inactive=inactive
        )
        sub = view.subscription
        result = {
            "SubscriptionId": sub.id,
            "PartnerId": sub.partner_id,
            "CompanyId": sub.company_id,
            "PlanId": sub.plan_id,
            "AdditionalDevice": sub.additional_device,
            "IsInactive": sub.is_inactive,
        }
    state = "inactive" if sub.is_inactive else "active"
    emit(
        result,
        as_json,
        f"Subscription {sub.id}: {state}, {sub.additional_device} additional device(s).",
    )


def command(name: str) -> click.Command:
    """The command ``name`` of this module (``cli.lazy``)."""
    return {"partner": partner, "plantype": plantype, "plan": plan, "subscription": subscription}[
        name
    ]
