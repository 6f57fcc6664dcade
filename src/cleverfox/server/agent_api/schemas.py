"""Wire shape of the check-in's answer: the Device, its Jobs with their JobItems — including
the Username and Password the agent needs, which the public API never returns — the ids of
the jobs to run now, the server's clock, when to check in next, and the company's storage
terms (``Storage``: the id key that names chunks, the chunking parameters, MaxPackBytes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cleverfox.server.devices.schemas import DeviceView, Presentation
from cleverfox.server.job_items.schemas import job_item_out
from cleverfox.server.jobs.schemas import embedded_job_out
from cleverfox.server.kit.datetimes import format_utc_z
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import Job, JobItem
from cleverfox.server.runs.upload_schemas import storage_terms_out
from cleverfox.server.storage.upload import StorageTerms


@dataclass(frozen=True)
class CheckIn:
    """What a check-in answers, gathered inside its transaction."""

    device: DeviceView
    jobs: list[Job]
    run_now_job_ids: list[int]
    now: datetime
    next_check_in_seconds: int
    storage: StorageTerms


def check_in_out(result: CheckIn, how: Presentation, secret: ServerSecret) -> dict[str, Any]:
    return {
        "Device": how(result.device),
        "Jobs": [agent_job_out(job, secret) for job in result.jobs],
        "RunNowJobIds": result.run_now_job_ids,
        "ServerTimeUtc": format_utc_z(result.now),
        "NextCheckInSeconds": result.next_check_in_seconds,
        "Storage": storage_terms_out(result.storage),
    }


def agent_job_out(job: Job, secret: ServerSecret) -> dict[str, Any]:
    """A Job as the agent sees it: the public shape (its Device is the check-in's own, so not
    repeated) with credentials in its JobItems and whether a run-now waits."""
    data = embedded_job_out(job)
    data["JobItems"] = [agent_job_item_out(item, secret) for item in job.items]
    data["RunNowRequested"] = job.run_now_requested
    return data


def agent_job_item_out(item: JobItem, secret: ServerSecret) -> dict[str, Any]:
    """A JobItem with its Username and Password decrypted (only the agent gets them)."""
    data = job_item_out(item)
    data["Username"] = _decrypted(secret, item.username_encrypted)
    data["Password"] = _decrypted(secret, item.password_encrypted)
    return data


def _decrypted(secret: ServerSecret, envelope: str | None) -> str | None:
    return None if envelope is None else secret.decrypt(envelope)
