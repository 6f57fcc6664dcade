"""Single files: the archive's entries, paged and filtered, and one file's download URL
serving it uncompressed, with ranges."""

from __future__ import annotations

from typing import Any

from tests.contract._fixtures_devices import events_of
from tests.contract._fixtures_storage import backed_up
from tests.support.server import Partner, ServerProcess

FILES = {
    "Docs/Report.TXT": b"numbers\n" * 500,
    "docs/notes.txt": b"a note",
    "photos/cat.jpg": bytes(range(256)) * 20,
    "zeta/empty": b"",
}
ORDER = ["Docs/Report.TXT", "docs/notes.txt", "photos/cat.jpg", "zeta/empty"]


def entries(partner: Partner, item_id: int, **params: Any) -> dict[str, Any]:
    response = partner.client.get(f"/api/logitems/{item_id}/entries", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_entries_list_in_archive_order_with_stable_ids(
    server: ServerProcess, partner: Partner
) -> None:
    backup = backed_up(server, partner, FILES)
    listed = entries(partner, backup.log_item_id, PageSize=1000)
    assert [e["Path"] for e in listed["data"]] == ORDER
    assert [e["EntryId"] for e in listed["data"]] == [1, 2, 3, 4]
    assert listed["data"][0] == {
        "EntryId": 1,
        "Path": "Docs/Report.TXT",
        "Size": 4000,
        "ModifiedUtc": "2023-11-14T22:13:20.000Z",
    }
    assert listed["has_more"] is False
    first = entries(partner, backup.log_item_id, PageSize=3)
    second = entries(partner, backup.log_item_id, PageSize=3, PageNo=2)
    assert [e["EntryId"] for e in first["data"]] == [1, 2, 3] and first["has_more"] is True
    assert [e["EntryId"] for e in second["data"]] == [4] and second["has_more"] is False
    found = entries(partner, backup.log_item_id, PathContains="DOCS/")
    assert [(e["EntryId"], e["Path"]) for e in found["data"]] == [
        (1, "Docs/Report.TXT"),
        (2, "docs/notes.txt"),
    ]
    assert entries(partner, backup.log_item_id, PageNo=9)["data"] == []
    bad = partner.client.get(f"/api/logitems/{backup.log_item_id}/entries?PageSize=0")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


def test_one_entry_downloads_uncompressed_with_ranges(
    server: ServerProcess, partner: Partner
) -> None:
    backup = backed_up(server, partner, FILES)
    for number, path in enumerate(ORDER, start=1):
        call = partner.client.get(f"/api/logitems/{backup.log_item_id}/entries/{number}/download")
        assert call.status_code == 200, call.text
        item = call.json()["data"]
        assert item["LogItemId"] == backup.log_item_id and item["Expires"]
        with server.client() as anonymous:
            response = anonymous.get(item["Url"])
            assert response.status_code == 200
            assert response.content == FILES[path]
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-length"] == str(len(FILES[path]))
            name = path.rsplit("/", 1)[1]
            assert f"filename*=UTF-8''{name}" in response.headers["content-disposition"]
            if FILES[path]:
                size = len(FILES[path])
                start, stop = size // 3, size - size // 4
                wanted = {"Range": f"bytes={start}-{stop - 1}"}
                part = anonymous.get(item["Url"], headers=wanted)
                assert part.status_code == 206
                assert part.content == FILES[path][start:stop]
            else:
                refused = anonymous.get(item["Url"], headers={"Range": "bytes=0-"})
                assert refused.status_code == 416
    tags = set()
    with server.client() as anonymous:
        for number in (1, 2):
            url = partner.client.get(
                f"/api/logitems/{backup.log_item_id}/entries/{number}/download"
            ).json()["data"]["Url"]
            tags.add(anonymous.head(url).headers["etag"])
    assert len(tags) == 2
    downloads = [
        e["EventTypeId"]
        for e in events_of(partner, DeviceId=backup.device["DeviceId"])
        if e["EventTypeId"] >= 60
    ]
    assert downloads == [60] * 6


def test_an_entry_the_file_lacks_is_not_found(server: ServerProcess, partner: Partner) -> None:
    backup = backed_up(server, partner, FILES)
    for entry_id in ("5", "0", "x", "99999999999999999999"):
        response = partner.client.get(
            f"/api/logitems/{backup.log_item_id}/entries/{entry_id}/download"
        )
        assert response.status_code == 404, entry_id
