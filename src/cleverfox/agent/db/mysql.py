"""MySQL and MariaDB items: ``mariadb-dump`` (or ``mysqldump``) streamed from its stdout.

``--single-transaction`` gives a consistent InnoDB snapshot without locking tables;
``--skip-extended-insert`` writes a row per INSERT so a change moves only its own line
(extended inserts shift every later chunk: 82 % new per run against 9 %), and
``--order-by-primary`` with ``--skip-dump-date`` keeps unchanged data byte-identical. Host,
port, user and password go in a 0600 defaults file (``--defaults-extra-file``), never argv.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cleverfox.agent.db.item import OPERATING_SYSTEM, DatabaseItem
from cleverfox.agent.db.process import (
    OpenDump,
    Scrubber,
    ToolRun,
    find_tool,
    run_query,
    scratch_folder,
    tool_environment,
    write_secret_file,
)
from cleverfox.agent.model import Dump, DumpFailed, StreamedFile

DUMP_TOOLS = ("mariadb-dump", "mysqldump")
CLIENT_TOOLS = ("mariadb", "mysql")
DUMP_OPTIONS = (
    "--single-transaction",
    "--skip-extended-insert",
    "--order-by-primary",
    "--skip-dump-date",
    "--routines",
    "--events",
    "--triggers",
    "--hex-blob",
    # Tablespaces need the PROCESS privilege on MySQL 8, which a backup user rarely has.
    "--no-tablespaces",
    "--default-character-set=utf8mb4",
)
VERSION_QUERY = "select version(), @@version_comment"
MAX_VERSION_CHARS = 100

_OPTION_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}


def option_value(value: str) -> str:
    """``value`` quoted for a MySQL option file (quotes keep ``#`` and ``;`` literal)."""
    return '"' + "".join(_OPTION_ESCAPES.get(c, c) for c in value) + '"'


def defaults_file_text(item: DatabaseItem) -> str:
    """The ``[client]`` group that points a tool at ``item``'s server.

    OS authentication to this machine leaves the host out, so the client uses the local
    socket (``unix_socket`` authentication); otherwise TCP to ServerName and Port.
    """
    lines = ["[client]"]
    if not (item.authentication_mode == OPERATING_SYSTEM and item.is_local):
        lines += [f"host={option_value(item.server_name)}", f"port={item.port}", "protocol=TCP"]
    if item.username:
        lines.append(f"user={option_value(item.username)}")
    if item.password is not None:
        lines.append(f"password={option_value(item.password)}")
    return "\n".join(lines) + "\n"


def dump_command(tool: str, defaults_file: Path, database: str) -> list[str]:
    """The dump's argv: the defaults file must come first, ``--`` ends the options."""
    return [tool, f"--defaults-extra-file={defaults_file}", *DUMP_OPTIONS, "--", database]


def parse_version(output: str) -> tuple[str | None, str | None]:
    """``(version(), @@version_comment)`` from the client's tab-separated line."""
    line = output.strip().splitlines()[-1] if output.strip() else ""
    version, _, comment = line.partition("\t")
    return (
        version.strip()[:MAX_VERSION_CHARS] or None,
        comment.strip()[:MAX_VERSION_CHARS] or None,
    )


@contextmanager
def open_mysql_dump(
    item: DatabaseItem, *, work_dir: Path, environ: Mapping[str, str]
) -> Iterator[Dump]:
    """One file, ``<database>.sql``: the dump as ``mariadb-dump``/``mysqldump`` writes it."""
    tool = find_tool(DUMP_TOOLS, environ)
    scrub = Scrubber([item.password])
    env = tool_environment(environ, {})
    with scratch_folder(work_dir) as scratch:
        defaults = write_secret_file(scratch, "client.cnf", defaults_file_text(item))
        version, edition = _server_version(defaults, env, environ, scrub)
        started = datetime.now(UTC)
        label = Path(tool).name
        run = ToolRun(
            dump_command(tool, defaults, item.database_name), env, label=label, scrub=scrub
        )
        dump = OpenDump(
            version, edition, [StreamedFile(f"{item.file_stem()}.sql", run.stdout, started)]
        )
        try:
            yield dump
        except BaseException:
            run.stop()
            raise
        run.finish()


def _server_version(
    defaults: Path, env: Mapping[str, str], environ: Mapping[str, str], scrub: Scrubber
) -> tuple[str | None, str | None]:
    """Ask the server first: a wrong password fails here, before any dump starts."""
    try:
        client = find_tool(CLIENT_TOOLS, environ)
    except DumpFailed:
        return None, None  # the dump tool alone still dumps; the version stays unknown
    argv = [client, f"--defaults-extra-file={defaults}", "--batch", "--skip-column-names"]
    output = run_query(
        [*argv, "--execute", VERSION_QUERY], env, label=Path(client).name, scrub=scrub
    )
    return parse_version(output)
