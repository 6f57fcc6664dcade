"""The server secret's keyring: parsing, envelopes, digests under every master, atomic writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.kit.secrets import (
    SecretFileError,
    ServerSecret,
    UndecryptableSecret,
    _derive,
    load_or_create_secret,
    parse_keyring,
    read_secret,
    save_secret,
)

OLD, NEW, OTHER = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))


def v1_envelope(master: bytes, plaintext: str) -> str:
    """What the single-key server wrote: ``v1:`` + base64(nonce ‖ ciphertext), no key id."""
    aead = AESGCM(_derive(master, b"cleverfox encryption"))
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode(), None)
    return "v1:" + base64.b64encode(nonce + sealed).decode()


# --- the keyring file ---------------------------------------------------------------------


def test_a_one_line_file_is_a_keyring_of_one() -> None:
    secret = parse_keyring(OLD.hex() + "\n")
    assert secret.key_ids == (secret.key_id,) and len(secret.key_id) == 8
    assert secret.key_id == ServerSecret(OLD).key_id


def test_the_first_line_is_current_and_blank_lines_are_ignored() -> None:
    secret = parse_keyring(f"\n{NEW.hex()}\n\n  {OLD.hex()}  \n")
    assert secret.key_ids == (ServerSecret(NEW).key_id, ServerSecret(OLD).key_id)
    assert secret.digest("k") == ServerSecret(NEW).digest("k")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "holds no key"),
        ("\n \n", "holds no key"),
        ("not hex\n", "line 1: not a hex key"),
        (f"{OLD.hex()}\nabcd\n", "line 2: a key must be at least 32 bytes"),
        (f"{OLD.hex()}\n{OLD.hex()}\n", "the same key twice"),
    ],
)
def test_a_malformed_keyring_names_the_problem_but_not_the_key(text: str, message: str) -> None:
    with pytest.raises(SecretFileError, match=message) as caught:
        parse_keyring(text, "secret.key")
    assert OLD.hex() not in str(caught.value)


def test_key_ids_differ_and_reveal_nothing_of_the_master() -> None:
    ids = {ServerSecret(m).key_id for m in (OLD, NEW, OTHER)}
    assert len(ids) == 3
    assert all(key_id not in m.hex() for key_id in ids for m in (OLD, NEW, OTHER))


def test_a_short_master_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        ServerSecret(b"short")


# --- envelopes ----------------------------------------------------------------------------


def test_encrypt_writes_v2_under_the_current_key() -> None:
    secret = ServerSecret(NEW, OLD)
    sealed = secret.encrypt("s3cret!")
    assert sealed.startswith(f"v2:{secret.key_id}:") and sealed.startswith(secret.envelope_prefix())
    assert "s3cret" not in sealed and secret.decrypt(sealed) == "s3cret!"
    assert secret.encrypt("s3cret!") != sealed  # a fresh nonce each time


@given(st.text(max_size=200))
def test_every_text_round_trips(plaintext: str) -> None:
    secret = ServerSecret(NEW, OLD)
    assert secret.decrypt(secret.encrypt(plaintext)) == plaintext


def test_an_older_key_still_opens_what_it_sealed() -> None:
    sealed = ServerSecret(OLD).encrypt("sa")
    assert ServerSecret(NEW, OLD).decrypt(sealed) == "sa"
    assert ServerSecret(OTHER, NEW, OLD).decrypt(sealed) == "sa"


def test_a_key_no_longer_in_the_keyring_opens_nothing() -> None:
    sealed = ServerSecret(OLD).encrypt("sa")
    with pytest.raises(UndecryptableSecret, match="not in the keyring"):
        ServerSecret(NEW).decrypt(sealed)


def test_v1_envelopes_open_under_whichever_master_made_them() -> None:
    """v1 names no key; after a rotation its master is no longer first, so every one is tried."""
    made_before = v1_envelope(OLD, "p@ss")
    assert ServerSecret(OLD).decrypt(made_before) == "p@ss"
    assert ServerSecret(NEW, OLD).decrypt(made_before) == "p@ss"
    with pytest.raises(UndecryptableSecret, match="no key of the keyring"):
        ServerSecret(NEW, OTHER).decrypt(made_before)


@pytest.mark.parametrize(
    "envelope",
    [
        "",
        "plain text",
        "v3:abc",
        "v1:not base64!",
        "v1:" + base64.b64encode(b"short").decode(),
        "v2:",
        "v2:zzzzzzzz:AAAA",
    ],
)
def test_malformed_envelopes_are_undecryptable_not_crashes(envelope: str) -> None:
    with pytest.raises(UndecryptableSecret):
        ServerSecret(NEW, OLD).decrypt(envelope)


def test_a_tampered_envelope_is_refused() -> None:
    secret = ServerSecret(NEW)
    prefix, body = secret.encrypt("sa").rsplit(":", 1)
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(UndecryptableSecret, match="does not open"):
        secret.decrypt(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}")


# --- digests and signing ------------------------------------------------------------------


def test_digests_are_under_every_key_current_first() -> None:
    secret = ServerSecret(NEW, OLD)
    assert secret.digests("cfp_x") == [
        ServerSecret(NEW).digest("cfp_x"),
        ServerSecret(OLD).digest("cfp_x"),
    ]
    assert secret.digest("cfp_x") == secret.digests("cfp_x")[0]
    assert len(set(secret.digests("cfp_x"))) == 2 and len(secret.digest("cfp_x")) == 64


def test_the_single_key_digest_is_unchanged_by_keyrings() -> None:
    """Digests stored before keyrings existed are still found (same derivation)."""
    expected = hmac.new(_derive(OLD, b"cleverfox api-key digest"), b"k", hashlib.sha256)
    assert ServerSecret(OLD).digest("k") == expected.hexdigest()


def test_signing_uses_the_current_key() -> None:
    assert ServerSecret(NEW, OLD).signing_key == ServerSecret(NEW).signing_key
    assert ServerSecret(NEW).signing_key != ServerSecret(OLD).signing_key


# --- rotating the keyring in memory ---------------------------------------------------------


def test_rotated_puts_a_fresh_key_first_and_keeps_all_others() -> None:
    secret = ServerSecret(NEW, OLD)
    rotated = secret.rotated()
    assert rotated.key_ids[1:] == secret.key_ids and rotated.key_id not in secret.key_ids
    assert rotated.without_older().key_ids == (rotated.key_id,)
    assert ServerSecret(NEW).rotated(OTHER).key_ids == (
        ServerSecret(OTHER).key_id,
        ServerSecret(NEW).key_id,
    )


def test_keyring_text_round_trips() -> None:
    secret = ServerSecret(OTHER, NEW, OLD)
    assert secret.keyring_text() == f"{OTHER.hex()}\n{NEW.hex()}\n{OLD.hex()}\n"
    assert parse_keyring(secret.keyring_text()).key_ids == secret.key_ids


# --- the file on disk ---------------------------------------------------------------------


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_makes_a_one_key_file_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    made = load_or_create_secret(path)
    assert mode_of(path) == 0o600 and len(path.read_text().split()) == 1
    assert load_or_create_secret(path).key_ids == made.key_ids


def test_read_secret_never_creates_one(tmp_path: Path) -> None:
    with pytest.raises(SecretFileError, match="no server secret"):
        read_secret(tmp_path / "secret.key")
    assert not (tmp_path / "secret.key").exists()


def test_save_replaces_atomically_with_mode_0600_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(OLD.hex() + "\n")
    path.chmod(0o644)
    before = path.stat().st_ino
    save_secret(path, ServerSecret(NEW, OLD))
    assert read_secret(path).key_ids == ServerSecret(NEW, OLD).key_ids
    assert mode_of(path) == 0o600 and path.stat().st_ino != before  # a new file renamed over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


def test_save_keeps_a_symlink_and_replaces_its_target(tmp_path: Path) -> None:
    managed = tmp_path / "managed"
    managed.mkdir()
    (managed / "secret.key").write_text(OLD.hex() + "\n")
    link = tmp_path / "secret.key"
    link.symlink_to(managed / "secret.key")
    save_secret(link, ServerSecret(NEW, OLD))
    assert link.is_symlink()
    assert read_secret(managed / "secret.key").key_id == ServerSecret(NEW).key_id


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.key"
    path.write_text(OLD.hex() + "\n")

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_secret(path, ServerSecret(NEW, OLD))
    assert path.read_text() == OLD.hex() + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_root_rotating_keeps_the_service_users_ownership(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(OLD.hex() + "\n")
    os.chown(path, 65534, 65534)
    save_secret(path, ServerSecret(NEW, OLD))
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)


def test_another_users_file_is_refused_before_anything_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.key"
    path.write_text(OLD.hex() + "\n")
    monkeypatch.setattr(os, "geteuid", lambda: path.stat().st_uid + 1)

    def refuse(*_args: object) -> None:
        raise PermissionError("not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    with pytest.raises(SecretFileError, match="belongs to another user"):
        save_secret(path, ServerSecret(NEW, OLD))
    assert path.read_text() == OLD.hex() + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]
