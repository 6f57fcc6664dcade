"""The rotating log file: in the data folder, and secrets blanked, tracebacks included."""

from __future__ import annotations

import logging
from pathlib import Path

from cleverfox.agent.core.logfile import LOG_NAME, Redact, RunTail, agent_logger, open_log_file


def test_secrets_are_blanked_in_messages_and_tracebacks(tmp_path: Path) -> None:
    redact = Redact(["cfd_devicekey"])
    redact.add("pa55word", None)
    handler = open_log_file(tmp_path, redact)
    log = logging.getLogger("cleverfox.agent.test")
    try:
        log.info("key %s and %s", "cfd_devicekey", "pa55word")
        try:
            raise RuntimeError("login failed for pa55word")
        except RuntimeError:
            log.exception("item failed")
    finally:
        agent_logger().removeHandler(handler)
        handler.close()

    text = (tmp_path / LOG_NAME).read_text()
    assert "key ******** and ********" in text
    assert "RuntimeError: login failed for ********" in text  # the traceback is kept, blanked
    assert "pa55word" not in text and "cfd_devicekey" not in text


def test_a_runs_tail_keeps_the_last_fifty_lines() -> None:
    with RunTail(Redact(["hidden"])) as tail:
        for n in range(80):
            logging.getLogger("cleverfox.agent").info("line %d hidden", n)

    assert len(tail.lines) == 50
    assert tail.lines[0] == "INFO line 30 ********" and tail.lines[-1] == "INFO line 79 ********"
