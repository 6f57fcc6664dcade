"""Subcommands imported on first use, so a command pays only for the modules it runs.

The root of ``cleverfox`` names every subcommand with its one-line help and the module that
makes it (:class:`Lazy`); :class:`LazyGroup` imports that module only when the command is
run, asked for its own ``--help`` or looked up in ``group.commands``. ``cleverfox --help``
prints the declared help without importing anything, so a partner's API command never
imports the server and the root's help stays instant (click's docs: "Lazily Loading
Subcommands").

A module named by :class:`Lazy` provides ``command(name: str) -> click.Command``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class Lazy:
    """A subcommand not imported yet: the module that makes it and its one-line help
    (the same text the command's own help starts with; a test holds them equal)."""

    module: str
    short_help: str

    def load(self, name: str) -> click.Command:
        """Import the module and take its command ``name``."""
        made: object = importlib.import_module(self.module).command(name)
        if not isinstance(made, click.Command):
            raise TypeError(f"{self.module}.command({name!r}) did not return a click command")
        return made


class LazyCommands(MutableMapping[str, click.Command]):
    """The subcommands of a group by name: listing names imports nothing; looking one up
    imports its module once. Commands added later (``add_command``) are kept as given."""

    def __init__(self, declared: Mapping[str, Lazy]) -> None:
        self.declared = dict(declared)
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            self.loaded[name] = self.declared[name].load(name)
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        found = self.declared.pop(name, None), self.loaded.pop(name, None)
        if found == (None, None):
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.declared.keys() | self.loaded.keys()))

    def __len__(self) -> int:
        return len(self.declared.keys() | self.loaded.keys())

    def short_help(self, name: str, limit: int) -> str:
        """The one-line help of ``name`` without importing it."""
        if name in self.loaded:
            return self.loaded[name].get_short_help_str(limit)
        # click shortens a help text to fit; a bare command does it with the declared text.
        stand_in = click.Command(name, help=self.declared[name].short_help)
        return stand_in.get_short_help_str(limit)


class LazyGroup(click.Group):
    """A group whose subcommands are :class:`Lazy` until used."""

    commands: LazyCommands

    def __init__(self, name: str | None = None, *, lazy: Mapping[str, Lazy], **kwargs: Any) -> None:
        super().__init__(name, commands=LazyCommands(lazy), **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their one-line help, as click prints them, importing none."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self.commands.short_help(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
