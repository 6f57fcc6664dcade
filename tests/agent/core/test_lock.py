"""The data folder's lock: a second agent process is refused while the first runs, and a
dead one's lock is gone with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cleverfox.agent.core.errors import AgentBusy
from cleverfox.agent.core.lock import DataFolderLock

HOLD = """
import sys, time
from pathlib import Path
from cleverfox.agent.core.lock import DataFolderLock
lock = DataFolderLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_process_is_refused_until_the_first_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AgentBusy, match="another agent is running"):
            DataFolderLock(tmp_path).acquire()
    finally:
        holder.kill()  # as kill -9 would: the OS drops the lock with the process
        holder.wait()

    with DataFolderLock(tmp_path) as lock:
        assert lock.path.read_text().strip().isdigit()


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    first = DataFolderLock(tmp_path)
    first.acquire()
    first.release()

    with DataFolderLock(tmp_path):
        pass
