"""The agent transport against a real server over HTTPS: the pinned certificate, the
device's key, check-in, a run started and finished, and the errors each maps to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cleverfox.client import errors
from cleverfox.client.agent import AgentClient, fetch_agent_config
from cleverfox.server.kit.datetimes import utcnow
from tests.contract._fixtures_devices import create_device, create_item, create_job, wall
from tests.support.server import Partner, ServerProcess

WRONG_PIN = "00" * 32


@pytest.fixture
def device(partner: Partner) -> dict[str, Any]:
    return create_device(partner, time_zone="Tokyo Standard Time")


@pytest.fixture
def agent(server: ServerProcess, device: dict[str, Any]) -> Iterator[AgentClient]:
    with AgentClient(server.url, device["ApiKey"], fingerprint=server.fingerprint) as made:
        yield made


def due_job(partner: Partner, device: dict[str, Any]) -> dict[str, Any]:
    due = utcnow().replace(microsecond=0) + timedelta(hours=9) - timedelta(minutes=5)
    job = create_job(partner, device["DeviceId"], NextRunOn=wall(due), LateAfter=60)
    create_item(partner, job["JobId"])
    return job


def test_checkin_answers_the_device_its_jobs_and_the_clock(
    agent: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device)
    assert partner.client.post(f"/api/jobs/{job['JobId']}/run", json={}).status_code == 202

    answer = agent.checkin({"Hostname": "fs01", "AgentVersion": "test"})

    assert answer.device["DeviceId"] == device["DeviceId"]
    assert answer.device["IanaTimeZoneId"] == "Asia/Tokyo"
    assert [j["JobId"] for j in answer.jobs] == [job["JobId"]]
    assert answer.jobs[0]["JobItems"][0]["BaseFolder"] == "C:\\Data"
    assert abs((answer.server_time_utc - datetime.now(UTC)).total_seconds()) < 60
    assert answer.next_check_in_seconds > 0
    assert answer.run_now_job_ids == [job["JobId"]]


def test_a_run_is_started_and_finished_with_its_items(
    agent: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device)
    item_id = partner.client.get("/api/jobitems", params={"JobId": job["JobId"]}).json()["data"][0][
        "JobItemId"
    ]

    log = agent.start_log(job["JobId"])
    with pytest.raises(errors.Conflict) as running:
        agent.start_log(job["JobId"])
    finished = agent.finish_log(
        log["LogId"],
        status="Failed",
        error_messages=["first problem", "second problem"],
        log_items=[{"JobItemId": item_id, "BackupFileName": "a.zip", "BackupFileSize": 10}],
    )

    assert log["JobStatus"] == "Running"
    assert running.value.code == "job_already_running"
    assert finished["JobStatus"] == "Failed"
    assert finished["ErrorMessages"].splitlines() == ["first problem", "second problem"]
    again = agent.finish_log(
        log["LogId"], status="Failed", error_messages=["first problem", "second problem"]
    )
    assert again["LogId"] == log["LogId"]
    with pytest.raises(errors.Conflict) as other:
        agent.finish_log(log["LogId"], status="Completed")
    assert other.value.code == "log_already_finished"


def test_a_job_of_another_device_is_not_found(
    agent: AgentClient, server: ServerProcess, partner: Partner
) -> None:
    other = create_device(partner)
    job = due_job(partner, other)

    with pytest.raises(errors.NotFound):
        agent.start_log(job["JobId"])


def test_a_wrong_pin_sends_nothing_and_is_a_pin_mismatch(
    server: ServerProcess, device: dict[str, Any]
) -> None:
    with (
        AgentClient(server.url, device["ApiKey"], fingerprint=WRONG_PIN, retries=0) as agent,
        pytest.raises(errors.PinMismatch),
    ):
        agent.checkin()


def test_an_unknown_or_inactive_key_is_refused(
    server: ServerProcess, partner: Partner, device: dict[str, Any]
) -> None:
    with (
        AgentClient(server.url, "cfd_not-a-key", fingerprint=server.fingerprint) as agent,
        pytest.raises(errors.AuthenticationError),
    ):
        agent.checkin()
    partner.client.put(f"/api/devices/{device['DeviceId']}", json={"IsInactive": True})
    with (
        AgentClient(server.url, device["ApiKey"], fingerprint=server.fingerprint) as agent,
        pytest.raises(errors.PermissionDenied) as refused,
    ):
        agent.checkin()
    assert refused.value.code == "device_inactive"


def test_an_unreachable_server_is_a_transport_error(device: dict[str, Any]) -> None:
    with (
        AgentClient("https://127.0.0.1:9", device["ApiKey"], retries=0) as agent,
        pytest.raises(errors.TransportError) as failed,
    ):
        agent.checkin()
    assert failed.value.request_sent is False


def test_the_download_url_gives_the_agent_its_configuration(
    server: ServerProcess, device: dict[str, Any]
) -> None:
    config = fetch_agent_config(device["AgentDownloadUrl"], fingerprint=server.fingerprint)

    assert config.device_id == device["DeviceId"]
    assert config.api_key == device["ApiKey"]
    assert config.server_url.startswith("https://")
    assert config.fingerprint is not None
    assert (
        config.fingerprint.replace(":", "").lower() == server.fingerprint.replace(":", "").lower()
    )


def test_a_forged_download_url_is_not_found(server: ServerProcess, device: dict[str, Any]) -> None:
    forged = device["AgentDownloadUrl"][:-3] + "AAA"

    with pytest.raises(errors.APIError) as refused:
        fetch_agent_config(forged, fingerprint=server.fingerprint)
    assert refused.value.status in (403, 404)
