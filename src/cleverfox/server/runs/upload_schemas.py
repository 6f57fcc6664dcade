"""Wire shapes of the agent's storage calls (storage.md §3, docs/api.md "Storage uploads"):
the check-in's ``Storage``, ``chunks/missing``, the pack answer, ``logs/{LogId}/files`` and
``logs/{LogId}/progress``."""

from __future__ import annotations

from typing import Any

from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.storage.commit import FilesCall
from cleverfox.server.storage.entries import parse_entries
from cleverfox.server.storage.upload import PackResult, StorageTerms
from cleverfox.storage.ids import ChunkId, chunk_id_hex

CHUNK_IDS = WireSchema(
    "ChunkIds", [Attr("Ids", Kind.ARRAY, Rule.REQUIRED, doc="1 to 10,000 chunk ids (hex).")]
)

FILES = WireSchema(
    "Files",
    [
        Attr("JobItemId", Kind.INTEGER, Rule.REQUIRED, doc="A job item of the Log's job."),
        Attr(
            "Entries",
            Kind.ARRAY,
            Rule.REQUIRED,
            doc='The files: `{"Path", "Mode", "Size", "ModifiedUtc", "ChunkIds"}` each.',
        ),
        Attr("More", Kind.BOOLEAN, doc="`true`: stage this page, more follow (202)."),
        Attr(
            "PageNo",
            Kind.INTEGER,
            minimum=1,
            doc="This page's number (1-based): replaces that page and drops later ones.",
        ),
    ],
)
PROGRESS_FIELDS = (
    "FilesDone",
    "FilesTotal",
    "BytesDone",
    "BytesTotal",
    "BytesUploaded",
    "RateBytesPerSecond",
    "EtaSeconds",
)
PROGRESS = WireSchema(
    "Progress",
    [Attr(name, Kind.INTEGER, minimum=0) for name in PROGRESS_FIELDS],
)


def files_call(raw: dict[str, Any]) -> FilesCall:
    """The body of ``logs/{LogId}/files``; 400 ``validation_failed`` for what is not valid."""
    values = FILES.parse_create(raw)
    return FilesCall(
        values["job_item_id"],
        parse_entries(values["entries"]),
        bool(values.get("more")),
        values.get("page_no"),
    )


def staged_out(count: int) -> dict[str, Any]:
    return {"Staged": count}


def storage_terms_out(terms: StorageTerms) -> dict[str, Any]:
    """The check-in's ``Storage``: the company's id key and the chunking parameters."""
    return {
        "IdKey": terms.id_key_base64,
        "ChunkMinBytes": terms.chunking.min_bytes,
        "ChunkAvgBytes": terms.chunking.avg_bytes,
        "ChunkMaxBytes": terms.chunking.max_bytes,
        "MaxPackBytes": terms.max_pack_bytes,
    }


def missing_out(ids: list[ChunkId]) -> dict[str, Any]:
    return {"Missing": [chunk_id_hex(chunk_id) for chunk_id in ids]}


def pack_out(result: PackResult) -> dict[str, Any]:
    return {"Stored": result.stored, "Duplicates": result.duplicates}
