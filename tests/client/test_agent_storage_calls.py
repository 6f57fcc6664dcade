"""The agent transport's storage calls (agent-protocol.md 2–5, 7, 8) against a local
handler that plays the server: what each request carries, how answers are decoded, which
errors they map to, and which calls are re-sent (failures a real server cannot be made to
give on demand). The same calls against the real server: test_agent_storage_server."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from cleverfox.client import RetryPolicy, errors
from cleverfox.client.agent import AgentClient

BASE = "https://agent.test"
ID_A, ID_B, ID_C = bytes(range(32)), bytes([7] * 32), bytes([255] * 32)
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    mode: int = 0o100644
    modified_utc: datetime = WHEN
    chunk_ids: tuple[bytes, ...] = (ID_A,)


@dataclass
class Recorder:
    answers: list[Handler]
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        answer = self.answers[min(len(self.seen), len(self.answers)) - 1]
        return answer(request)

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.seen]


def answer(status: int, body: object = None, **headers: str) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handle


def error(status: int, code: str, **extra: object) -> Handler:
    return answer(status, {"error": {"status": status, "code": code, "message": code, **extra}})


def failing(exc: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return handle


def agent_on(recorder: Recorder, **options: object) -> AgentClient:
    policy = RetryPolicy(max_retries=2, backoff_base=0.0, jitter=lambda: 0.0)
    return AgentClient(
        BASE,
        "cfd_key",
        transport=httpx.MockTransport(recorder),
        retries=policy,
        sleep=lambda _: None,
        **options,  # type: ignore[arg-type]
    )


def record(chunk_id: bytes, codec: int, piece: bytes) -> bytes:
    return struct.pack(">32sBI", chunk_id, codec, len(piece)) + piece


def test_missing_sends_hex_ids_and_reads_the_missing_ones() -> None:
    recorder = Recorder([answer(200, {"data": {"Missing": [ID_C.hex()]}})])

    with agent_on(recorder) as agent:
        missing = agent.missing([ID_A, ID_C])

    assert missing == [ID_C]
    request = recorder.seen[0]
    assert (request.method, request.url.path) == ("POST", "/api/agent/chunks/missing")
    assert recorder.bodies() == [{"Ids": [ID_A.hex(), ID_C.hex()]}]
    assert request.headers["authorization"].startswith("Basic ")


def test_missing_asks_in_batches_of_ten_thousand() -> None:
    recorder = Recorder([answer(200, {"data": {"Missing": []}})])

    with agent_on(recorder) as agent:
        agent.missing([ID_A] * 10_001)

    assert [len(b["Ids"]) for b in recorder.bodies()] == [10_000, 1]  # type: ignore[arg-type]


def test_a_malformed_missing_answer_is_an_unexpected_response() -> None:
    recorder = Recorder([answer(200, {"data": {"Missing": ["zz"]}})])

    with agent_on(recorder) as agent, pytest.raises(errors.UnexpectedResponse):
        agent.missing([ID_A])


def test_a_chunk_id_that_is_not_32_bytes_is_refused_before_sending() -> None:
    recorder = Recorder([answer(200, {"data": {"Missing": []}})])

    with agent_on(recorder) as agent, pytest.raises(ValueError, match="32 bytes"):
        agent.missing([b"short"])
    assert recorder.seen == []


def test_a_pack_goes_as_octet_stream_and_is_resent_after_a_503() -> None:
    body = record(ID_A, 0, b"piece")
    recorder = Recorder(
        [error(503, "unavailable"), answer(200, {"data": {"Stored": 1, "Duplicates": 0}})]
    )

    with agent_on(recorder) as agent:
        assert agent.put_pack(body) == (1, 0)

    assert [r.content for r in recorder.seen] == [body, body]
    assert recorder.seen[1].headers["content-type"] == "application/octet-stream"
    assert recorder.seen[1].url.path == "/api/agent/packs"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "chunk_invalid", errors.BadRequest),
        (400, "pack_malformed", errors.BadRequest),
        (413, "payload_too_large", errors.APIError),
        (415, "unsupported_media_type", errors.APIError),
        (401, "unauthorized", errors.AuthenticationError),
        (403, "device_inactive", errors.PermissionDenied),
    ],
)
def test_a_refused_pack_maps_to_the_sdks_errors(
    status: int, code: str, kind: type[errors.APIError]
) -> None:
    recorder = Recorder([error(status, code, id=ID_B.hex())])

    with agent_on(recorder) as agent, pytest.raises(kind) as refused:
        agent.put_pack(record(ID_B, 0, b"x"))

    assert (refused.value.status, refused.value.code) == (status, code)
    assert len(recorder.seen) == 1
    if code == "chunk_invalid":
        assert refused.value.body["id"] == ID_B.hex()


def test_a_small_manifest_is_one_committing_page() -> None:
    item = {"LogItemId": 5, "BackupFileName": "x.zip"}
    recorder = Recorder([answer(201, {"data": item})])

    with agent_on(recorder) as agent:
        committed = agent.commit_files(9, 3, iter([Entry("a/b.txt", 5, chunk_ids=(ID_A, ID_B))]))

    assert committed == item
    assert recorder.seen[0].url.path == "/api/agent/logs/9/files"
    assert recorder.bodies() == [
        {
            "JobItemId": 3,
            "More": False,
            "Entries": [
                {
                    "Path": "a/b.txt",
                    "Mode": 0o100644,
                    "Size": 5,
                    "ModifiedUtc": "2026-01-02T03:04:05.000Z",
                    "ChunkIds": [ID_A.hex(), ID_B.hex()],
                }
            ],
        }
    ]


def test_a_large_manifest_is_staged_in_pages_under_the_limit_then_committed() -> None:
    recorder = Recorder([answer(202, {"data": {"Staged": 1}})] * 4 + [answer(201, {"data": {}})])
    entries = [Entry(f"file-{n:04}.bin", 1) for n in range(40)]

    with agent_on(recorder, commit_page_bytes=1000) as agent:
        agent.commit_files(9, 3, iter(entries))

    bodies = recorder.bodies()
    assert all(len(r.content) < 1100 for r in recorder.seen)
    assert [b["More"] for b in bodies] == [True] * (len(bodies) - 1) + [False]
    sent = [e["Path"] for b in bodies for e in b["Entries"]]  # type: ignore[attr-defined]
    assert sent == [e.path for e in entries]


def test_a_staging_page_is_not_resent_when_its_fate_is_unknown() -> None:
    recorder = Recorder([failing(httpx.ReadError)])

    with agent_on(recorder, commit_page_bytes=200) as agent, pytest.raises(errors.TransportError):
        agent.commit_files(9, 3, iter([Entry(f"f{n}", 1) for n in range(5)]))

    assert len(recorder.seen) == 1


def test_the_committing_page_is_resent_as_the_commit_is_idempotent() -> None:
    recorder = Recorder([failing(httpx.ReadError), answer(200, {"data": {"LogItemId": 1}})])

    with agent_on(recorder) as agent:
        assert agent.commit_files(9, 3, iter([Entry("f", 1)])) == {"LogItemId": 1}

    assert len(recorder.seen) == 2


def test_chunk_missing_is_a_conflict_naming_the_ids() -> None:
    recorder = Recorder([error(409, "chunk_missing", ids=[ID_C.hex()], missing_count=1)])

    with agent_on(recorder) as agent, pytest.raises(errors.Conflict) as refused:
        agent.commit_files(9, 3, iter([Entry("f", 1, chunk_ids=(ID_C,))]))

    assert refused.value.code == "chunk_missing"
    assert refused.value.body["ids"] == [ID_C.hex()]
    assert refused.value.body["missing_count"] == 1


def test_progress_sends_its_figures_and_refuses_unknown_ones() -> None:
    recorder = Recorder([answer(204, b"")])

    with agent_on(recorder) as agent:
        agent.progress(4, {"FilesDone": 3, "BytesDone": 100, "EtaSeconds": 9})
        with pytest.raises(ValueError, match="progress takes"):
            agent.progress(4, {"Files": 3})
        with pytest.raises(ValueError, match="progress takes"):
            agent.progress(4, {"FilesDone": -1})

    assert [(r.method, r.url.path) for r in recorder.seen] == [
        ("PUT", "/api/agent/logs/4/progress")
    ]
    assert recorder.bodies() == [{"FilesDone": 3, "BytesDone": 100, "EtaSeconds": 9}]


def test_the_manifest_is_read_line_by_line() -> None:
    lines = [
        {
            "Path": "a",
            "Mode": 33188,
            "Size": 3,
            "ModifiedUtc": "2026-01-02T03:04:05Z",
            "ChunkIds": [ID_A.hex()],
        },
        {
            "Path": "b",
            "Mode": 33188,
            "Size": 0,
            "ModifiedUtc": "2026-01-02T03:04:05.000Z",
            "ChunkIds": [],
        },
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines).encode()
    recorder = Recorder([answer(200, text, **{"content-type": "application/x-ndjson"})])

    with agent_on(recorder) as agent:
        entries = list(agent.manifest(12))

    assert recorder.seen[0].url.path == "/api/agent/logitems/12/manifest"
    assert [(e.path, e.size, e.chunk_ids) for e in entries] == [("a", 3, (ID_A,)), ("b", 0, ())]
    assert entries[0].modified_utc == WHEN


def test_a_manifest_of_another_company_is_not_found() -> None:
    recorder = Recorder([error(404, "backup_file_not_available")])

    with agent_on(recorder) as agent, pytest.raises(errors.NotFound) as refused:
        list(agent.manifest(12))
    assert refused.value.code == "backup_file_not_available"


def test_a_broken_manifest_line_is_an_unexpected_response() -> None:
    recorder = Recorder([answer(200, b'{"Path": "a"}\n')])

    with agent_on(recorder) as agent, pytest.raises(errors.UnexpectedResponse):
        list(agent.manifest(12))


def test_chunks_are_read_as_records_in_order() -> None:
    body = record(ID_A, 0, b"first") + record(ID_B, 1, b"") + record(ID_C, 2, b"x" * 70_000)
    recorder = Recorder([answer(200, body)])

    with agent_on(recorder) as agent:
        got = list(agent.read_chunks([ID_A, ID_B, ID_C]))

    assert got == [(ID_A, 0, b"first"), (ID_B, 1, b""), (ID_C, 2, b"x" * 70_000)]
    assert recorder.bodies() == [{"Ids": [ID_A.hex(), ID_B.hex(), ID_C.hex()]}]
    assert recorder.seen[0].url.path == "/api/agent/chunks/read"


def test_chunk_records_cut_short_are_an_unexpected_response() -> None:
    recorder = Recorder([answer(200, record(ID_A, 0, b"first")[:-2])])

    with agent_on(recorder) as agent, pytest.raises(errors.UnexpectedResponse):
        list(agent.read_chunks([ID_A]))


def test_chunks_the_company_lacks_are_not_found_with_their_ids() -> None:
    recorder = Recorder([error(404, "chunk_missing", ids=[ID_B.hex()])])

    with agent_on(recorder) as agent, pytest.raises(errors.NotFound) as refused:
        list(agent.read_chunks([ID_A, ID_B]))
    assert refused.value.body["ids"] == [ID_B.hex()]


def test_the_checkin_decodes_storage_parameters() -> None:
    storage = {
        "IdKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "ChunkMinBytes": 262144,
        "ChunkAvgBytes": 1048576,
        "ChunkMaxBytes": 4194304,
        "MaxPackBytes": 67108864,
    }
    data = {
        "Device": {"DeviceId": 1},
        "Jobs": [],
        "RunNowJobIds": [],
        "ServerTimeUtc": "2026-01-02T03:04:05.000Z",
        "NextCheckInSeconds": 60,
        "Storage": storage,
    }
    recorder = Recorder([answer(200, {"data": data})])

    with agent_on(recorder) as agent:
        answer_ = agent.checkin()

    assert answer_.storage is not None
    assert answer_.storage.id_key == bytes(range(32))
    assert answer_.storage.max_pack_bytes == 67108864
    assert answer_.server_time_utc == WHEN


def test_a_checkin_without_its_clock_is_an_unexpected_response() -> None:
    recorder = Recorder([answer(200, {"data": {"Device": {}, "Jobs": []}})])

    with agent_on(recorder) as agent, pytest.raises(errors.UnexpectedResponse):
        agent.checkin()


def test_starting_a_run_is_not_resent_when_its_fate_is_unknown() -> None:
    recorder = Recorder([failing(httpx.ReadError)])

    with agent_on(recorder) as agent, pytest.raises(errors.TransportError):
        agent.start_log(1)
    assert len(recorder.seen) == 1


def test_starting_a_run_is_resent_when_it_surely_never_arrived() -> None:
    recorder = Recorder([failing(httpx.ConnectError), answer(201, {"data": {"LogId": 4}})])

    with agent_on(recorder) as agent:
        assert agent.start_log(1, trigger="RunNow")["LogId"] == 4
    assert len(recorder.seen) == 2
    assert json.loads(recorder.seen[1].content) == {"JobId": 1, "Trigger": "RunNow"}
