"""Exit codes of the API commands, mapped from the SDK's exception tree in one place.

======  ===============================================================================
code    meaning
======  ===============================================================================
0       success
1       the API failed otherwise (5xx, an answer not shaped as the contract says, …)
2       usage: bad options, no URL or API key, an unreadable profile
3       authentication or permission: 401, 403 (``partner_plan_required`` included)
4       not found: 404
5       conflict: 409 (``external_id_taken``, ``duplicate_request`` …)
6       transport or TLS: no answer, a timeout, a refused certificate or pin
7       validation: 400 (``validation_failed``, ``invalid_parameter`` …)
8       rate limited: 429 after the client's own retries
======  ===============================================================================

A failure prints one line on stderr: ``error: <what>`` with the HTTP status, the error code
and the request id the server logged it under; a failure to reach the server names the URL
it tried (and, for a refused certificate, how to trust it).
"""

from __future__ import annotations

import functools
from typing import IO, Any

import click

from cleverfox.cli.api.connection import Connection
from cleverfox.client import errors

EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_TRANSPORT = 6
EXIT_VALIDATION = 7
EXIT_RATE_LIMITED = 8

_EXIT_CODES: tuple[tuple[type[errors.CleverFoxError], int], ...] = (
    (errors.AuthenticationError, EXIT_AUTH),
    (errors.PermissionDenied, EXIT_AUTH),
    (errors.NotFound, EXIT_NOT_FOUND),
    (errors.Conflict, EXIT_CONFLICT),
    (errors.BadRequest, EXIT_VALIDATION),
    (errors.RateLimited, EXIT_RATE_LIMITED),
    (errors.TransportError, EXIT_TRANSPORT),
)
"""First match wins, so a subclass is listed before its base; the rest is ``EXIT_API``."""


def exit_code_of(error: errors.CleverFoxError) -> int:
    """The exit code of an SDK exception."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_API


class CommandFailed(click.ClickException):
    """An SDK exception as click sees it: one line on stderr, the mapped exit code
    (click reads ``exit_code`` from the class, so each code has a subclass: see
    :func:`failure`)."""

    def __init__(self, error: errors.CleverFoxError, text: str | None = None) -> None:
        super().__init__(text or describe(error))
        self.error = error

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=file is None, file=file)


def describe(error: errors.CleverFoxError, connection: Connection | None = None) -> str:
    """One line for a person: what failed, the status and code, the request id; for a
    failure to reach the server, the URL of ``connection``."""
    if isinstance(error, errors.TransportError) and connection is not None:
        return connection.transport_failure(error)
    if not isinstance(error, errors.APIError):
        return str(error)
    text = f"{error.message} (HTTP {error.status} {error.code}, request {error.request_id or '-'})"
    if error.errors:
        text += ": " + "; ".join(f"{e.attribute}: {e.message}" for e in error.errors)
    if isinstance(error, errors.DuplicateRequest) and error.id is not None:
        text += f"; the Token was used by {error.resource} {error.id}"
    if isinstance(error, errors.RateLimited) and error.retry_after is not None:
        text += f"; retry after {error.retry_after:g}s"
    return text


@functools.cache
def _failure_class(code: int) -> type[CommandFailed]:
    return type(f"CommandFailed{code}", (CommandFailed,), {"exit_code": code})


def failure(error: errors.CleverFoxError, connection: Connection | None = None) -> CommandFailed:
    """The click exception of an SDK exception, carrying its exit code."""
    return _failure_class(exit_code_of(error))(error, describe(error, connection))
