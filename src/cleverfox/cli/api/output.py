"""How the API commands print: rich tables for people, JSON for scripts, progress on stderr.

``--json`` prints one object as one JSON document, and a listing as JSON Lines — one object
per line, as it is fetched — so a listing of any length streams in flat memory and ``jq``
reads it as it comes (``jq -s`` makes an array). Objects are printed under the API's own
PascalCase names: their date-times with their zone, embedded objects as the server sent them.
Tables are for people and may change. On a terminal they fit its width (or ``COLUMNS``);
written anywhere else (``| less -S``, a file) they are as wide as their contents and never
cut or wrapped, unless ``COLUMNS`` says otherwise.
The progress of a listing goes to stderr, and only when stderr is a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from cleverfox.cli.api.values import wire_name
from cleverfox.client import CleverFoxModel

PROGRESS_EVERY = 100
"""Listed objects between two updates of the progress line."""
UNBOUNDED_WIDTH = 1_000_000
"""The width of a table not written to a terminal: wider than any row, so none is cut."""


def cell(value: object) -> str:
    """A value as a person reads it in a table."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, CleverFoxModel):
        return str(getattr(value, "name", None) or getattr(value, "id", ""))
    if isinstance(value, list):
        return f"{len(value)} items"
    return str(value).replace("\r\n", ", ")


def _moment(value: datetime) -> str:
    """``2026-03-01 02:00:00`` plus ``Z`` for UTC, or the offset of a device's zone."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    offset = value.utcoffset()
    if offset is None:
        return text
    return text + ("Z" if not offset else value.strftime("%z"))


def _attributes(model: CleverFoxModel) -> Iterator[tuple[str, object]]:
    for name in type(model).model_fields:
        if name != "token":
            yield wire_name(name), getattr(model, name)
    yield from model.extra.items()


class Output:
    """Where one command prints: ``as_json`` chooses JSON over tables."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console(highlight=False, soft_wrap=False, width=table_width())

    def element(self, model: CleverFoxModel) -> None:
        """One object: a JSON document, or a table of its attributes."""
        if self.as_json:
            click.echo(model.model_dump_json(by_alias=True))
            return
        table = Table("Attribute", "Value", show_header=False, box=None)
        table.columns[1].overflow = "fold"  # keys and URLs are shown whole
        for name, value in _attributes(model):
            table.add_row(name, cell(value))
        self.console.print(table)

    def listing(self, models: Iterable[CleverFoxModel], columns: Sequence[str], label: str) -> int:
        """Objects as JSON Lines as they arrive, or a table of ``columns``; the count."""
        count = 0
        table = Table(*(wire_name(c) for c in columns), box=None, header_style="bold")
        with progress(label) as advance:
            for model in models:
                count += 1
                if self.as_json:
                    click.echo(model.model_dump_json(by_alias=True))
                else:
                    table.add_row(*(cell(getattr(model, c, None)) for c in columns))
                if count % PROGRESS_EVERY == 0:
                    advance(count)
        if not self.as_json:
            self.console.print(table if count else f"No {label}.")
        return count

    def message(self, text: str) -> None:
        """A sentence for people; nothing in JSON mode (the JSON document says it)."""
        if not self.as_json:
            click.echo(text)


def table_width() -> int | None:
    """None (the terminal's width, or ``COLUMNS``) when stdout is a terminal or ``COLUMNS``
    is set; else unbounded, so a piped table keeps every column whole."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None
    return UNBOUNDED_WIDTH


@contextmanager
def progress(label: str) -> Iterator[Callable[[int], None]]:
    """A transient "N fetched" line on stderr while a listing runs, if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield _no_progress
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}: {task.completed:,} fetched"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda count: bar.update(task, completed=count)


def _no_progress(count: int) -> None:
    return None
