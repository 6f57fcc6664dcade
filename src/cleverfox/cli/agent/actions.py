"""What each ``cleverfox agent`` command does (imported when one runs).

Each function parses nothing and prints what it returns; failures are
:class:`~cleverfox.cli.agent.wiring.AgentFailed` (one line, the exit code).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic.alias_generators import to_pascal

from cleverfox.agent.core import config as agent_config
from cleverfox.agent.core.agent import serve as serve_loop
from cleverfox.agent.core.errors import EXIT_OK, EXIT_RUN_FAILED, EXIT_SERVER, ConfigError
from cleverfox.agent.core.progress import RunProgress, TerminalLine
from cleverfox.agent.core.runner import FAILED, RunResult
from cleverfox.agent.core.schedule import clock_offset, device_zone, upcoming
from cleverfox.agent.core.service_files import install, service_file
from cleverfox.agent.core.state import AgentState
from cleverfox.agent.core.uploader import ServerUploader
from cleverfox.cli.agent.wiring import (
    AgentFailed,
    backup_module,
    client_of,
    config_path,
    default_locations,
    describe,
    facts,
    load_settings,
    reported,
    running_agent,
)
from cleverfox.client import errors, normalize_fingerprint
from cleverfox.client.agent import AgentClient, fetch_agent_config


@reported
def enrol(
    url: str | None,
    server: str | None,
    fingerprint: str | None,
    key: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> str:
    """Fetch (or take) the device's configuration, check in once, write the config file."""
    pin = normalize_fingerprint(fingerprint) if fingerprint else None
    expected_device: int | None = None
    if url is not None:
        fetched = fetch_agent_config(url, fingerprint=pin)
        served_pin = normalize_fingerprint(fetched.fingerprint) if fetched.fingerprint else None
        if pin and served_pin and served_pin != pin:
            raise AgentFailed(
                "the configuration names another certificate than --fingerprint", EXIT_SERVER
            )
        server, key, pin = fetched.server_url, fetched.api_key, served_pin or pin
        expected_device = fetched.device_id
    assert server is not None and key is not None
    sent = datetime.now(UTC)
    with AgentClient(server, key, fingerprint=pin) as client:
        answer = client.checkin(facts())
    device_id = int(answer.device["DeviceId"])
    if expected_device is not None and device_id != expected_device:
        raise AgentFailed(
            f"the key belongs to device {device_id}, not {expected_device}", EXIT_SERVER
        )
    path = config_path(config).absolute()
    folder = (data_dir or Path(default_locations().data_folder)).absolute()
    settings = agent_config.AgentSettings(server, pin, device_id, key, folder)
    agent_config.save(settings, path)
    offset = clock_offset(answer.server_time_utc, sent, datetime.now(UTC))
    AgentState(folder).checked_in(datetime.now(UTC), offset, answer.device, answer.jobs)
    name = answer.device.get("Name") or "-"
    return f"enrolled as device {device_id} ({name}) of {server}; config {path}, data {folder}"


@reported
def serve(config: Path | None, grace: int) -> None:
    """The service: until SIGTERM/SIGINT."""
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    with running_agent(config) as running:
        signal.signal(signal.SIGTERM, stopping)
        signal.signal(signal.SIGINT, stopping)
        serve_loop(running.agent, stop, grace=float(grace))


def _results(results: Sequence[RunResult], as_json: bool) -> int:
    if as_json:
        print_json([_run_json(r) for r in results])
    for result in results if not as_json else ():
        print(
            f"job {result.job_id}: {result.status}"
            + (f" (log {result.log_id})" if result.log_id else "")
        )
        for line in result.messages:
            print(f"  {line}")
    return EXIT_RUN_FAILED if any(r.status == FAILED for r in results) else EXIT_OK


def _run_json(result: RunResult) -> dict[str, Any]:
    return {
        "JobId": result.job_id,
        "LogId": result.log_id,
        "Status": result.status,
        "Messages": result.messages,
        "BytesUploaded": result.bytes_uploaded,
    }


@reported
def run_once(config: Path | None, as_json: bool) -> int:
    """Recover, check in, run what is due; 0 when nothing failed."""
    with running_agent(config) as running:
        running.agent.recover()
        results = running.agent.run_due()
    if not results and not as_json:
        print("nothing is due")
    return _results(results, as_json)


@reported
def run_backup(config: Path | None, job_id: int, progress: bool, as_json: bool) -> int:
    """One job now, with the live line on stderr when asked."""
    listeners = (lambda _: [TerminalLine(sys.stderr)]) if progress else (lambda _: [])
    with running_agent(config, listeners=listeners) as running:
        running.agent.recover()
        result = running.agent.run_job(job_id)
    return _results([result], as_json)


@reported
def show_status(config: Path | None, as_json: bool) -> int:
    """The report of ``status``; exit 3 when the server could not be reached."""
    path, settings = load_settings(config)
    state = AgentState(settings.data_folder)
    reach: dict[str, Any] = {"Reachable": True, "Error": None}
    try:
        sent = datetime.now(UTC)
        with client_of(settings, retries=0, timeout=10.0) as client:
            answer = client.checkin(facts())
        offset = clock_offset(answer.server_time_utc, sent, datetime.now(UTC))
        state.checked_in(datetime.now(UTC), offset, answer.device, answer.jobs)
    except errors.CleverFoxError as exc:
        reach = {"Reachable": False, "Error": describe(exc, settings.server_url)[0]}
    report = _status_report(path, settings, state, reach)
    if as_json:
        print_json(report)
    else:
        print(_status_text(report))
    return EXIT_OK if reach["Reachable"] else EXIT_SERVER


def _status_report(
    path: Path, settings: agent_config.AgentSettings, state: AgentState, reach: dict[str, Any]
) -> dict[str, Any]:
    last = state.last_check_in()
    jobs: list[dict[str, Any]] = []
    if last is not None:
        for job, next_utc in upcoming(last.jobs, device_zone(last.device)):
            jobs.append(
                {
                    "JobId": job.get("JobId"),
                    "Name": job.get("Name"),
                    "NextRunOn": job.get("NextRunOn"),
                    "NextRunUtc": _utc(next_utc),
                    "LateAfter": job.get("LateAfter"),
                    "RunNowRequested": bool(job.get("RunNowRequested")),
                    "CloudKeepLast": job.get("CloudKeepLast"),
                    "LocalKeepLast": job.get("LocalKeepLast"),
                }
            )
    return {
        "Config": {
            "Path": str(path),
            "ServerUrl": settings.server_url,
            "DeviceId": settings.device_id,
            "Fingerprint": settings.fingerprint,
            "DataFolder": str(settings.data_folder),
        },
        "Server": reach,
        "LastCheckInUtc": _utc(last.at_utc) if last else None,
        "ClockOffsetSeconds": round(last.clock_offset.total_seconds(), 3) if last else None,
        "Device": {k: last.device.get(k) for k in ("Name", "IanaTimeZoneId")} if last else None,
        "Jobs": jobs,
        "RunningRuns": [
            {"LogId": r.log_id, "JobId": r.job_id, "StartedUtc": _utc(r.started_utc)}
            for r in state.running()
        ],
        "LastRuns": [
            {
                "LogId": r.log_id,
                "JobId": r.job_id,
                "JobName": r.job_name,
                "Trigger": r.trigger,
                "Status": r.status,
                "StartedUtc": _utc(r.started_utc),
                "FinishedUtc": _utc(r.finished_utc),
                "BytesUploaded": r.bytes_uploaded,
                "FirstError": r.first_error,
            }
            for r in state.last_runs()
        ],
    }


def _status_text(report: dict[str, Any]) -> str:
    config, server = report["Config"], report["Server"]
    lines = [
        f"config:      {config['Path']}",
        f"server:      {config['ServerUrl']} "
        + ("(reachable)" if server["Reachable"] else f"(UNREACHABLE: {server['Error']})"),
        f"device:      {config['DeviceId']}"
        + (f" {report['Device']['Name']}" if report["Device"] else ""),
        f"data folder: {config['DataFolder']}",
        f"last check-in: {report['LastCheckInUtc'] or 'never'}",
        "jobs:" if report["Jobs"] else "jobs: none",
    ]
    for job in report["Jobs"]:
        now = " (run now requested)" if job["RunNowRequested"] else ""
        lines.append(
            f"  {job['JobId']:>6}  {job['Name']}: next {job['NextRunOn'] or '-'} (device time){now}"
        )
    for run in report["RunningRuns"]:
        lines.append(f"running: log {run['LogId']} of job {run['JobId']} since {run['StartedUtc']}")
    lines.append("last runs:" if report["LastRuns"] else "last runs: none")
    for run in report["LastRuns"]:
        error = f" — {run['FirstError']}" if run["FirstError"] else ""
        lines.append(
            f"  {run['FinishedUtc']}  job {run['JobId']} log {run['LogId']}: {run['Status']}{error}"
        )
    return "\n".join(lines)


def _archive_folders(settings: agent_config.AgentSettings) -> list[Path]:
    """Where local copies may be: each known job's ArchiveFolder (relative to the data
    folder; default ``archive/job-{JobId}``) and every store under ``archive/``."""
    folders: list[Path] = []
    last = AgentState(settings.data_folder).last_check_in()
    for job in last.jobs if last else []:
        folder = Path(str(job.get("ArchiveFolder") or f"archive/job-{job.get('JobId')}"))
        folders.append(folder if folder.is_absolute() else settings.data_folder / folder)
    archive = settings.data_folder / "archive"
    if archive.is_dir():
        folders.extend(sorted(p for p in archive.iterdir() if p.is_dir()))
    return list(dict.fromkeys(folders))


def _copies_of(settings: agent_config.AgentSettings) -> list[Any]:
    backup = backup_module("copies")
    return list(backup.list_copies(_archive_folders(settings)))


@reported
def show_copies(config: Path | None, as_json: bool) -> None:
    """The local copies kept (from the backup part's ``list_copies``)."""
    _, settings = load_settings(config)
    found = _copies_of(settings)
    rows = [
        _pascal(dataclasses.asdict(copy))
        if dataclasses.is_dataclass(copy) and not isinstance(copy, type)
        else copy
        for copy in found
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        print("no local copies")
    for row in rows:
        print(
            f"job {row.get('JobId')} {row.get('JobName', '')}: log item {row.get('LogItemId')} "
            f"{row.get('StartedOn', '')} {row.get('FileName', '')} "
            f"({row.get('EntryCount', '?')} files)"
        )


@reported
def run_restore(
    config: Path | None,
    log_item_id: int,
    target: Path,
    paths: list[str],
    local: bool,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Restore from the server or, with ``local``, from a local copy."""
    _, settings = load_settings(config)
    backup = backup_module("restore")
    restoring = importlib.import_module("cleverfox.agent.backup.restore")
    refused: tuple[type[BaseException], ...] = tuple(
        kind for kind in (getattr(restoring, "RestoreError", None),) if isinstance(kind, type)
    )
    progress = RunProgress([TerminalLine(sys.stderr)] if sys.stderr.isatty() else [])
    try:
        if local:
            result = _restore_local(
                backup, settings, log_item_id, target, paths, overwrite, progress
            )
        else:
            result = _restore_from_server(
                backup, settings, log_item_id, target, paths, overwrite, progress
            )
    except refused as exc:
        raise AgentFailed(str(exc), EXIT_RUN_FAILED) from None
    progress.finish()
    files, size = getattr(result, "files", 0), getattr(result, "bytes", 0)
    warnings: list[str] = list(getattr(result, "warnings", []))
    if as_json:
        print_json({"Files": files, "Bytes": size, "Warnings": warnings, "To": str(target)})
    else:
        print(f"restored {files} files ({size} bytes) into {target}")
        for line in warnings:
            print(f"  {line}")


def _restore_local(
    backup: Any,
    settings: agent_config.AgentSettings,
    log_item_id: int,
    target: Path,
    paths: list[str],
    overwrite: bool,
    progress: RunProgress,
) -> Any:
    restoring = importlib.import_module("cleverfox.agent.backup.restore")
    found = restoring.find_local_copy(_archive_folders(settings), log_item_id)
    if found is None:
        raise ConfigError(
            f"no local copy of log item {log_item_id} on this device (see `cleverfox agent copies`)"
        )
    folder, copy_id = found
    store_module = importlib.import_module("cleverfox.agent.backup.local_store")
    with store_module.LocalStore(folder) as store:
        return backup.restore(
            store, copy_id, target, paths=paths, overwrite=overwrite, progress=progress
        )


def _restore_from_server(
    backup: Any,
    settings: agent_config.AgentSettings,
    log_item_id: int,
    target: Path,
    paths: list[str],
    overwrite: bool,
    progress: RunProgress,
) -> Any:
    with client_of(settings) as client:
        answer = client.checkin(facts())
        if answer.storage is None:
            raise AgentFailed(
                "the server offers no storage (its check-in has no Storage)", EXIT_RUN_FAILED
            )
        uploader = ServerUploader(client)
        return backup.restore(
            uploader,
            log_item_id,
            target,
            id_key=answer.storage.id_key,
            paths=paths,
            overwrite=overwrite,
            progress=progress,
        )


@reported
def service(config: Path | None, target: str, python: str, print_only: bool, enable: bool) -> str:
    """The service file's text (``--print``), what ``--enable`` would do, or do it."""
    path = config_path(config).absolute()
    try:
        data_folder = agent_config.load(path).data_folder
    except ConfigError:
        if enable:
            raise
        data_folder = Path(default_locations().data_folder)
    made = service_file(target, python, path, data_folder)
    if print_only:
        return made.text
    if not enable:
        steps = "\n".join("  " + " ".join(command) for command in made.enable)
        return (
            f"{made.text}\n# would be written to {made.path}, then:\n{steps}\n"
            "# run again with --enable (as root / administrator) to install it\n"
        )
    if target != sys.platform and not (target == "win32" and sys.platform.startswith("win")):
        raise ConfigError(f"--enable installs for this machine ({sys.platform}), not {target}")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        raise ConfigError("--enable needs root (sudo cleverfox agent install-service --enable)")
    try:
        install(made)
    except subprocess.CalledProcessError as exc:
        said = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise AgentFailed(
            f"{' '.join(exc.cmd)} failed: {said[-1] if said else exc.returncode}", EXIT_RUN_FAILED
        ) from None
    return f"installed {made.path} and enabled it\n"


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _pascal(values: dict[str, Any]) -> dict[str, Any]:
    return {to_pascal(k): v for k, v in values.items()}
