"""Provision a customer: its company, a subscription on a plan, and its first device.

    python provision_customer.py "Acme Ltd" CRM-1042 FILESRV01 "GMT Standard Time"

Safe to run again: the company is found by its ExternalId, and each write carries a Token
derived from it, so a retried run never makes a second company, subscription or device.
"""

import os
import sys

from cleverfox.client import Client

MEDIUM_PLAN = 2  # up to 5 devices; `cleverfox plans list` shows them all


def main(name: str, external_id: str, device_name: str, time_zone: str) -> None:
    with Client(
        os.environ["CLEVERFOX_URL"],
        os.environ["CLEVERFOX_API_KEY"],
        fingerprint=os.environ.get("CLEVERFOX_FINGERPRINT"),
    ) as client:
        me = next(client.partners.list())
        company = next(client.companies.list(external_id=external_id), None)
        if company is None:
            company = client.companies.create(
                partner_id=me.partner_id,
                plan_type_id=me.plan_type_id or 1,
                name=name,
                external_id=external_id,
                token=f"provision-company-{external_id}",
            )
        subscription = next(client.subscriptions.list(company_id=company.company_id), None)
        if subscription is None:
            subscription = client.subscriptions.create(
                company_id=company.company_id,
                plan_id=MEDIUM_PLAN,
                token=f"provision-subscription-{external_id}",
            )
        device = client.devices.create(
            company_id=company.company_id,
            subscription_id=subscription.subscription_id,
            name=device_name,
            time_zone_id=time_zone,
            token=f"provision-device-{external_id}-{device_name}",
        )
        print(f"company {company.company_id}, subscription {subscription.subscription_id}")
        print(f"device {device.device_id}: install the agent from {device.agent_download_url}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
