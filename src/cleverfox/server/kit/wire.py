"""Attributes on the wire and how input is read: the published service's lenient rules.

A resource declares its attributes once (``Attr``) in its ``schemas.py``; the ``WireSchema``
built from them matches names case-insensitively, reads scalars leniently (a numeric string
for an integer, ``"true"``/``"false"`` for a boolean), applies the required / read-only /
write-only rules of README §3 and reports every failing attribute at once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from cleverfox.server.kit.datetimes import parse_datetime, parse_utc
from cleverfox.server.kit.errors import FieldError, ValidationFailed, required

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_INTEGER_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")
MISSING: Any = object()


class Kind(Enum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATETIME_UTC = "datetime_utc"
    DATETIME_LOCAL = "datetime_local"
    CHOICE = "choice"
    OBJECT = "object"
    ARRAY = "array"


class Rule(Enum):
    REQUIRED = "required"  # required on POST, may change on PUT, never cleared
    REQUIRED_ON_POST = "required_on_post"  # required on POST, read-only after
    OPTIONAL = "optional"
    READ_ONLY = "read_only"
    WRITE_ONLY = "write_only"  # optional, never returned; null means absent
    CREATE_ONLY = "create_only"  # optional on POST, read-only after


Validator = Callable[[Any], FieldError | None]


@dataclass(frozen=True)
class Attr:
    """One attribute of a resource: its wire name, type and rule."""

    name: str
    kind: Kind = Kind.STRING
    rule: Rule = Rule.OPTIONAL
    field: str = ""
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
    check: Validator | None = None
    doc: str = ""

    @property
    def writable(self) -> bool:
        return self.rule is not Rule.READ_ONLY


def snake(name: str) -> str:
    """``StateProvidence`` → ``state_providence`` (the model's field name)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class WireSchema:
    """The attributes of one resource, and reading a request body against them."""

    def __init__(self, title: str, attrs: Iterable[Attr]) -> None:
        self.title = title
        self.attrs = tuple(a if a.field else _with_field(a) for a in attrs)
        self.by_folded = {a.name.casefold(): a for a in self.attrs}
        self.by_folded["token"] = Attr("Token", max_length=50)

    def canonicalize(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Map body keys to wire names; return the known writable values and unknown names.

        Read-only attributes are dropped silently; unknown ones are returned for the
        ``X-CleverFox-Ignored-Attributes`` header.
        """
        known: dict[str, Any] = {}
        ignored: list[str] = []
        for key, value in body.items():
            attr = self.by_folded.get(key.casefold())
            if attr is None:
                ignored.append(key)
            elif attr.writable:
                known[attr.name] = value
        return known, ignored

    def parse_create(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Read a POST body: every required attribute present; returns field → value."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for attr in self.attrs:
            if not attr.writable:
                continue
            failures = len(errors)
            value = _read(attr, raw.get(attr.name, MISSING), errors)
            if len(errors) > failures:
                continue
            if value is MISSING or value is None:
                if attr.rule in (Rule.REQUIRED, Rule.REQUIRED_ON_POST):
                    errors.append(required(attr.name))
                    continue
                value = False if attr.kind is Kind.BOOLEAN else None
            values[attr.field] = value
        _raise_if(errors)
        return values

    def parse_update(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Read a PUT body: only attributes present change; ``null`` clears optional ones."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for attr in self.attrs:
            if attr.rule in (Rule.READ_ONLY, Rule.REQUIRED_ON_POST, Rule.CREATE_ONLY):
                continue
            if attr.name not in raw:
                continue
            value = _read(attr, raw[attr.name], errors)
            if value is MISSING:
                continue
            if value is None:
                if attr.rule is Rule.WRITE_ONLY:
                    continue
                if attr.rule is Rule.REQUIRED:
                    errors.append(required(attr.name))
                    continue
                if attr.kind is Kind.BOOLEAN:
                    value = False
            values[attr.field] = value
        _raise_if(errors)
        return values

    def attr(self, name: str) -> Attr:
        return self.by_folded[name.casefold()]


def _with_field(attr: Attr) -> Attr:
    return Attr(**{**attr.__dict__, "field": snake(attr.name)})


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def _read(attr: Attr, value: Any, errors: list[FieldError]) -> Any:
    """Coerce one value; on failure append its error and return ``MISSING``."""
    if value is MISSING:
        return MISSING
    try:
        result = coerce(attr, value)
    except FieldErrorSignal as signal:
        errors.append(signal.error)
        return MISSING
    if result is not None and attr.check is not None:
        problem = attr.check(result)
        if problem is not None:
            errors.append(problem)
            return MISSING
    return result


class FieldErrorSignal(Exception):
    def __init__(self, error: FieldError) -> None:
        self.error = error
        super().__init__(error.message)


def _fail(attr: Attr, code: str, message: str) -> FieldErrorSignal:
    return FieldErrorSignal(FieldError(attr.name, code, message))


def coerce(attr: Attr, value: Any) -> Any:
    """Read one value of ``attr`` leniently; ``None`` and ``""`` mean null.

    Raises ``FieldErrorSignal`` naming the attribute when the value cannot be read.
    """
    if value is None or (isinstance(value, str) and value == "" and attr.kind is not Kind.BOOLEAN):
        return None
    reader = _READERS[attr.kind]
    return reader(attr, value)


def _read_string(attr: Attr, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(attr, "invalid_type", f"{attr.name} must be a string.")
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        raise _fail(attr, "invalid_characters", f"{attr.name} must not contain NUL characters.")
    if attr.max_length is not None and len(text) > attr.max_length:
        raise _fail(attr, "too_long", f"{attr.name} must be at most {attr.max_length} characters.")
    return text


def _read_integer(attr: Attr, value: Any) -> int:
    number = read_int(value)
    if number is None:
        raise _fail(attr, "invalid_type", f"{attr.name} must be an integer.")
    low = INT64_MIN if attr.minimum is None else attr.minimum
    high = INT64_MAX if attr.maximum is None else attr.maximum
    if not low <= number <= high:
        raise _fail(attr, "out_of_range", f"{attr.name} must be between {low} and {high}.")
    return number


def read_int(value: Any) -> int | None:
    """An integer from JSON read leniently (numeric strings, integral floats), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value) and len(value) < 40:
        return int(value)
    return None


def read_bool(value: Any) -> bool | None:
    """A boolean read leniently (``"true"``/``"false"``, 0/1; null is false), else ``None``."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _read_boolean(attr: Attr, value: Any) -> bool:
    result = read_bool(value)
    if result is None:
        raise _fail(attr, "invalid_type", f"{attr.name} must be true or false.")
    return result


def _read_choice(attr: Attr, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(attr, "invalid_type", f"{attr.name} must be a string.")
    choice = match_choice(value, attr.choices, attr.aliases)
    if choice is None:
        allowed = ", ".join(attr.choices)
        raise _fail(attr, "invalid_choice", f"{attr.name} must be one of: {allowed}.")
    return choice


def match_choice(
    value: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """The canonical spelling of ``value`` among ``choices`` (case-insensitive), or ``None``."""
    folded = value.strip().casefold()
    for alias, target in (aliases or {}).items():
        if alias.casefold() == folded:
            return target
    return next((c for c in choices if c.casefold() == folded), None)


def _read_datetime_utc(attr: Attr, value: Any) -> datetime:
    if not isinstance(value, str):
        raise _fail(attr, "invalid_type", f"{attr.name} must be a date-time string.")
    try:
        return parse_utc(value)
    except ValueError:
        raise _fail(attr, "invalid_datetime", f"{attr.name} must be YYYY-MM-DDTHH:MM:SS.") from None


def _read_datetime_local(attr: Attr, value: Any) -> tuple[datetime, Any]:
    """Local date-times keep their zone (if any) so the service converts to the device's."""
    if not isinstance(value, str):
        raise _fail(attr, "invalid_type", f"{attr.name} must be a date-time string.")
    try:
        return parse_datetime(value)
    except ValueError:
        raise _fail(attr, "invalid_datetime", f"{attr.name} must be YYYY-MM-DDTHH:MM:SS.") from None


def _read_passthrough(attr: Attr, value: Any) -> Any:
    return value


_READERS: dict[Kind, Callable[[Attr, Any], Any]] = {
    Kind.STRING: _read_string,
    Kind.INTEGER: _read_integer,
    Kind.BOOLEAN: _read_boolean,
    Kind.CHOICE: _read_choice,
    Kind.DATETIME_UTC: _read_datetime_utc,
    Kind.DATETIME_LOCAL: _read_datetime_local,
    Kind.OBJECT: _read_passthrough,
    Kind.ARRAY: _read_passthrough,
}
