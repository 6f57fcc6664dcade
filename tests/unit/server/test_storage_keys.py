"""Company keys are made once, stored wrapped, and open after the secret rotates."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from cleverfox.server import migrate
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import StorageCompany
from cleverfox.server.storage.keys import existing_keys, keys_for, unwrap, wrap
from cleverfox.storage.sealing import CompanyKeys


def test_keys_are_made_once_and_stored_wrapped(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    migrate.upgrade(engine)
    secret = ServerSecret(os.urandom(32))
    with Session(engine) as session, session.begin():
        assert existing_keys(session, secret, 7) is None
        first = keys_for(session, secret, 7)
    with Session(engine) as session, session.begin():
        assert keys_for(session, secret, 7) == first
        assert keys_for(session, secret, 8) != first
        wrapped = session.scalar(
            select(StorageCompany.wrapped_keys).where(StorageCompany.company_id == 7)
        )
    assert wrapped is not None
    assert first.data_key.hex() not in wrapped and first.id_key.hex() not in wrapped
    engine.dispose()


def test_wrapped_keys_open_under_a_rotated_secret() -> None:
    secret = ServerSecret(os.urandom(32))
    keys = CompanyKeys.generate()
    wrapped = wrap(secret, keys)
    rotated = secret.rotated()
    assert unwrap(rotated, wrapped) == keys
    assert unwrap(rotated, wrap(rotated, keys)) == keys
