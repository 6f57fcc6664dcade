"""Company keys: made on first use, kept wrapped by the server secret, opened per request.

The keys are ``CompanyKeys.to_bytes()``, base64, sealed in the secret's v2 envelope (the
same envelope as device keys, so ``cleverfox secret rotate`` re-wraps them the same way).
Two processes making a company's first keys at once race on the primary key; the loser
reads the winner's, so a company never has two id keys.
"""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import StorageCompany
from cleverfox.storage.sealing import CompanyKeys


def wrap(secret: ServerSecret, keys: CompanyKeys) -> str:
    """The stored form of ``keys`` under the secret's current master."""
    return secret.encrypt(base64.b64encode(keys.to_bytes()).decode("ascii"))


def unwrap(secret: ServerSecret, wrapped: str) -> CompanyKeys:
    """The keys of ``wrap``'s output (``UndecryptableSecret`` / ``KeysInvalid`` if damaged)."""
    return CompanyKeys.from_bytes(base64.b64decode(secret.decrypt(wrapped)))


def existing_keys(session: Session, secret: ServerSecret, company_id: int) -> CompanyKeys | None:
    """The company's keys, or ``None`` if it never stored anything."""
    wrapped = session.scalar(
        select(StorageCompany.wrapped_keys).where(StorageCompany.company_id == company_id)
    )
    return None if wrapped is None else unwrap(secret, wrapped)


def keys_for(session: Session, secret: ServerSecret, company_id: int) -> CompanyKeys:
    """The company's keys, made and stored (in a savepoint) if it has none yet."""
    found = existing_keys(session, secret, company_id)
    if found is not None:
        return found
    keys = CompanyKeys.generate()
    try:
        with session.begin_nested():
            session.add(StorageCompany(company_id=company_id, wrapped_keys=wrap(secret, keys)))
    except IntegrityError:
        winner = existing_keys(session, secret, company_id)
        assert winner is not None  # the row whose insert beat ours
        return winner
    return keys
