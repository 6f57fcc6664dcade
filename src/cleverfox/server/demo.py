"""Demo data for ``cleverfox demo`` (what ``make run`` starts).

The demo partner's API key is kept in the data directory (``demo-api-key``, mode 0600) so a
second ``make run`` prints the same working ``curl`` line. Seeding runs once per data
directory; ``seed_demo_history`` is where companies, devices, jobs and logs are added.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Partner
from cleverfox.server.partners import operator

DEMO_KEY_FILE = "demo-api-key"
DEMO_PARTNER_NAME = "CleverFox Demo Partner"


@dataclass(frozen=True)
class Demo:
    partner_id: int
    api_key: str


def ensure_demo(session: Session, secret: ServerSecret, data_dir: Path) -> Demo:
    """The demo partner (made with its data on first use) and its API key."""
    key_file = data_dir / DEMO_KEY_FILE
    if key_file.exists():
        partner_id_text, _, api_key = key_file.read_text().strip().partition(" ")
        partner = session.get(Partner, int(partner_id_text))
        if partner is not None and partner.api_key_digest in secret.digests(api_key):
            return Demo(partner.id, api_key)
    made = operator.create_partner(
        session,
        secret,
        DEMO_PARTNER_NAME,
        owner=operator.Owner("owner@demo.cleverfox.invalid", "Dana", "Demo"),
    )
    seed_demo_history(session, made.partner_id, made.company_id, secret)
    _write_key(key_file, made.partner_id, made.api_key)
    return Demo(made.partner_id, made.api_key)


def seed_demo_history(
    session: Session, partner_id: int, company_id: int, secret: ServerSecret
) -> None:
    """Companies for the demo partner, made through the services so each writes its Event."""
    from cleverfox.server.companies.service import create_company
    from cleverfox.server.kit.events import Actor

    for name, external_id, city in (
        ("Northwind Traders", "NW-001", "Seattle"),
        ("Contoso Dental", "CD-002", "Auckland"),
        ("Fabrikam Legal", "FL-003", "London"),
    ):
        raw = {
            "PartnerId": partner_id,
            "PlanTypeId": 1,
            "Name": name,
            "ExternalId": external_id,
            "CityMunicipality": city,
        }
        create_company(session, partner_id, raw, Actor.OPERATOR)


def _write_key(path: Path, partner_id: int, api_key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{partner_id} {api_key}\n")
