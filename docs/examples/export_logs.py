"""Export the logs of a period as CSV, for billing or a monthly report.

    python export_logs.py 2026-03-01 2026-04-01 > march.csv
    python export_logs.py 2026-03-01 > since-march.csv

Dates without a zone are UTC; the end defaults to now. The listing pages through any number
of logs in flat memory, and each row is written as it arrives, so `| head` stops it early.
"""

import csv
import os
import sys
from datetime import UTC, datetime

from cleverfox.client import Client

COLUMNS = [
    "LogId", "AddedOn", "CompanyId", "Company", "DeviceId", "Device", "JobId", "Job",
    "JobStatus", "Trigger", "JobStartedOn", "JobCompletedOn", "DurationSeconds",
    "BytesUploaded", "ErrorMessages",
]


def main(since: str, until: str | None = None) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(COLUMNS)
    with Client(
        os.environ["CLEVERFOX_URL"],
        os.environ["CLEVERFOX_API_KEY"],
        fingerprint=os.environ.get("CLEVERFOX_FINGERPRINT"),
    ) as client:
        logs = client.logs.list(
            since=datetime.fromisoformat(since),
            until=datetime.fromisoformat(until) if until else datetime.now(UTC),
        )
        for log in logs:
            writer.writerow([
                log.log_id, log.added_on, log.company_id,
                log.company.name if log.company else "", log.device_id,
                log.device.name if log.device else "", log.job_id, log.name,
                log.job_status, log.trigger, log.job_started_on, log.job_completed_on,
                log.duration_seconds, log.bytes_uploaded, log.error_messages,
            ])


if __name__ == "__main__":
    try:
        main(*sys.argv[1:3])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): not a failure to report. Point stdout at
        # /dev/null so that Python's own flush at exit does not raise it again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
