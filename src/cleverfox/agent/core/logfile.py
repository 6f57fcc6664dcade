"""The agent's log: a rotating file in its data folder, and the tail of each run.

Credentials are never logged (nothing logs them); as a second line of defence every record
passes a filter that blanks the texts it is given (the device key, the items' passwords)
before it reaches any handler.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from cleverfox.agent.core.files import private_folder

LOG_NAME = "agent.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
TAIL_LINES = 50
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "********"


class Redact(logging.Filter):
    """Replaces each secret text in a record's message with ``********``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}

    def add(self, *secrets: str | None) -> None:
        self.secrets.update(s for s in secrets if s)

    def text(self, line: str) -> str:
        """``line`` with every secret blanked."""
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if record.exc_info:  # a traceback shows values too: fold it in, then blank
                message += "\n" + logging.Formatter().formatException(record.exc_info)
                record.exc_info, record.exc_text = None, None
            record.msg, record.args = self.text(message), None
        return True


def agent_logger() -> logging.Logger:
    """The logger every agent and agent-transport record goes through."""
    return logging.getLogger("cleverfox")


def open_log_file(data_folder: Path, redact: Redact, level: int = logging.INFO) -> logging.Handler:
    """Attach the rotating log file (``agent.log``, 5 × 5 MiB) to the agent's logger."""
    handler = logging.handlers.RotatingFileHandler(
        private_folder(data_folder) / LOG_NAME,
        maxBytes=MAX_BYTES,
        backupCount=BACKUPS,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(redact)
    logger = agent_logger()
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level or level))
    return handler


class RunTail(logging.Handler):
    """The last lines logged during one run (at most ``TAIL_LINES``), for a failed run's
    ErrorMessages. Attach with ``with RunTail(redact) as tail:``."""

    def __init__(self, redact: Redact, lines: int = TAIL_LINES) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=lines)
        self.addFilter(redact)
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record).splitlines()[0] if record.getMessage() else "")

    def __enter__(self) -> RunTail:
        logger = agent_logger()
        self._level = logger.level
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)  # a run's INFO lines belong in its tail
        logger.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logger = agent_logger()
        logger.removeHandler(self)
        logger.setLevel(self._level)
