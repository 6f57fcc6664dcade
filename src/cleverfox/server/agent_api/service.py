"""The rules of a check-in: what the agent reports is recorded, and it learns what to do.

A routine check-in writes no Event (README §5); ``devices.service.check_in`` writes the ones
a check-in does write (Device Online, a changed fact).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.agent_api import repository
from cleverfox.server.agent_api.schemas import CheckIn
from cleverfox.server.devices import service as devices
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.storage.upload import terms_for


def check_in(
    session: Session,
    agent: DevicePrincipal,
    raw: dict[str, Any],
    how: Presentation,
    interval: int,
    secret: ServerSecret,
) -> CheckIn:
    """``POST /api/agent/checkin``: the facts reported are recorded (LastApiCheckAt now);
    the answer holds the device, its active jobs with their items, the jobs to run now, the
    server's clock, when to check in next (``interval`` seconds) and the company's storage
    terms (its keys made on the first check-in)."""
    device_id = agent.device_id
    view = devices.check_in(session, device_id, raw, how.now, how.online_window)
    return CheckIn(
        view,
        repository.active_jobs(session, device_id),
        repository.run_now_job_ids(session, device_id),
        how.now,
        interval,
        terms_for(session, secret, agent.company_id),
    )
