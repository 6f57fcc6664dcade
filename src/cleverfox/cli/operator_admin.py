"""``cleverfox partner|plantype|plan|subscription …``: the operator's administration."""

from __future__ import annotations

from typing import Any

import click

from cleverfox.cli.operator import data_options, emit, json_option, make_settings, operator_session
from cleverfox.server.partners import operator as partners


@click.group()
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
def partner_create(as_json: bool, name: str, plan_type_id: int, owner_email: str | None,
                   owner_first_name: str, owner_last_name: str, **options: Any) -> None:
    """Create a partner with its own company and print its API key (shown this once).

    \b
    Example:
      cleverfox partner create --name "Acme IT" --owner-email ops@acme.example --json
    """
    owner = partners.Owner(owner_email, owner_first_name, owner_last_name) if owner_email else None
    with operator_session(make_settings(**options)) as (session, secret):
        made = partners.create_partner(session, secret, name, plan_type_id, owner)
    result: dict[str, Any] = {"PartnerId": made.partner_id, "CompanyId": made.company_id,
                              "ApiKey": made.api_key}
    if made.partner_user_id is not None:
        result["PartnerUserId"] = made.partner_user_id
    emit(result, as_json, f"Partner {made.partner_id} created (company {made.company_id}).\n"
                          f"API key (shown once): {made.api_key}")


@partner.command("apikey")
@data_options
@json_option
@click.argument("partner_id", type=int)
def partner_apikey(as_json: bool, partner_id: int, **options: Any) -> None:
    """Issue a new API key; the old one stops working."""
    with operator_session(make_settings(**options)) as (session, secret):
        key = partners.rotate_partner_key(session, secret, partner_id)
    emit({"ApiKey": key}, as_json, f"New API key (shown once): {key}")


def register(cli: click.Group) -> None:
    cli.add_command(partner)
