"""CleverFox in the backup suite: a real server process and the real agent command line.

The server is the production stack (``benchmarks.servers``: uvicorn over TLS, SQLite, a
fresh data folder with storage in its ``storage/``). Through the SDK the suite makes a
company, a subscription, a device and a job with one File item on the corpus; the agent is
then used exactly as a person would (agent.md §2):

    cleverfox agent enrol --server URL --fingerprint FP --key KEY --config CFG
    cleverfox agent backup JOB_ID --config CFG            (first, unchanged, after the change)
    cleverfox agent restore LOG_ITEM_ID --to EMPTY --config CFG

Bytes uploaded are the Log's BytesUploaded, read through the API; bytes stored are the
server's ``storage/`` folder and its database files. While ``cleverfox agent`` (or one of
these commands) is missing, :meth:`CleverFox.missing` says so and the suite reports it.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.backup_measure import (
    StepFailed,
    folder_size,
    reset_peak,
    run_measured,
    sampling,
    tree_peak,
)
from benchmarks.backup_report import CLEVERFOX, Step
from benchmarks.backup_tools import Session, Workspace, installed_version
from benchmarks.servers import (
    UVICORN,
    RunningServer,
    cpu_seconds,
    new_partner,
    running,
    sqlite_engine,
)
from cleverfox.client import Client, JobStatus
from cleverfox.server.kit.tls import ensure_certificate

AGENT_COMMANDS = ("enrol", "backup", "restore")
FILE_BACKUP_TYPE = 1
LARGE_PLAN = 3  # 50 devices, 2,500 GB: no limit in the way
DATA_OPTIONS = ("--data-dir", "--data-folder")  # enrol's option for the agent's data folder
DATABASE_FILES = ("cleverfox.db", "cleverfox.db-wal", "cleverfox.db-shm")


def cleverfox_command() -> tuple[str, ...]:
    """The ``cleverfox`` script of this environment (what a person runs), else ``-m``."""
    script = Path(sys.executable).with_name("cleverfox")
    return (str(script),) if script.exists() else (sys.executable, "-m", "cleverfox")


def _help(*arguments: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(  # noqa: S603 - our own command line
            [*cleverfox_command(), *arguments, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except OSError:
        return None


class CleverFox:
    """The agent against a server of its own, both real processes over HTTPS."""

    name = CLEVERFOX

    def missing(self) -> str | None:
        for command in ((), *((name,) for name in AGENT_COMMANDS)):
            done = _help("agent", *command)
            if done is None or done.returncode != 0:
                what = " ".join(("cleverfox agent", *command))
                return f"`{what}` is not available in this build yet"
        return None

    def version(self) -> str:
        return installed_version([*cleverfox_command(), "--version"])

    def commands(self) -> tuple[str, ...]:
        return (
            "cleverfox agent enrol --server URL --fingerprint FP --key KEY --config CFG",
            "cleverfox agent backup JOB_ID --config CFG",
            "cleverfox agent restore LOG_ITEM_ID --to EMPTY --config CFG",
        )

    @contextmanager
    def session(self, work: Workspace) -> Iterator[Session]:
        with sqlite_engine() as engine, running(UVICORN, engine) as server:
            fingerprint = ensure_certificate(engine.settings).fingerprint_sha256
            partner = new_partner(engine)
            with Client(server.url, partner.api_key, fingerprint=fingerprint) as client:
                device = _provision(client, partner.partner_id, work.corpus)
                session = _AgentSession(work, server, client, device)
                session.enrol(fingerprint)
                yield session


@dataclass(frozen=True)
class _Device:
    device_id: int
    api_key: str
    job_id: int


def _provision(client: Client, partner_id: int, corpus: Path) -> _Device:
    """A company, subscription, device and a job with one File item on ``corpus``."""
    company = client.companies.create(
        partner_id=partner_id, plan_type_id=1, name="Backup benchmark"
    )
    subscription = client.subscriptions.create(company_id=company.company_id, plan_id=LARGE_PLAN)
    device = client.devices.create(
        company_id=company.company_id,
        subscription_id=subscription.subscription_id,
        name="bench-device",
        time_zone_id="UTC",
    )
    tomorrow = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(1)
    job = client.jobs.create(
        device_id=device.device_id,
        name="Corpus",
        frequency="Daily",
        next_run_on=tomorrow.replace(microsecond=0),
        late_after=60,
        every=1,
        cloud_keep_last=10,
        local_keep_last=0,
    )
    client.job_items.create(
        job_id=job.job_id,
        backup_type_id=FILE_BACKUP_TYPE,
        base_folder=str(corpus),
        include_sub_folders=True,
        search_patterns="*",
    )
    if not device.api_key:
        raise StepFailed("the new device came back without its ApiKey")
    return _Device(device.device_id, device.api_key, job.job_id)


class _AgentSession:
    def __init__(
        self, work: Workspace, server: RunningServer, client: Client, device: _Device
    ) -> None:
        self.work, self.server, self.client, self.device = work, server, client, device
        self.environment = work.environment("cleverfox")
        self.config = work.folder("agent") / "agent.toml"
        self.log_item_id: int | None = None

    def enrol(self, fingerprint: str) -> None:
        command = [*cleverfox_command(), "agent", "enrol", "--server", self.server.url]
        command += ["--fingerprint", fingerprint, "--key", self.device.api_key]
        command += ["--config", str(self.config)]
        enrol_help = _help("agent", "enrol")
        option = next((o for o in DATA_OPTIONS if enrol_help and o in enrol_help.stdout), None)
        if option is not None:
            # As root the default is /var/lib/cleverfox/agent: shared, and a stale files
            # cache there would make a "first" backup look unchanged.
            command += [option, str(self.work.folder("agent-data"))]
        run_measured(command, environment=self.environment, log=self.work.log("cleverfox", "enrol"))

    def backup(self, step: str) -> Step:
        command = [*cleverfox_command(), "agent", "backup", str(self.device.job_id)]
        measured = self._measure(step, [*command, "--config", str(self.config)])
        uploaded = self._finished_log()
        return replace(measured, stored=self._stored(), uploaded=uploaded)

    def restore(self, target: Path) -> Step:
        if self.log_item_id is None:
            raise StepFailed("no Log Item to restore: no backup completed")
        command = [*cleverfox_command(), "agent", "restore", str(self.log_item_id)]
        command += ["--to", str(target), "--config", str(self.config)]
        return replace(self._measure("restore", command), stored=self._stored())

    def _measure(self, step: str, command: list[str]) -> Step:
        """The agent's process measured, and the server's CPU and peak RSS meanwhile."""
        pid = self.server.process.pid
        self.work.settle()
        reset_peak(pid)
        log = self.work.log("cleverfox", step)
        cpu_before = cpu_seconds(pid)
        with sampling(pid) as server:
            measured = run_measured(command, environment=self.environment, log=log)
        cpu_after = cpu_seconds(pid)
        server_cpu = None
        if cpu_before is not None and cpu_after is not None:
            server_cpu = cpu_after - cpu_before
        return Step(
            step,
            measured.seconds,
            measured.cpu_seconds,
            measured.peak_rss,
            server_cpu_seconds=server_cpu,
            server_peak_rss=max(server.peak, tree_peak(pid)),
        )

    def _finished_log(self) -> int | None:
        """The job's newest Log: Completed, or StepFailed with its errors; its upload."""
        log = next(iter(self.client.logs.list(job_id=self.device.job_id, limit=1)), None)
        if log is None:
            raise StepFailed("the agent exited 0 but the server has no Log of the run")
        if log.job_status != JobStatus.COMPLETED:
            raise StepFailed(f"Log {log.log_id} is {log.job_status}: {log.error_messages}")
        if log.log_items:
            self.log_item_id = log.log_items[0].log_item_id
        return log.bytes_uploaded

    def _stored(self) -> int:
        data = self.server.engine.data_dir
        paths = [data / "storage", *(data / name for name in DATABASE_FILES)]
        return folder_size(*paths).apparent
