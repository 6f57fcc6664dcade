"""List the jobs that failed or were missed in the last day, newest first.

    python failed_jobs.py            # the last 24 hours
    python failed_jobs.py 168        # the last week
"""

import os
import sys
from datetime import timedelta

from cleverfox.client import Client, JobStatus


def main(hours: float = 24) -> None:
    since = timedelta(hours=hours)
    with Client(
        os.environ["CLEVERFOX_URL"],
        os.environ["CLEVERFOX_API_KEY"],
        fingerprint=os.environ.get("CLEVERFOX_FINGERPRINT"),
    ) as client:
        failed = list(client.logs.list(job_status=JobStatus.FAILED, since=since))
        missed = list(client.logs.list(job_status=JobStatus.MISSED, since=since))
        for log in sorted(failed + missed, key=lambda log: log.log_id, reverse=True):
            device = log.device.name if log.device else f"device {log.device_id}"
            company = log.company.name if log.company else f"company {log.company_id}"
            problem = (log.error_messages or "").replace("\r\n", " / ")
            print(f"{log.added_on:%Y-%m-%d %H:%M}Z  {log.job_status}  {company} / {device} / "
                  f"{log.name}  {problem}".rstrip())
        print(f"{len(failed)} failed, {len(missed)} missed in the last {hours:g} hours")


if __name__ == "__main__":
    main(*(float(arg) for arg in sys.argv[1:2]))
