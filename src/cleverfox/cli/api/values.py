"""Command-line options made from the SDK's keyword arguments (``cleverfox.client.params``).

Each attribute of a create/update/filter TypedDict becomes one option: ``external_id`` →
``--external-id``; booleans are flag pairs (``--is-inactive/--no-is-inactive``), integers,
strings, enums (case-insensitive, with the API's aliases), multi-value strings (the option
repeated), date-times (ISO 8601) and moments (``24h``, ``7d`` or an ISO date-time).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Required, Union

import click

from cleverfox.client.enums import OpenEnum

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> timedelta | None:
    """``90m``, ``24h``, ``7d``, ``2w``, ``1d12h`` as a timedelta; None if not a duration."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        return None
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 date or date-time (``2026-03-01``, ``2026-03-01T02:00``, ``…Z``,
    ``…+01:00``); None if it is not one."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


Convert = Callable[[str], object]
"""Turns an option's text into the SDK's value; ValueError names what is wrong."""


def to_moment(text: str) -> timedelta | datetime:
    """A point in time for a filter: a duration before now, or an ISO date-time (a
    date-time without a zone is UTC, as the API reads filters)."""
    moment = parse_duration(text) or parse_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is neither a duration (24h, 7d) nor an ISO date-time")
    return moment


def to_datetime(text: str) -> datetime:
    """An ISO 8601 date-time; without a zone it is wall time in the device's zone."""
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is not an ISO date-time (2026-03-01T02:00)")
    return moment


def to_member(enum: type[OpenEnum]) -> Convert:
    """One of an enum's values, matched as the API matches them (any case, its aliases)."""

    def convert(text: str) -> OpenEnum:
        member = enum(text)
        if not member.known:
            raise ValueError(f"{text!r} is not one of {', '.join(m.value for m in enum)}")
        return member

    return convert


def _converting(convert: Convert) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or value == "":
            return value
        try:
            return convert(str(value))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None

    return callback


MOMENT_HELP = "A duration before now (90m, 24h, 7d) or an ISO date-time (UTC unless zoned)."
DATETIME_HELP = "ISO date-time, e.g. 2026-03-01T02:00 (wall time in the device's zone)."
LINES_HELP = "Repeat the option for several values."


def wire_name(name: str) -> str:
    """``state_providence`` → ``StateProvidence`` (the API's spelling)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _members(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _enum_of(members: Sequence[Any]) -> type[OpenEnum] | None:
    for member in members:
        if isinstance(member, type) and issubclass(member, OpenEnum):
            return member
    return None


def option_for(name: str, annotation: Any, *, required: bool, clears: bool) -> click.Option:
    """The option of one attribute; ``clears`` says an empty value clears it (updates)."""
    members = _members(annotation)
    flag = option_name(name)
    wire = wire_name(name)
    if members == (bool,):
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=None, help=f"{wire}.")
    extra: dict[str, Any] = {"type": click.STRING}
    hint = 'An empty value ("") clears it.' if clears and type(None) in _all(annotation) else ""
    enum = _enum_of(members)
    if enum is not None:
        extra["callback"] = _converting(to_member(enum))
        extra["metavar"] = "[" + "|".join(member.value for member in enum) + "]"
    elif timedelta in members:
        extra["callback"], extra["metavar"], hint = _converting(to_moment), "WHEN", MOMENT_HELP
    elif datetime in members:
        extra["callback"], extra["metavar"] = _converting(to_datetime), "DATETIME"
        hint = " ".join((DATETIME_HELP, hint)).strip()
    elif members == (int,):
        extra["type"] = click.INT
    elif any(typing.get_origin(m) is Sequence for m in members):
        extra["multiple"], hint = True, LINES_HELP
    return click.Option([flag], required=required, help=f"{wire}. {hint}".strip(), **extra)


def _all(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def required_keys(typed_dict: type) -> frozenset[str]:
    """The keys a TypedDict marks ``Required`` (read from the annotations: with postponed
    annotations Python 3.11 leaves ``__required_keys__`` without them)."""
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    marked = {name for name, hint in hints.items() if typing.get_origin(hint) is Required}
    return frozenset(marked) | getattr(typed_dict, "__required_keys__", frozenset())


def options_of(
    typed_dict: type, *, enforce_required: bool, optional: frozenset[str] = frozenset()
) -> list[click.Option]:
    """One option per key of a TypedDict, required ones first, each part sorted by name;
    ``optional`` names required keys the command fills itself when they are not given."""
    hints = typing.get_type_hints(typed_dict)
    required = required_keys(typed_dict) - optional if enforce_required else frozenset()
    order = sorted(hints, key=lambda name: (name not in required, name))
    return [
        option_for(name, hints[name], required=name in required, clears=not enforce_required)
        for name in order
    ]


def given(values: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The options among ``names`` that were given (None and empty repeats are absent);
    an empty string is kept, and sent as ``None`` so it clears the attribute."""
    chosen: dict[str, Any] = {}
    for name in names:
        value = values.get(name)
        if value is None or value == ():
            continue
        chosen[name] = None if value == "" else value
    return chosen
