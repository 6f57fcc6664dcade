"""Downloads over HTTPS: the download calls, the signed URLs they hand out, the ZIP as
zipfile, unzip and bsdtar read it, the list, ranges, ETags, HEAD, Events and who may."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy import update
from tests.contract._fixtures_devices import database, events_of
from tests.contract._fixtures_storage import SMALL_CHUNKS, StoredBackup, backed_up, remove_file
from tests.storage.support import run_tool, tool
from tests.support.server import Partner, ServerProcess

from cleverfox.server.catalog.operator import create_plan
from cleverfox.server.models import Subscription

FILES = {
    "docs/report.txt": b"quarterly numbers\n" * 400,
    "docs/ümlaut naïve.txt": "grüße\n".encode() * 50,
    "photos/cat.jpg": os.urandom(5000),
    "empty.txt": b"",
    "random.bin": os.urandom(3000),
    "a/b/c/deep.log": b"x" * 2049,
    "big/data.bin": os.urandom(1 << 20) + b"a line of text\n" * 150_000,  # chunks, uploaded too
}


@pytest.fixture
def backup(server: ServerProcess, partner: Partner) -> StoredBackup:
    """A backup file uploaded through the agent's endpoints."""
    return backed_up(server, partner, FILES)


@pytest.fixture(params=["uploaded", "small chunks"])
def any_backup(
    request: pytest.FixtureRequest, server: ServerProcess, partner: Partner
) -> StoredBackup:
    """Uploaded; or committed with ~256-byte chunks over two packs, so that every file but
    the smallest spans chunk (and pack) boundaries."""
    params = SMALL_CHUNKS if request.param == "small chunks" else None
    return backed_up(server, partner, FILES, params=params)


def offered(partner: Partner, item_id: int, call: str = "downloadbackupfile") -> dict[str, Any]:
    response = partner.client.get(f"/api/logitems/{item_id}/{call}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def fetch(server: ServerProcess, url: str, **headers: str) -> httpx.Response:
    with server.client() as anonymous:
        return anonymous.get(url, headers=headers)


def test_the_download_call_answers_the_log_item_with_a_url(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    item = offered(partner, backup.log_item_id)
    plain = partner.client.get(f"/api/logitems/{backup.log_item_id}").json()["data"]
    assert {k: v for k, v in item.items() if k not in ("Url", "Expires")} == {
        k: v for k, v in plain.items() if k not in ("Url", "Expires")
    }
    assert item["BackupFileSize"] == backup.archive_size
    assert item["Url"].startswith(f"{server.url}/api/files/{backup.log_item_id}/file?")
    assert item["Expires"] and plain["Url"] is None


def test_the_zip_opens_in_zipfile_unzip_and_bsdtar_with_the_source_bytes(
    server: ServerProcess, partner: Partner, any_backup: StoredBackup, tmp_path: Path
) -> None:
    response = fetch(server, offered(partner, any_backup.log_item_id)["Url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["accept-ranges"] == "bytes"
    assert (
        int(response.headers["content-length"]) == any_backup.archive_size == len(response.content)
    )
    assert (
        "filename*=UTF-8''Nightly-Documents-20260501-120000.zip"
        in (response.headers["content-disposition"])
    )
    assert response.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert {name: archive.read(name) for name in archive.namelist()} == FILES
    target = tmp_path / "any_backup.zip"
    target.write_bytes(response.content)
    unzip, bsdtar = tool("unzip"), tool("bsdtar")
    run_tool(unzip, "-tq", target)
    listed = run_tool(bsdtar, "-tf", target).stdout.decode().split()
    assert set(FILES) <= set(listed) | {p for p in FILES if " " in p}
    run_tool(unzip, "-q", target, "-d", tmp_path / "out")
    for path, content in FILES.items():
        assert (tmp_path / "out" / path).read_bytes() == content
        assert run_tool(bsdtar, "-xOf", target, path).stdout == content


def test_the_list_is_utf8_text_one_line_per_file(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    item = offered(partner, backup.log_item_id, "downloadbackuplist")
    assert "/list?" in item["Url"]
    response = fetch(server, item["Url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert int(response.headers["content-length"]) == backup.list_size == len(response.content)
    lines = response.content.decode().splitlines()
    assert lines[0] == "Path\tSize\tModifiedUtc"
    assert {line.split("\t")[0]: int(line.split("\t")[1]) for line in lines[1:]} == {
        path: len(content) for path, content in FILES.items()
    }
    assert "Nightly-Documents-20260501-120000.txt" in response.headers["content-disposition"]


def test_ranges_are_slices_of_the_whole(
    server: ServerProcess, partner: Partner, any_backup: StoredBackup
) -> None:
    url = offered(partner, any_backup.log_item_id)["Url"]
    whole = fetch(server, url)
    size, tag = len(whole.content), whole.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    cases = {
        "bytes=0-0": (0, 1),
        f"bytes={size - 1}-{size - 1}": (size - 1, size),
        "bytes=100-9000": (100, 9001),
        "bytes=5000-": (5000, size),
        "bytes=-300": (size - 300, size),
        f"bytes=10-{size * 2}": (10, size),
    }
    for header, (start, stop) in cases.items():
        part = fetch(server, url, Range=header)
        assert part.status_code == 206, (header, part.text)
        assert part.content == whole.content[start:stop], header
        assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{size}"
        assert int(part.headers["content-length"]) == stop - start
    for header in (f"bytes={size}-", "bytes=-0"):
        refused = fetch(server, url, Range=header)
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
    # Several ranges, or no byte range at all: the whole file.
    for header in ("bytes=0-1,5-9", "lines=1-2", "bytes=9-3"):
        full = fetch(server, url, Range=header)
        assert full.status_code == 200 and full.content == whole.content, header
    assert fetch(server, url, Range="bytes=0-9", **{"If-Range": tag}).status_code == 206
    stale = fetch(server, url, Range="bytes=0-9", **{"If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == whole.content


def test_the_etag_is_stable_and_head_answers_the_headers(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    first = fetch(server, offered(partner, backup.log_item_id)["Url"])
    url = offered(partner, backup.log_item_id)["Url"]
    second = fetch(server, url)
    assert first.headers["etag"] == second.headers["etag"]
    assert first.content == second.content
    with server.client() as anonymous:
        head = anonymous.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert head.headers["etag"] == first.headers["etag"]
    list_tag = fetch(server, offered(partner, backup.log_item_id, "downloadbackuplist")["Url"])
    assert list_tag.headers["etag"] != first.headers["etag"]


def altered(url: str, **changes: str) -> str:
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    path = changes.pop("path", split.path)
    query.update(changes)
    return urlunsplit(
        split._replace(path=path, query="&".join(f"{k}={v}" for k, v in query.items()))
    )


def test_altered_and_expired_urls_are_refused(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    url = offered(partner, backup.log_item_id)["Url"]
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    for bad in (
        altered(url, sig=flipped),
        altered(url, expires=str(expires + 3600)),
        altered(url, path=f"/api/files/{backup.log_item_id}/list"),
        altered(url, path=f"/api/files/{backup.log_item_id + 1}/file"),
        url.split("?")[0],
    ):
        response = fetch(server, bad)
        assert response.status_code == 403, bad
        assert response.json()["error"]["code"] == "url_invalid"
    # An old URL, signed as this server signs (its secret), whose hour has passed.
    from datetime import timedelta

    from cleverfox.server.kit.datetimes import utcnow
    from cleverfox.server.kit.secrets import load_or_create_secret
    from cleverfox.server.storage.signing import sign_url

    key = load_or_create_secret(server.data_dir / "secret.key").signing_key
    old = sign_url(key, backup.log_item_id, "file", utcnow() - timedelta(hours=2))
    response = fetch(server, server.url + old.path)
    assert response.status_code == 403 and response.json()["error"]["code"] == "url_expired"


def test_each_download_call_writes_its_event(partner: Partner, backup: StoredBackup) -> None:
    offered(partner, backup.log_item_id)
    offered(partner, backup.log_item_id, "downloadbackuplist")
    offered(partner, backup.log_item_id)
    events = [
        e for e in events_of(partner, DeviceId=backup.device["DeviceId"]) if e["EventTypeId"] >= 60
    ]
    assert [e["EventTypeId"] for e in events] == [60, 61, 60]
    assert {e["LogItemId"] for e in events} == {backup.log_item_id}
    assert {e["LogId"] for e in events} == {backup.log_id}
    assert {e["Actor"] for e in events} == {"Api"}


def test_another_partners_log_item_is_not_found(
    partner_second: Partner, backup: StoredBackup
) -> None:
    for call in ("downloadbackupfile", "downloadbackuplist", "entries", "entries/1/download"):
        response = partner_second.client.get(f"/api/logitems/{backup.log_item_id}/{call}")
        assert response.status_code == 404, call
        assert response.json()["error"]["code"] == "not_found"


def test_a_removed_or_never_uploaded_file_is_not_available(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    url = offered(partner, backup.log_item_id)["Url"]
    remove_file(server, backup.log_item_id)
    for call in ("downloadbackupfile", "downloadbackuplist", "entries"):
        response = partner.client.get(f"/api/logitems/{backup.log_item_id}/{call}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "backup_file_not_available"
    gone = fetch(server, url)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "backup_file_not_available"
    assert partner.client.get("/api/logitems/99999999/downloadbackupfile").status_code == 404


def test_a_plan_with_download_limit_refuses_until_the_limit_expires(
    server: ServerProcess, partner: Partner, backup: StoredBackup
) -> None:
    from datetime import timedelta

    from cleverfox.server.kit.datetimes import utcnow

    subscription_id = backup.device["SubscriptionId"]
    with database(server) as session:
        plan = create_plan(
            session,
            "No Downloads",
            plan_type_id=1,
            device_limit=5,
            storage_limit_gb=100,
            download_limit=True,
        )
        session.execute(
            update(Subscription).where(Subscription.id == subscription_id).values(plan_id=plan.id)
        )
    for call in ("downloadbackupfile", "downloadbackuplist", "entries/1/download"):
        response = partner.client.get(f"/api/logitems/{backup.log_item_id}/{call}")
        assert response.status_code == 403, call
        assert response.json()["error"]["code"] == "download_limited"
    with database(server) as session:
        session.execute(
            update(Subscription)
            .where(Subscription.id == subscription_id)
            .values(download_limit_expire_on=utcnow() - timedelta(minutes=1))
        )
    offered(partner, backup.log_item_id)
