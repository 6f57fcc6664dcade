"""Sync companies from your own system (a CSV export) by ExternalId.

    python sync_companies.py customers.csv

The CSV has the columns ExternalId, Name, Country and Active (yes/no). A company is made
for each ExternalId not seen before; one whose Name, Country or Active differ is updated;
the rest is left alone. Companies without an ExternalId are never touched.
"""

import csv
import os
import sys

from cleverfox.client import Client


def main(path: str) -> None:
    with open(path, newline="", encoding="utf-8") as file:
        wanted = {row["ExternalId"]: row for row in csv.DictReader(file)}
    made = changed = 0
    with Client(
        os.environ["CLEVERFOX_URL"],
        os.environ["CLEVERFOX_API_KEY"],
        fingerprint=os.environ.get("CLEVERFOX_FINGERPRINT"),
    ) as client:
        me = next(client.partners.list())
        existing = {c.external_id: c for c in client.companies.list() if c.external_id}
        for external_id, row in wanted.items():
            inactive = row["Active"].strip().lower() not in ("yes", "true", "1")
            company = existing.get(external_id)
            if company is None:
                client.companies.create(
                    partner_id=me.partner_id,
                    plan_type_id=me.plan_type_id or 1,
                    name=row["Name"],
                    country=row["Country"] or None,
                    external_id=external_id,
                    is_inactive=inactive,
                )
                made += 1
            elif (company.name, company.country or "", company.is_inactive) != (
                row["Name"], row["Country"], inactive
            ):
                client.companies.update(
                    company.company_id,
                    name=row["Name"],
                    country=row["Country"] or None,
                    is_inactive=inactive,
                )
                changed += 1
    print(f"{made} created, {changed} updated, {len(wanted) - made - changed} unchanged")


if __name__ == "__main__":
    main(sys.argv[1])
