"""The download seam: a Log Item's Url, fetched without a key, resumed with Range."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cleverfox.client import AsyncClient, Client, NotFound, TransportError
from tests.client.fakes import BASE_URL, FakeAPI, Sleeps

CONTENT = bytes(range(256)) * 1000  # 256,000 bytes


@pytest.fixture
def item(api: FakeAPI) -> int:
    api.add("logitems", LogItemId=77, LogId=5, BackupFileName="backup.zip")
    api.files["/files/downloadbackupfile/77"] = CONTENT
    return 77


def test_download_backup_file_returns_the_item_with_url(
    client: Client, api: FakeAPI, item: int
) -> None:
    got = client.log_items.download_backup_file(item)
    assert got.url == f"{BASE_URL}/files/downloadbackupfile/77"
    assert got.expires is not None
    assert api.requests[0].url.path == "/api/logitems/77/downloadbackupfile"
    client.log_items.download_backup_list(item)
    assert api.requests[1].url.path == "/api/logitems/77/downloadbackuplist"


def test_save_download_writes_the_file_without_sending_the_key(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    size = client.log_items.save_download(client.log_items.download_backup_file(item), target)
    assert size == len(CONTENT)
    assert target.read_bytes() == CONTENT
    download = api.requests[-1]
    assert "authorization" not in download.headers
    assert "range" not in download.headers


def test_save_download_resumes_a_partial_file(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(CONTENT[:1000])
    url = f"{BASE_URL}/files/downloadbackupfile/77"
    assert client.log_items.save_download(url, target) == len(CONTENT)
    assert target.read_bytes() == CONTENT
    assert api.requests[-1].headers["range"] == "bytes=1000-"


def test_a_complete_file_is_left_as_it_is(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(CONTENT)
    url = f"{BASE_URL}/files/downloadbackupfile/77"
    assert client.log_items.save_download(url, target) == len(CONTENT)
    assert target.read_bytes() == CONTENT


def test_a_server_ignoring_ranges_still_gives_the_right_file(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    api.honour_ranges = False
    target = tmp_path / "backup.zip"
    target.write_bytes(CONTENT[:5000])
    client.log_items.save_download(f"{BASE_URL}/files/downloadbackupfile/77", target)
    assert target.read_bytes() == CONTENT


def test_without_resume_the_file_is_written_anew(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(b"stale" * 10)
    url = f"{BASE_URL}/files/downloadbackupfile/77"
    client.log_items.save_download(url, target, resume=False)
    assert target.read_bytes() == CONTENT


def test_a_broken_transfer_resumes_where_it_stopped(
    client: Client, api: FakeAPI, item: int, tmp_path: Path, sleeps: Sleeps
) -> None:
    class BreaksHalfway(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield CONTENT[:100_000]
            raise httpx.ReadError("connection reset")

    def half(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=BreaksHalfway())

    api.before.append(half)
    target = tmp_path / "backup.zip"
    url = f"{BASE_URL}/files/downloadbackupfile/77"
    assert client.log_items.save_download(url, target) == len(CONTENT)
    assert target.read_bytes() == CONTENT
    resumed_from = int(api.requests[-1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= 100_000  # from the last whole chunk written
    assert len(sleeps) == 1


def test_iter_download_from_an_offset(client: Client, api: FakeAPI, item: int) -> None:
    url = f"{BASE_URL}/files/downloadbackupfile/77"
    assert b"".join(client.log_items.iter_download(url, offset=250_000)) == CONTENT[250_000:]


def test_an_expired_or_missing_url_raises(client: Client, api: FakeAPI, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        client.log_items.save_download(f"{BASE_URL}/files/none", tmp_path / "x")


def test_a_log_item_without_url_is_refused(client: Client, api: FakeAPI, item: int) -> None:
    plain = client.log_items.get(item)
    with pytest.raises(ValueError, match="download_backup_file"):
        client.log_items.iter_download(plain)


def test_transport_failures_beyond_the_budget_are_raised(
    client: Client, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api.before.extend([refuse] * 4)
    with pytest.raises(TransportError):
        client.log_items.save_download(f"{BASE_URL}/files/downloadbackupfile/77", tmp_path / "x")


@pytest.mark.anyio
async def test_async_save_download_resumes(
    async_client: AsyncClient, api: FakeAPI, item: int, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(CONTENT[:1234])
    async with async_client:
        got = await async_client.log_items.download_backup_file(item)
        assert await async_client.log_items.save_download(got, target) == len(CONTENT)
    assert target.read_bytes() == CONTENT
    assert api.requests[-1].headers["range"] == "bytes=1234-"
