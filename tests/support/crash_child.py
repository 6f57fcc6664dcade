"""A process that stores or collects garbage and dies by SIGKILL at a chosen backend call.

``python -m tests.support.crash_child DATA_DIR DB_URL ACTION KILL_AT [ARGS…]``: ``ACTION`` is
``commit SEED`` (store one backup of files made from ``SEED``) or ``gc NOW_ISO GRACE_S`` (one
GC pass at that time); the process kills itself (``kill -9``: no cleanup, no rollback, no
flush) just before its backend call number ``KILL_AT`` (``put`` or ``delete``; 0 = never),
or right after it when ``KILL_AT`` is negative. The crash tests then restart and check.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cleverfox.server.storage.gc import GarbageCollector
from cleverfox.storage.backends.base import Backend, Payload
from tests.support.stored import add_run, server_store, store_backup


def seeded_files(seed: int) -> dict[str, bytes]:
    """The files of backup ``seed``: one shared by every backup, one of its own."""
    shared = bytes((i * 7) % 251 for i in range(6000))
    own = bytes((i * seed + seed) % 253 for i in range(5000))
    return {"shared.bin": shared, f"own-{seed}.bin": own}


class KillingBackend:
    """``backend``, but the process dies at write call number ``at`` (see the module)."""

    def __init__(self, backend: Backend, at: int) -> None:
        self._backend = backend
        self._at = at
        self._calls = 0

    def _write(self, call: Any, *args: Any) -> None:
        self._calls += 1
        if self._calls == self._at:
            os.kill(os.getpid(), signal.SIGKILL)
        call(*args)
        if self._calls == -self._at:
            os.kill(os.getpid(), signal.SIGKILL)

    def put(self, name: str, data: Payload) -> None:
        self._write(self._backend.put, name, data)

    def delete(self, name: str) -> None:
        self._write(self._backend.delete, name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def main(argv: list[str]) -> None:
    data_dir, url, action, kill_at, *rest = argv
    store = server_store(Path(data_dir), url)
    store.backend = KillingBackend(store.backend, int(kill_at))
    if action == "commit":
        seed = int(rest[0])
        with store.db.writing() as session:
            run = add_run(session, 9_000_001, 9_000_002, 9_000_003, 9_000_004)
        store_backup(store, run, seeded_files(seed))
    else:
        now, grace = datetime.fromisoformat(rest[0]), timedelta(seconds=float(rest[1]))
        GarbageCollector(store.db, store.backend, store.secret, grace=grace).collect(now)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
