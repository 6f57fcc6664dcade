"""Backends for the contract suite: a local directory, and S3 on a real ``weed mini``.

Each test gets an empty namespace: its own directory, or its own prefix in the session's
bucket. The S3 backends list 7 keys a page, so pagination is exercised by a few dozen objects.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest
from tests.support.seaweed import Seaweed, start_seaweed, stop_seaweed

from cleverfox.storage.backends import Backend, LocalBackend, RetryingBackend
from cleverfox.storage.backends.s3 import S3Backend, S3Config

PAGE_SIZE = 7
# Contract params: name → (uses S3, atomic write-once: of racing puts exactly one wins).
BACKENDS = {
    "local": (False, True),
    "retrying_local": (False, True),
    "s3": (True, True),
    "s3_head_then_put": (True, False),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Backends touch no database: the PostgreSQL pass would only repeat them."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.sqlite_only)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    weed = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    yield weed
    stop_seaweed(weed)


@pytest.fixture(scope="session")
def botocore_session() -> botocore.session.Session:
    """One session for every S3 backend of the run: it caches the service model."""
    return botocore.session.Session()


def s3_config(weed: Seaweed, **overrides: object) -> S3Config:
    """A config for the session's bucket under a fresh prefix."""
    values: dict[str, object] = {
        "bucket": weed.bucket,
        "prefix": f"t_{secrets.token_hex(8)}",
        "endpoint": weed.endpoint,
        "access_key_id": weed.access_key_id,
        "secret_access_key": weed.secret_access_key,
        "addressing_style": "path",
        "page_size": PAGE_SIZE,
    }
    values.update(overrides)
    return S3Config(**values)  # type: ignore[arg-type]


@pytest.fixture(params=sorted(BACKENDS))
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    if backend_kind == "local":
        return LocalBackend(tmp_path / "storage")
    if backend_kind == "retrying_local":
        return RetryingBackend(LocalBackend(tmp_path / "storage"), sleep=lambda _: None)
    weed: Seaweed = request.getfixturevalue("seaweed")
    session = request.getfixturevalue("botocore_session")
    if backend_kind == "s3":
        return S3Backend(s3_config(weed), session=session)
    return S3Backend(s3_config(weed, conditional_writes=False), session=session)


@pytest.fixture
def write_once_is_atomic(backend_kind: str) -> bool:
    return BACKENDS[backend_kind][1]
