"""The agent's progress reports of a Running Log (``PUT /api/agent/logs/{LogId}/progress``).

The last report is kept on the Log (``logs.progress``, JSON of the attributes sent) and
shown as its ``Progress`` while it is Running; the finish clears it. A report is not an
Event and changes nothing else (not UpdatedOn): it is frequent and only informative.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from cleverfox.server.kit.errors import Conflict, NotFound
from cleverfox.server.kit.wire import snake
from cleverfox.server.logs.schemas import RUNNING
from cleverfox.server.runs import repository
from cleverfox.server.runs.upload_schemas import PROGRESS, PROGRESS_FIELDS


def report_progress(session: Session, device_id: int, log_id: int, raw: dict[str, Any]) -> None:
    """Keep the report on the device's Running Log; 404 for another's, 409
    ``log_not_running`` once it finished."""
    values = PROGRESS.parse_create(raw)
    log = repository.log_of_device(session, device_id, log_id)
    if log is None:
        raise NotFound()
    if log.job_status != RUNNING:
        raise Conflict("Progress is reported while the Log is Running.", code="log_not_running")
    fields = {name: values.get(snake(name)) for name in PROGRESS_FIELDS}
    log.progress = orjson.dumps({k: v for k, v in fields.items() if v is not None}).decode()
