"""What the agent commands build from the config file: settings, transport, state, agent.

Imported only when an agent command runs (``cleverfox agent --help`` stays light). Every
failure becomes :class:`AgentFailed`: one line, the exit code of ``agent.core.errors``.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import platform
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from cleverfox import __version__
from cleverfox.agent.core import config as agent_config
from cleverfox.agent.core.agent import Agent
from cleverfox.agent.core.errors import EXIT_CONFIG, EXIT_RUN_FAILED, EXIT_SERVER, AgentError
from cleverfox.agent.core.lock import DataFolderLock
from cleverfox.agent.core.logfile import Redact, open_log_file
from cleverfox.agent.core.progress import Listener
from cleverfox.agent.core.runner import ItemBackup, Runner
from cleverfox.agent.core.state import AgentState
from cleverfox.agent.model import ItemContext, ItemResult
from cleverfox.client import errors
from cleverfox.client.agent import AgentClient

P = ParamSpec("P")
R = TypeVar("R")

BACKUP_MODULE = "cleverfox.agent.backup"


class AgentFailed(click.ClickException):
    """One line on stderr (``error: …``) and the agent's exit code (click reads
    ``exit_code`` from the class, so each code gets a subclass when raised)."""

    def __new__(cls, message: str, exit_code: int) -> AgentFailed:
        kind = _failure_class(exit_code) if cls is AgentFailed else cls
        return click.ClickException.__new__(kind)

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)


@functools.cache
def _failure_class(code: int) -> type[AgentFailed]:
    return type(f"AgentFailed{code}", (AgentFailed,), {"exit_code": code})


def describe(error: errors.CleverFoxError, server_url: str | None = None) -> tuple[str, int]:
    """The one line and exit code of an SDK failure."""
    where = f" ({server_url})" if server_url else ""
    if isinstance(error, errors.PinMismatch):
        return f"the server's certificate is not the pinned one{where}: {error}", EXIT_SERVER
    if isinstance(error, errors.TLSError):
        return f"TLS refused{where}: {error}", EXIT_SERVER
    if isinstance(error, errors.TransportError):
        return f"server unreachable{where}: {error}", EXIT_SERVER
    if isinstance(error, errors.AuthenticationError):
        return (
            f"the server refused the device key{where} (revoked or rotated? enrol again)",
            EXIT_SERVER,
        )
    if isinstance(error, errors.PermissionDenied):
        return f"the server refused this device{where}: {error.message} ({error.code})", EXIT_SERVER
    if isinstance(error, errors.APIError):
        return f"{error.message} (HTTP {error.status} {error.code}){where}", EXIT_RUN_FAILED
    return str(error), EXIT_RUN_FAILED


def reported(function: Callable[P, R]) -> Callable[P, R]:
    """Turn the agent's and the SDK's failures into one line and an exit code."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except AgentError as exc:
            raise AgentFailed(str(exc), exc.exit_code) from None
        except errors.CleverFoxError as exc:
            raise AgentFailed(*describe(exc)) from None
        except ValueError as exc:  # a bad URL, fingerprint or key given on the command line
            raise AgentFailed(str(exc), EXIT_CONFIG) from None
        except OSError as exc:
            raise AgentFailed(
                f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), EXIT_RUN_FAILED
            ) from None

    return wrapper


def default_locations() -> agent_config.Locations:
    """This machine's default config file and data folder."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return agent_config.default_locations(sys.platform, os.environ, Path.home(), is_root)


def config_path(given: Path | None) -> Path:
    return given if given is not None else Path(default_locations().config_file)


def load_settings(given: Path | None) -> tuple[Path, agent_config.AgentSettings]:
    path = config_path(given)
    return path, agent_config.load(path)


def facts() -> dict[str, str | None]:
    """What the check-in reports of this machine."""
    return {
        "Hostname": socket.gethostname()[:255] or None,
        "OsName": platform.system() or None,
        "OsVersion": platform.release() or None,
        "AgentVersion": __version__,
    }


def client_of(settings: agent_config.AgentSettings, **options: Any) -> AgentClient:
    return AgentClient(
        settings.server_url, settings.api_key, fingerprint=settings.fingerprint, **options
    )


def item_backup() -> ItemBackup:
    """The backup part's ``back_up_item``; without it, every item fails saying so."""
    try:
        module = importlib.import_module(BACKUP_MODULE)
    except ImportError:
        return _no_backup
    backup: ItemBackup = module.back_up_item
    return backup


def _no_backup(ctx: ItemContext) -> ItemResult:
    return ItemResult(
        False,
        {"JobItemId": ctx.item["JobItemId"]},
        errors=[f"this agent has no backup module ({BACKUP_MODULE}): upgrade cleverfox"],
    )


def backup_module(what: str) -> Any:
    """``cleverfox.agent.backup`` for ``copies``/``restore``, or a one-line failure."""
    try:
        return importlib.import_module(BACKUP_MODULE)
    except ImportError:
        raise AgentFailed(
            f"{what} needs {BACKUP_MODULE}, which this version lacks", EXIT_CONFIG
        ) from None


NICENESS = 10


def lower_priority() -> None:
    """Run at low CPU priority (``nice`` 10 on POSIX), as a backup should. On Linux an I/O
    priority not set explicitly follows the nice value where the I/O scheduler uses
    priorities (BFQ); the systemd unit sets it explicitly. On Windows the task runs at
    priority 7 (below normal)."""
    if hasattr(os, "nice"):
        with suppress(OSError):
            os.nice(NICENESS)


@dataclass
class Running:
    """An agent opened for one command: its settings and parts (closed on exit)."""

    path: Path
    settings: agent_config.AgentSettings
    client: AgentClient
    state: AgentState
    agent: Agent


@contextmanager
def running_agent(
    given: Path | None, *, listeners: Callable[[int], Sequence[Listener]] = lambda _: ()
) -> Iterator[Running]:
    """The agent of the config file, with the data folder's lock held and the log file
    open; AgentBusy when another agent holds the lock."""
    path, settings = load_settings(given)
    redact = Redact([settings.api_key])
    with DataFolderLock(settings.data_folder):
        lower_priority()
        handler = open_log_file(settings.data_folder, redact)
        client = client_of(settings)
        try:
            state = AgentState(settings.data_folder)
            runner = Runner(
                client,
                state,
                settings.data_folder,
                item_backup(),
                redact=redact,
                listeners=listeners,
            )
            yield Running(
                path, settings, client, state, Agent(client, state, runner, facts=facts())
            )
        finally:
            client.close()
            logging.getLogger("cleverfox").removeHandler(handler)
            handler.close()
