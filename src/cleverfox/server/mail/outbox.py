"""Delivery into a directory, for servers without SMTP: the data directory's ``outbox/``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from hashlib import sha256
from pathlib import Path
from urllib.parse import quote

from cleverfox.server.mail.envelope import envelope_recipients, message_id_of
from cleverfox.server.mail.errors import MailDeliveryError

__all__ = ["OutboxTransport", "outbox_key"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxTransport:
    """Writes each mail to ``directory`` as ``<UTC timestamp>-<Message-ID>.eml``.

    For servers without SMTP: an operator (or a script) picks the files up. The Message-ID
    is percent-encoded in the name (hashed when very long), so the name is safe and
    identifies the mail. A file appears whole or not at all (temporary file, fsync, rename,
    fsync of the directory). Sending a Message-ID that already has a file writes nothing;
    should two processes race on one id, the later file is removed again. The file keeps
    the Bcc header: it is the operator's record, and ``sendmail -t`` honours and strips it.
    """

    def __init__(self, directory: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.directory = directory
        self._clock = clock

    def __repr__(self) -> str:
        return f"OutboxTransport({str(self.directory)!r})"

    def send(self, message: EmailMessage) -> None:
        """Store ``message`` durably (see the class docstring); ``OSError`` is retryable."""
        key = outbox_key(message_id_of(message))
        envelope_recipients(message)  # a mail for nobody is a bug here as it is over SMTP
        content = message.as_bytes()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if any(self._files_of(key)):
                return
            stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            _write_atomically(self.directory / f"{stamp}-{key}.eml", content)
            self._drop_later_copies(key)
        except OSError as error:
            raise MailDeliveryError(
                f"the outbox is not writable: {error}", retryable=True
            ) from error

    def _files_of(self, key: str) -> Iterator[Path]:
        # The stamp holds no "-", so the first "-" ends it even when the key holds one.
        for path in self.directory.iterdir():
            _, _, rest = path.name.partition("-")
            if rest == f"{key}.eml":
                yield path

    def _drop_later_copies(self, key: str) -> None:
        for duplicate in sorted(self._files_of(key))[1:]:
            duplicate.unlink(missing_ok=True)


_MAX_KEY_LENGTH = 160


def outbox_key(message_id: str) -> str:
    """Return the file-name form of a Message-ID: distinct ids give distinct keys.

    Angle brackets are dropped; other characters outside ``A-Za-z0-9@._+`` are
    percent-encoded; an id too long for a file name becomes ``sha256=<hex>`` (``=`` is
    always encoded otherwise, so the two forms cannot meet).
    """
    key = quote(message_id.strip().removeprefix("<").removesuffix(">"), safe="@._+")
    if len(key) > _MAX_KEY_LENGTH or not key:
        return "sha256=" + sha256(message_id.encode()).hexdigest()
    return key


def _write_atomically(path: Path, content: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; its rename is durable enough.
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
