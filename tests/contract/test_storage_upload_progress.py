"""The agent's progress reports over HTTPS: kept on the Running Log and shown as its
``Progress`` until the finish, which also keeps ``BytesUploaded``."""

from __future__ import annotations

from tests.contract._fixtures_devices import create_device, create_job, created, event_type_ids
from tests.support.agent import agent_client, ok
from tests.support.server import Partner, ServerProcess

REPORT = {
    "FilesDone": 10,
    "FilesTotal": 100,
    "BytesDone": 1000,
    "BytesTotal": 10_000,
    "BytesUploaded": 500,
    "RateBytesPerSecond": 250,
    "EtaSeconds": 36,
}


def test_progress_shows_on_the_running_log_until_the_finish(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    with agent_client(server, device["ApiKey"]) as agent:
        log = ok(agent.post("/api/agent/logs", json={"JobId": job["JobId"], "Trigger": "RunNow"}))
        assert log["Progress"] is None
        url = f"/api/agent/logs/{log['LogId']}/progress"
        response = agent.put(url, json={"FilesDone": 1})
        assert response.status_code == 204 and response.content == b""
        response = agent.put(url, json=REPORT)
        assert response.status_code == 204
        shown = created(partner.client.get(f"/api/logs/{log['LogId']}"))
        assert shown["Progress"] == REPORT and shown["UpdatedOn"] is None
        listed = partner.client.get("/api/logs", params={"JobStatus": "Running"})
        assert [entry["Progress"] for entry in listed.json()["data"]] == [REPORT]
        for bad in ({"FilesDone": -1}, {"EtaSeconds": "soon"}, {"BytesDone": 1.5}):
            refused = agent.put(url, json=bad)
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"]["code"] == "validation_failed"
        assert agent.put("/api/agent/logs/999999999/progress", json=REPORT).status_code == 404
        other = create_device(partner)
        with agent_client(server, other["ApiKey"]) as stranger:
            assert stranger.put(url, json=REPORT).status_code == 404
        assert partner.client.put(url, json=REPORT).status_code == 403
        finish = {"JobStatus": "Completed", "BytesUploaded": 4321}
        done = ok(agent.put(f"/api/agent/logs/{log['LogId']}", json=finish))
        assert done["Progress"] is None and done["BytesUploaded"] == 4321
        late = agent.put(url, json=REPORT)
        assert late.status_code == 409 and late.json()["error"]["code"] == "log_not_running"
        negative = {"JobStatus": "Completed", "BytesUploaded": -1}
        assert agent.put(f"/api/agent/logs/{log['LogId']}", json=negative).status_code == 400
    assert event_type_ids(partner, JobId=job["JobId"]) == [40, 50, 51]  # reports: no Event
