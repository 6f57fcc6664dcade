"""The expired-token duty in a real server process: Tokens past their 60 minutes disappear.

The server runs the duty every second (``CLEVERFOX_TOKEN_PURGE_INTERVAL=1``) on the run's
database (SQLite, or PostgreSQL in the second pass). Tokens are recorded through the API,
then aged in the database, as if an hour had passed; more than a batch of them, so the
duty must drain the backlog call after call. Tokens still inside the window stay and still
make duplicates.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from tests.contract._fixtures_devices import database
from tests.support.server import Partner, ServerProcess, start_server, stop_server

from cleverfox.server.duties import expired_tokens
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.tokens import TOKEN_WINDOW, purge_expired_tokens
from cleverfox.server.migrate import upgrade
from cleverfox.server.models import RequestToken
from cleverfox.server.partners import operator

AGED = 2 * expired_tokens.BATCH + 500  # three calls of the duty


@pytest.fixture
def purging_server(tmp_path: Path, database_url: str | None) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path / "purging",
        database_url,
        "--rate-limit",
        "0",
        env={"CLEVERFOX_TOKEN_PURGE_INTERVAL": "1"},
    )
    yield server
    stop_server(server)


def _post(partner: Partner, token: str) -> int:
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": token, "Token": token}
    return partner.client.post("/api/companies", json=body).status_code


def _tokens(server: ServerProcess, partner_id: int) -> set[str]:
    with database(server) as session:
        mine = select(RequestToken.token).where(RequestToken.partner_id == partner_id)
        return set(session.scalars(mine))


def _age(server: ServerProcess, partner_id: int, tokens: list[str], added_on: datetime) -> None:
    with database(server) as session:
        session.execute(
            update(RequestToken)
            .where(RequestToken.partner_id == partner_id, RequestToken.token.in_(tokens))
            .values(added_on=added_on)
        )


def _add_aged(server: ServerProcess, partner_id: int, count: int, added_on: datetime) -> None:
    rows = [
        {
            "partner_id": partner_id,
            "token": f"aged-{i}",
            "resource": "companies",
            "object_id": None,
            "added_on": added_on,
        }
        for i in range(count)
    ]
    with database(server) as session:
        session.execute(insert(RequestToken), rows)


def _wait_until(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_tokens_past_the_window_are_deleted_and_fresh_ones_kept(
    purging_server: ServerProcess,
) -> None:
    partner = purging_server.new_partner()
    assert _post(partner, "old") == 201 and _post(partner, "fresh") == 201
    past = utcnow() - TOKEN_WINDOW - timedelta(minutes=1)
    _age(purging_server, partner.partner_id, ["old"], past)
    _add_aged(purging_server, partner.partner_id, AGED, past)
    assert _wait_until(lambda: _tokens(purging_server, partner.partner_id) == {"fresh"}), (
        f"{len(_tokens(purging_server, partner.partner_id))} Tokens left"
    )
    assert _post(partner, "fresh") == 409  # still inside the window: still a duplicate
    assert _post(partner, "old") == 201  # gone: a new request, recorded anew
    assert _tokens(purging_server, partner.partner_id) == {"fresh", "old"}


# --- one call of the duty, on a database of its own --------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    made = Database(f"sqlite:///{tmp_path / 'tokens.db'}", pool_size=1)
    upgrade(made.engine)
    yield made
    made.dispose()


def test_a_call_deletes_at_most_its_limit_and_only_expired_tokens(db: Database) -> None:
    now = utcnow()
    with db.writing() as session:
        partner_id = operator.create_partner(session, ServerSecret(os.urandom(32)), "P").partner_id
        for i, age in enumerate([61, 61, 61, 60, 59, 0]):
            session.add(
                RequestToken(
                    partner_id=partner_id,
                    token=f"t{i}",
                    resource="companies",
                    object_id=None,
                    added_on=now - timedelta(minutes=age),
                )
            )
    with db.writing() as session:
        assert purge_expired_tokens(session, now, limit=2) == 2
    with db.writing() as session:
        assert purge_expired_tokens(session, now, limit=2) == 1
        assert purge_expired_tokens(session, now, limit=2) == 0
        left = session.scalar(select(func.count()).select_from(RequestToken))
    assert left == 3  # exactly 60 minutes old is not past the window yet
