"""The agent's chunk uploads over HTTPS: the check-in's Storage, ``chunks/missing`` and
``PUT /api/agent/packs`` — verification before anything is stored, duplicates, limits and
who may call. Packs are built in the test with the storage engine, as an agent builds them."""

from __future__ import annotations

import os
import socket
import ssl
import zlib
from typing import Any

import httpx
import pytest
from tests.contract._fixtures_devices import create_device, database
from tests.contract.test_companies import create_company
from tests.support.agent import Terms, agent_client, ok, pieces_of, terms_of
from tests.support.server import Partner, ServerProcess

from cleverfox.server.models import StorageChunk, StorageCompany, StoragePack
from cleverfox.storage.ids import ChunkId, chunk_id, chunk_id_hex
from cleverfox.storage.pieces import Codec, Piece, make_piece
from cleverfox.storage.records import encode_records

OCTETS = {"Content-Type": "application/octet-stream"}
MAX_PACK = 64 * 1024 * 1024


def put_pack(agent: httpx.Client, records: list[tuple[bytes, int, bytes]]) -> httpx.Response:
    return agent.put("/api/agent/packs", content=encode_records(records), headers=OCTETS)


def missing(agent: httpx.Client, ids: list[ChunkId]) -> list[str]:
    body = {"Ids": [chunk_id_hex(i) for i in ids]}
    found: list[str] = ok(agent.post("/api/agent/chunks/missing", json=body))["Missing"]
    return found


def record(terms: Terms, plaintext: bytes, compress: bool = True) -> tuple[bytes, int, bytes]:
    piece = make_piece(plaintext, compress)
    return chunk_id(terms.id_key, plaintext), int(piece.codec), piece.data


def agent_of(server: ServerProcess, partner: Partner, **overrides: Any) -> httpx.Client:
    return agent_client(server, create_device(partner, **overrides)["ApiKey"])


def test_check_in_answers_the_companys_storage_terms(
    server: ServerProcess, partner: Partner
) -> None:
    with agent_of(server, partner) as first, agent_of(server, partner) as second:
        storage = ok(first.post("/api/agent/checkin", json={}))["Storage"]
        assert set(storage) == {
            "IdKey",
            "ChunkMinBytes",
            "ChunkAvgBytes",
            "ChunkMaxBytes",
            "MaxPackBytes",
        }
        assert (storage["ChunkMinBytes"], storage["ChunkAvgBytes"]) == (262144, 1048576)
        assert (storage["ChunkMaxBytes"], storage["MaxPackBytes"]) == (4194304, MAX_PACK)
        assert terms_of(first).id_key == terms_of(second).id_key  # one key per company
        first_key = terms_of(first).id_key
        assert len(first_key) == 32
    other = create_company(partner, Name="Other Ltd")
    with agent_of(server, partner, company_id=other["CompanyId"]) as third:
        assert terms_of(third).id_key != first_key
    with database(server) as session:
        wrapped = session.get(StorageCompany, partner.company_id)
        assert wrapped is not None and wrapped.wrapped_keys.startswith("v2")
        assert storage["IdKey"] not in wrapped.wrapped_keys  # stored wrapped, never plain


def test_a_pack_is_stored_once_and_its_chunks_are_no_longer_missing(
    server: ServerProcess, partner: Partner
) -> None:
    with agent_of(server, partner) as agent:
        terms = terms_of(agent)
        text = b"Lorem ipsum dolor sit amet. " * 5000
        noise = os.urandom(300_000)
        chunks = pieces_of(terms, text + noise)
        ids = [c[0] for c in chunks]
        assert missing(agent, ids + ids[:1]) == [chunk_id_hex(i) for i in ids]  # each once
        body = [(c, int(p.codec), p.data) for c, p, _ in chunks]
        answer = ok(put_pack(agent, body + body[:1]))
        assert answer == {"Stored": len(chunks), "Duplicates": 1}
        assert missing(agent, ids) == []
        assert ok(put_pack(agent, body)) == {"Stored": 0, "Duplicates": len(chunks)}
    with database(server) as session:
        rows = session.query(StorageChunk).filter_by(company_id=partner.company_id).all()
        assert sorted(r.chunk_id for r in rows) == sorted(ids)
        assert {r.refs for r in rows} == {0}
        packs = session.query(StoragePack).filter_by(company_id=partner.company_id).all()
        assert len(packs) == 1  # the all-duplicate pack wrote nothing
        company = session.get(StorageCompany, partner.company_id)
        assert company is not None and company.chunk_count == len(chunks)
        assert company.stored_bytes == sum(r.stored_length for r in rows)
    blob = (server.data_dir / "storage" / packs[0].name).read_bytes()
    assert text[:1000] not in blob and noise[:1000] not in blob  # sealed at rest


def test_missing_takes_1_to_10000_lower_case_hex_ids(
    server: ServerProcess, partner: Partner
) -> None:
    good = "ab" * 32
    with agent_of(server, partner) as agent:
        for ids in ([], ["AB" * 32], ["ab" * 31], [good, 5], "x", [good] * 10_001, None):
            response = agent.post("/api/agent/chunks/missing", json={"Ids": ids})
            assert response.status_code == 400, (ids, response.text)
            assert response.json()["error"]["code"] == "validation_failed"
        many = [f"{n:064x}" for n in range(10_000)]
        assert missing(agent, [ChunkId(bytes.fromhex(i)) for i in many]) == many
        wrong = agent.post("/api/agent/chunks/missing", content=b'{"Ids": []}')
        assert wrong.status_code == 415


def test_one_bad_record_refuses_the_whole_pack(server: ServerProcess, partner: Partner) -> None:
    with agent_of(server, partner) as agent:
        terms = terms_of(agent)
        good = record(terms, b"good chunk " * 1000)
        other = b"another chunk " * 1000
        bad = (chunk_id(terms.id_key, b"something else"), 0, other)  # does not hash to its id
        response = put_pack(agent, [good, bad])
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "chunk_invalid" and error["id"] == bad[0].hex()
        assert bad[0].hex() in error["message"]
        assert missing(agent, [ChunkId(good[0])]) == [good[0].hex()]  # nothing stored
    with database(server) as session:
        assert session.query(StoragePack).filter_by(company_id=partner.company_id).count() == 0


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def with_back_reference(data: bytes) -> bytes:
    """A deflate piece of ``data`` whose matches point into bytes before the piece."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    compressor.compress(data)
    compressor.flush(zlib.Z_SYNC_FLUSH)  # keeps the window: the next block refers back
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


PLAIN = b"the quick brown fox jumps over the lazy dog " * 400


@pytest.mark.parametrize(
    ("piece", "codec"),
    [
        (deflate(PLAIN) + b"trailing", 1),  # data after the full flush
        (deflate(PLAIN) + b"\x01\x00\x00\xff\xff", 1),  # a final (stored, empty) block
        (with_back_reference(PLAIN), 1),  # refers back before the piece
        (deflate(PLAIN)[:-4], 1),  # no full flush at the end
        (b"\xff" * 64 + b"\x00\x00\xff\xff", 1),  # not deflate at all
        (PLAIN, 2),  # an unknown codec
        (b"", 0),  # an empty chunk
        (b"x" * (4 * 1024 * 1024 + 1), 0),  # larger than ChunkMaxBytes
    ],
    ids=[
        "trailing",
        "final-block",
        "back-reference",
        "no-flush",
        "garbage",
        "codec",
        "empty",
        "too-large",
    ],
)
def test_a_piece_that_would_corrupt_an_archive_is_chunk_invalid(
    server: ServerProcess, partner: Partner, piece: bytes, codec: int
) -> None:
    with agent_of(server, partner) as agent:
        terms = terms_of(agent)
        plaintext = piece if codec != 1 else PLAIN
        claimed = chunk_id(terms.id_key, plaintext)
        response = put_pack(agent, [(claimed, codec, piece)])
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["code"], error["id"]) == ("chunk_invalid", claimed.hex())


def test_the_back_reference_piece_really_inflates_only_with_its_prefix() -> None:
    # Guards the test above: the piece is bad because of where it points, not by accident.
    piece = with_back_reference(PLAIN)
    with pytest.raises(zlib.error):
        zlib.decompressobj(-15).decompress(piece + b"\x03\x00")
    assert zlib.decompressobj(-15).decompress(deflate(PLAIN) + piece + b"\x03\x00") == PLAIN * 2


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00" * 36, b"\x00" * 32 + b"\x00" + (100).to_bytes(4, "big") + b"short"],
    ids=["empty", "cut-header", "length-past-end"],
)
def test_a_body_that_is_not_records_is_pack_malformed(
    server: ServerProcess, partner: Partner, body: bytes
) -> None:
    with agent_of(server, partner) as agent:
        response = agent.put("/api/agent/packs", content=body, headers=OCTETS)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "pack_malformed"


def test_pack_media_type_size_and_key(server: ServerProcess, partner: Partner) -> None:
    key = create_device(partner)["ApiKey"]
    with agent_client(server, key) as agent:
        terms = terms_of(agent)
        body = encode_records([record(terms, b"abc" * 100)])
        for content_type in ("application/json", "text/plain", None):
            headers = {"Content-Type": content_type} if content_type else {}
            response = agent.put("/api/agent/packs", content=body, headers=headers)
            assert response.status_code == 415, response.text
        assert _declared_too_large(server, key).startswith(b"HTTP/1.1 413")
        streamed = agent.put("/api/agent/packs", content=_stream(MAX_PACK + 1), headers=OCTETS)
        assert streamed.status_code == 413, streamed.text
        assert "64 MiB" in streamed.json()["error"]["message"]
        assert agent.post("/api/agent/packs", content=body, headers=OCTETS).status_code == 405
    refused = partner.client.put("/api/agent/packs", content=body, headers=OCTETS)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "device_key_required"
    ids = {"Ids": ["ab" * 32]}
    refused = partner.client.post("/api/agent/chunks/missing", json=ids)
    assert refused.status_code == 403
    with server.client() as anonymous:
        assert anonymous.put("/api/agent/packs", content=body, headers=OCTETS).status_code == 401


def _declared_too_large(server: ServerProcess, device_key: str) -> bytes:
    """The answer's first bytes to headers declaring MaxPackBytes + 1, sent without a body:
    the server refuses before reading any."""
    url = httpx.URL(server.url)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    authorization = httpx.BasicAuth(device_key, "")._auth_header
    head = (
        f"PUT /api/agent/packs HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Authorization: {authorization}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {MAX_PACK + 1}\r\n\r\n"
    )
    with (
        socket.create_connection((url.host, url.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(head.encode())
        return tls.recv(100)


def _stream(size: int) -> Any:
    block = b"\x00" * (1 << 20)
    sent = 0
    while sent < size:
        part = block[: size - sent]
        sent += len(part)
        yield part


def test_another_companys_chunks_are_never_visible(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    content = b"the same file in two companies " * 2000
    with agent_of(server, partner) as mine, agent_of(server, partner_second) as theirs:
        my_terms, their_terms = terms_of(mine), terms_of(theirs)
        their_record = record(their_terms, content)
        assert ok(put_pack(theirs, [their_record]))["Stored"] == 1
        # Their id means nothing here: missing for us, and not uploadable under our key.
        assert missing(mine, [ChunkId(their_record[0])]) == [their_record[0].hex()]
        refused = put_pack(mine, [their_record])
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "chunk_invalid"
        my_record = record(my_terms, content)
        assert my_record[0] != their_record[0]
        assert ok(put_pack(mine, [my_record])) == {"Stored": 1, "Duplicates": 0}


def test_plain_pieces_are_stored_as_sent(server: ServerProcess, partner: Partner) -> None:
    with agent_of(server, partner) as agent:
        terms = terms_of(agent)
        data = os.urandom(5000)
        piece = Piece(Codec.PLAIN, data)
        claimed = chunk_id(terms.id_key, data)
        assert ok(put_pack(agent, [(claimed, 0, piece.data)])) == {"Stored": 1, "Duplicates": 0}
    with database(server) as session:
        row = session.get(StorageChunk, (partner.company_id, claimed))
        assert row is not None and (row.codec, row.size, row.crc32) == (0, 5000, zlib.crc32(data))
        assert row.stored_length == 5000 + 28


def test_subscriptions_and_companies_show_the_companys_stored_bytes(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    subscription_id = device["SubscriptionId"]
    before = ok(partner.client.get(f"/api/subscriptions/{subscription_id}"))
    assert before["StorageUsedBytes"] == 0
    with agent_client(server, device["ApiKey"]) as agent:
        terms = terms_of(agent)
        ok(put_pack(agent, [record(terms, os.urandom(10_000)), record(terms, b"z" * 50_000)]))
    after = ok(partner.client.get(f"/api/subscriptions/{subscription_id}"))
    with database(server) as session:
        company = session.get(StorageCompany, partner.company_id)
        assert company is not None and company.stored_bytes > 10_000
        assert after["StorageUsedBytes"] == company.stored_bytes
    assert after["UpdatedOn"] == before["UpdatedOn"]  # not a change of the subscription
    shown = ok(partner.client.get(f"/api/companies/{partner.company_id}"))
    assert shown["StorageUsedBytes"] == company.stored_bytes and shown["UpdatedOn"] is None
    listed = partner.client.get("/api/companies").json()["data"]
    assert [c["StorageUsedBytes"] for c in listed if c["CompanyId"] == partner.company_id] == [
        company.stored_bytes
    ]
    assert after["Company"]["StorageUsedBytes"] == company.stored_bytes
