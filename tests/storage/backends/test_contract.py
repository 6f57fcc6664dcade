"""The Backend contract, run against every backend (``conftest.BACKENDS``).

S3 runs against a real ``weed mini`` on loopback with real signature checks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from tests.storage.backends.conftest import PAGE_SIZE

from cleverfox.storage.backends import (
    Backend,
    InvalidName,
    InvalidRange,
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
)

DATA = bytes(range(256)) * 4 + b"tail"


def names_of(backend: Backend, prefix: str = "", **kwargs: str) -> list[str]:
    return [info.name for info in backend.list(prefix, **kwargs)]


# -- put, get, size ------------------------------------------------------------------------


def test_put_then_get_returns_the_bytes_and_size_counts_them(backend: Backend) -> None:
    backend.put("packs/7/ab/one", DATA)

    assert backend.get("packs/7/ab/one") == DATA
    assert backend.size("packs/7/ab/one") == len(DATA)


def test_an_empty_object_is_an_object(backend: Backend) -> None:
    backend.put("empty", b"")

    assert backend.get("empty") == b""
    assert backend.get("empty", 0, 0) == b""
    assert backend.size("empty") == 0
    assert list(backend.list()) == [ObjectInfo("empty", 0)]


@pytest.mark.parametrize(
    "payload",
    [
        bytearray(DATA),
        memoryview(DATA),
        [DATA[:10], b"", memoryview(DATA)[10:700], bytearray(DATA[700:])],
        (b"", DATA),
    ],
    ids=["bytearray", "memoryview", "list-of-buffers", "tuple-with-empty"],
)
def test_put_takes_any_buffer_or_a_sequence_of_them(backend: Backend, payload: object) -> None:
    backend.put("object", payload)  # type: ignore[arg-type]

    assert backend.get("object") == DATA


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (0, None, DATA),
        (0, 1, DATA[:1]),
        (5, 10, DATA[5:15]),
        (1000, None, DATA[1000:]),
        (len(DATA) - 4, 4, b"tail"),
        (len(DATA), None, b""),
        (len(DATA), 0, b""),
        (17, 0, b""),
    ],
)
def test_get_returns_exactly_the_range_asked(
    backend: Backend, offset: int, length: int | None, expected: bytes
) -> None:
    backend.put("object", DATA)

    assert backend.get("object", offset, length) == expected


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, len(DATA) + 1), (len(DATA) - 1, 2), (len(DATA) + 1, None), (len(DATA) + 1, 0),
     (-1, None), (0, -1)],
)  # fmt: skip
def test_a_range_outside_the_object_is_an_error_not_fewer_bytes(
    backend: Backend, offset: int, length: int | None
) -> None:
    backend.put("object", DATA)

    with pytest.raises(InvalidRange):
        backend.get("object", offset, length)


@pytest.mark.parametrize("name", ["missing", "packs", "packs/7"])
def test_get_and_size_of_what_is_not_an_object_raise_object_not_found(
    backend: Backend, name: str
) -> None:
    backend.put("packs/7/ab/one", DATA)

    with pytest.raises(ObjectNotFound):
        backend.get(name)
    with pytest.raises(ObjectNotFound):
        backend.get(name, 3, 0)
    with pytest.raises(ObjectNotFound):
        backend.size(name)


# -- write once ------------------------------------------------------------------------------


def test_a_name_is_written_once_and_never_replaced(backend: Backend) -> None:
    backend.put("manifests/1/abc", DATA)

    with pytest.raises(ObjectExists):
        backend.put("manifests/1/abc", b"other bytes")
    with pytest.raises(ObjectExists):
        backend.put("manifests/1/abc", DATA)
    assert backend.get("manifests/1/abc") == DATA


def test_concurrent_puts_of_one_name_exactly_one_wins(
    backend: Backend, write_once_is_atomic: bool
) -> None:
    if not write_once_is_atomic:
        pytest.skip("head-then-put services guarantee only whole objects (next test)")
    for round_number in range(5):
        name = f"race/r{round_number}"
        outcomes = _race(lambda i, name=name: backend.put(name, b"writer %d " % i * 1000), 4)

        winners = [i for i, outcome in enumerate(outcomes) if outcome is None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, ObjectExists) for o in outcomes if o is not None), outcomes
        assert backend.get(name) == b"writer %d " % winners[0] * 1000


def test_concurrent_puts_of_the_same_bytes_leave_those_bytes(backend: Backend) -> None:
    for round_number in range(5):
        name = f"race/same{round_number}"
        outcomes = _race(lambda _, name=name: backend.put(name, DATA * 50), 4)

        assert any(outcome is None for outcome in outcomes)
        assert all(o is None or isinstance(o, ObjectExists) for o in outcomes), outcomes
        assert backend.get(name) == DATA * 50


def _race(put: Callable[[int], None], writers: int) -> list[BaseException | None]:
    """Run ``put(i)`` in ``writers`` threads released together; each one's exception or None."""
    start = threading.Barrier(writers)
    outcomes: list[BaseException | None] = [None] * writers

    def run(i: int) -> None:
        start.wait()
        try:
            put(i)
        except BaseException as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# -- delete ----------------------------------------------------------------------------------


def test_delete_removes_the_object_and_is_idempotent(backend: Backend) -> None:
    backend.put("packs/7/ab/one", DATA)
    backend.put("packs/7/ab/two", DATA)

    backend.delete("packs/7/ab/one")
    backend.delete("packs/7/ab/one")
    backend.delete("never/was")

    with pytest.raises(ObjectNotFound):
        backend.get("packs/7/ab/one")
    assert names_of(backend) == ["packs/7/ab/two"]


def test_deleting_a_name_that_is_only_a_prefix_deletes_nothing(backend: Backend) -> None:
    backend.put("packs/7/ab/one", DATA)

    backend.delete("packs/7")

    assert names_of(backend) == ["packs/7/ab/one"]


# -- list ------------------------------------------------------------------------------------

TRICKY = [
    "a/b", "a/b/c", "a/b_", "a/b0", "a/bc/d", "a_/x", "a0", "a1/z", "b", "packs/10/ff/x",
    "packs/1/00/y", "packs/1/0a/z", "packs/2/1", "z_/a/b/c/d/e",
]  # fmt: skip
TRICKY_OBJECTS = [name for name in TRICKY if not any(o.startswith(name + "/") for o in TRICKY)]


@pytest.fixture
def tricky(backend: Backend) -> Backend:
    for index, name in enumerate(TRICKY_OBJECTS):
        backend.put(name, b"x" * index)
    return backend


def test_list_yields_every_object_with_its_size_in_name_order(tricky: Backend) -> None:
    listed = list(tricky.list())

    assert [info.name for info in listed] == sorted(TRICKY_OBJECTS)
    assert {info.name: info.size for info in listed} == {
        name: index for index, name in enumerate(TRICKY_OBJECTS)
    }


@pytest.mark.parametrize(
    "prefix", ["", "a", "a/", "a/b", "a/b/", "packs/1", "packs/1/", "packs/1/0", "z_/a/b/", "q"]
)
def test_list_yields_exactly_the_names_that_start_with_the_prefix(
    tricky: Backend, prefix: str
) -> None:
    expected = sorted(name for name in TRICKY_OBJECTS if name.startswith(prefix))

    assert names_of(tricky, prefix) == expected


@pytest.mark.parametrize("start_after", ["a/b", "a/b0", "a0", "a1", "packs/1/00/y", "zz"])
def test_list_starts_after_the_name_given(tricky: Backend, start_after: str) -> None:
    expected = sorted(name for name in TRICKY_OBJECTS if name > start_after)

    assert names_of(tricky, start_after=start_after) == expected
    assert names_of(tricky, "packs/", start_after=start_after) == [
        name for name in expected if name.startswith("packs/")
    ]


def test_list_pages_through_many_objects(backend: Backend) -> None:
    names = [f"packs/3/{i % 5}/{i:04d}" for i in range(6 * PAGE_SIZE + 3)]
    for name in names:
        backend.put(name, b"")

    assert names_of(backend, "packs/3/") == sorted(names)
    assert names_of(backend, "packs/3/2") == sorted(n for n in names if n.startswith("packs/3/2"))
    assert names_of(backend, "packs/3/", start_after=sorted(names)[20]) == sorted(names)[21:]


def test_list_does_not_show_deleted_objects(backend: Backend) -> None:
    backend.put("a/one", b"1")
    backend.put("a/two", b"2")
    backend.delete("a/one")

    assert names_of(backend, "a/") == ["a/two"]


def test_a_deleted_name_can_be_written_again(backend: Backend) -> None:
    backend.put("a/one", b"1")
    backend.delete("a/one")
    backend.put("a/one", b"again")

    assert backend.get("a/one") == b"again"


# -- names -----------------------------------------------------------------------------------

BAD_NAMES = [
    "", "/a", "a/", "a//b", "..", "a/../b", ".", "./a", ".hidden", "a/.tmp-x", "A", "a/B",
    "a-b", "a.b", "a b", "é", "a\\b", "a\x00b", "con", "a/nul", "com1", "lpt9",
    "x" * 129, "/".join(["a"] * 257),
]  # fmt: skip


@pytest.mark.parametrize("name", BAD_NAMES)
def test_every_method_refuses_an_invalid_name(backend: Backend, name: str) -> None:
    for call in (
        lambda: backend.put(name, b"x"),
        lambda: backend.get(name),
        lambda: backend.size(name),
        lambda: backend.delete(name),
        lambda: backend.list(start_after=name),
    ):
        with pytest.raises(InvalidName):
            call()
    assert names_of(backend) == []


@pytest.mark.parametrize("prefix", ["/", "/a", "a//", "A", "a/B", "a-", "../", "a/./"])
def test_list_refuses_an_invalid_prefix(backend: Backend, prefix: str) -> None:
    with pytest.raises(InvalidName):
        backend.list(prefix)


# -- large objects, probe, describe ------------------------------------------------------------


def test_a_64_mib_object_round_trips_from_unjoined_buffers(
    backend: Backend, backend_kind: str
) -> None:
    if backend_kind in ("s3_head_then_put", "retrying_local"):
        pytest.skip("the local and s3 runs cover it; neither the put mode nor retries change it")
    pieces = [os.urandom(1 << 20) for _ in range(64)]

    backend.put("packs/1/ff/large", pieces)

    assert backend.size("packs/1/ff/large") == 64 << 20
    assert backend.get("packs/1/ff/large") == b"".join(pieces)
    assert backend.get("packs/1/ff/large", (63 << 20) + 5, 100) == pieces[63][5:105]


def test_probe_writes_reads_and_deletes_a_health_object(backend: Backend) -> None:
    backend.put("health/other", b"kept")

    backend.probe()
    backend.probe()

    assert names_of(backend) == ["health/other"]


def test_describe_is_one_line(backend: Backend) -> None:
    text = backend.describe()

    assert text
    assert "\n" not in text
