"""Rotating the server secret (``cleverfox secret rotate | status | prune``).

What is stored under the secret, and what rotation does with it:

- device keys (``devices.api_key_encrypted``, ``api_key_digest``) and job-item credentials
  (``job_items.username_encrypted``, ``password_encrypted``) are decryptable, so they are
  re-encrypted under the new master and device digests recomputed;
- partner API keys are stored only as a digest and never known again, so they cannot move:
  the older master stays in the keyring so they are still found, until ``prune`` drops it
  (after which only partner keys issued since the rotation work).

Write order (restic's rule: what is pointed at first, what points at it last): the new
keyring, holding the new master *and every older one*, is on disk before the transaction that
re-encrypts starts. A crash in between leaves ciphertexts under an older master, which the
keyring still opens; ``prune`` (or another ``rotate``) finishes the job. The reverse order
could commit ciphertexts no file on disk can open. For the same reason a failed transaction
never removes the new master again: the commit may have happened. ``prune`` re-encrypts
first, commits, and only then drops older masters.

Before writing anything, ``rotate`` checks that the keyring is this database's (every stored
envelope names a key it holds, and it opens a device key), so a wrong ``--secret-key-file``
or ``--database-url`` changes nothing.

One rotation at a time: an exclusive lock on ``<secret file>.lock`` is held from reading the
keyring to the end, so two concurrent rotations cannot each write a keyring without the
other's master. Rows are locked (``FOR UPDATE``) batch by batch, so a concurrent API write is
not lost. Running servers keep the keyring they started with: restart them all after a
rotation (they cannot open or find what is stored under a master they do not know).
"""

from cleverfox.server.secrets_rotation.service import (
    Pruning,
    ReEncrypted,
    Rotation,
    SecretStatus,
    check_keyring_fits,
    keyring_lock,
    prune_older_keys,
    re_encrypt,
    rotate_secret,
    secret_status,
)

__all__ = [
    "Pruning",
    "ReEncrypted",
    "Rotation",
    "SecretStatus",
    "check_keyring_fits",
    "keyring_lock",
    "prune_older_keys",
    "re_encrypt",
    "rotate_secret",
    "secret_status",
]
