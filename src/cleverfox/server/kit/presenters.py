"""One presenter per resource, compiled from its ``WireSchema`` (issue 9).

A resource declares how it is written once, in its ``schemas.py``: a ``Presenter`` over its
``WireSchema``. Each attribute is read from its ``Attr.field`` — a column of a row or an
attribute of an ORM object, the same name for both — and written by its ``Kind``:

- DATETIME_UTC and DATETIME_LOCAL as ``YYYY-MM-DDTHH:MM:SS.fff`` (``format_datetime``);
  our own ``…Utc`` attributes with a ``Z`` (``format_utc_z``);
- WRITE_ONLY ones (secrets) as ``null``, always;
- ``derived`` ones by a function of other fields (and, where it says so, of the
  presentation's *context*: the clock, the server's keys, a page's embedded objects);
- ``embedded`` ones as another resource's presenter, *flat*: one level down, its own
  embedded objects ``null`` (README §4);
- everything else as it is read.

From one declaration ``objects()``, ``rows()`` and ``positions()`` compile the presenter of
one source: ORM objects (attribute access), Core row mappings or dicts (key access), or rows
holding every attribute in wire order, already written (the Logs' reads). How a field is
read is decided there, once, not per field: each compiles to one function whose body is a
dict display, generated as ``dataclasses`` generates ``__init__`` — as fast as the
hand-written presenters it replaces (docs/benchmarks.md, Presenters).

An embedded resource's fields are read, on objects, from the relationship named by the
embedding attribute's ``field`` (``Company.partner``); in rows, from the same row, its
columns named with the embedding's ``prefix`` (``partner_name``), as the read path selects
them. ``extras`` names values a view object holds beside the ORM object it presents (the
device counts of ``SubscriptionView``), by their flat column name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cleverfox.server.kit.datetimes import format_datetime, format_utc_z
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema

Presented = dict[str, Any]
Compiled = Callable[..., Presented]
"""A compiled presenter: ``present(source, context=None) -> dict`` (the wire object)."""


@dataclass(frozen=True)
class Derived:
    """An attribute computed from the fields ``sources`` (columns / attributes, in order):
    ``function(*values)``, or ``function(context, *values)`` when ``context`` is true."""

    function: Callable[..., Any]
    sources: tuple[str, ...] = ()
    context: bool = False


NULL = Derived(lambda: None)
"""An attribute always written ``null`` (one no system of ours holds)."""


@dataclass(frozen=True)
class Embed:
    """Another resource embedded one level down (flat): in rows, its columns carry
    ``prefix`` (``None``: the rows of this source do not hold it — compiling them is an
    error); ``many`` for an array of them (objects only)."""

    presenter: Presenter
    prefix: str | None = None
    many: bool = False


class Access(Enum):
    ATTRIBUTE = "attribute"  # ORM objects, views
    KEY = "key"  # Core row mappings, dicts
    POSITION = "position"  # rows of every attribute in wire order, already written


@dataclass(frozen=True)
class Presenter:
    """How one resource is written: its ``WireSchema`` and what is not read as it is.

    ``token``: whether the resource has a ``Token`` (written ``null``: Tokens are never
    echoed, README §3), after its attributes.
    """

    schema: WireSchema
    derived: Mapping[str, Derived] = field(default_factory=dict)
    embedded: Mapping[str, Embed] = field(default_factory=dict)
    token: bool = True

    def __post_init__(self) -> None:
        names = {a.name for a in self.schema.attrs}
        unknown = (set(self.derived) | set(self.embedded)) - names
        if unknown:
            raise ValueError(f"{self.schema.title}: no such attributes: {sorted(unknown)}")

    def objects(
        self, *, flat: bool = False, root: str = "", extras: Mapping[str, str] | None = None
    ) -> Compiled:
        """The presenter of ORM objects; ``root`` names the attribute of the source that
        holds the object (a view's), ``extras`` the view's other values (by flat column)."""
        return _compile(self, Access.ATTRIBUTE, flat=flat, root=root, extras=extras or {})

    def rows(self, *, flat: bool = False) -> Compiled:
        """The presenter of row mappings (keys: the columns, embedded ones prefixed)."""
        return _compile(self, Access.KEY, flat=flat, root="", extras={})

    def positions(self) -> Compiled:
        """The presenter of rows holding each attribute in wire order, as written on the
        wire already (the query writes date-times); derived and embedded attributes hold
        ``NULL`` in the row and are computed here."""
        return _compile(self, Access.POSITION, flat=False, root="", extras={})

    def columns(self) -> tuple[tuple[str, str | None], ...]:
        """Each attribute with the column a positional row reads it from, in order; ``None``
        where the presenter computes it from others."""
        return tuple((a.name, self._column(a)) for a in self.schema.attrs)

    def _column(self, attr: Attr) -> str | None:
        """A derived attribute keeps its column when it reads it (it rewrites what is
        stored); the other derived and embedded ones, and secrets, have none."""
        derived = self.derived.get(attr.name)
        if derived is not None:
            return attr.field if attr.field in derived.sources else None
        if attr.name in self.embedded or attr.rule is Rule.WRITE_ONLY:
            return None
        return attr.field


_DATETIMES = (Kind.DATETIME_UTC, Kind.DATETIME_LOCAL)


class _Source:
    """Writes the Python expressions that present one source, collecting the functions
    they call in ``namespace``."""

    def __init__(self, access: Access, extras: Mapping[str, str]) -> None:
        self.access = access
        self.extras = extras
        self.namespace: dict[str, Any] = {}
        self._names = itertools.count()

    def constant(self, value: Any) -> str:
        name = f"_k{next(self._names)}"
        self.namespace[name] = value
        return name

    def variable(self) -> str:
        return f"_v{next(self._names)}"

    def read(self, holder: str, prefix: str, column: str) -> str:
        key = prefix + column
        if key in self.extras:
            return f"o.{self.extras[key]}"
        if self.access is Access.ATTRIBUTE:
            return f"{holder}.{column}"
        return f"{holder}[{key!r}]"

    def shape(self, presenter: Presenter, holder: str, prefix: str, flat: bool) -> str:
        items = [
            f"{a.name!r}: {self.value(presenter, a, holder, prefix, flat)}"
            for a in presenter.schema.attrs
        ]
        if presenter.token:
            items.append("'Token': None")
        return "{" + ", ".join(items) + "}"

    def value(self, presenter: Presenter, attr: Attr, holder: str, prefix: str, flat: bool) -> str:
        if (derived := presenter.derived.get(attr.name)) is not None:
            if derived is NULL:
                return "None"
            arguments = ["ctx"] if derived.context else []
            arguments += [self.read(holder, prefix, s) for s in derived.sources]
            return f"{self.constant(derived.function)}({', '.join(arguments)})"
        if (embed := presenter.embedded.get(attr.name)) is not None:
            return "None" if flat else self.embedded(presenter, attr, embed, holder, prefix)
        if attr.rule is Rule.WRITE_ONLY:
            return "None"
        read = self.read(holder, prefix, attr.field)
        if attr.kind in _DATETIMES:
            written = format_utc_z if attr.name.endswith("Utc") else format_datetime
            return f"{self.constant(written)}({read})"
        return read

    def embedded(
        self, presenter: Presenter, attr: Attr, embed: Embed, holder: str, prefix: str
    ) -> str:
        inner = embed.presenter
        if self.access is not Access.ATTRIBUTE:
            if embed.prefix is None or embed.many:
                raise ValueError(f"{presenter.schema.title}.{attr.name}: not in its rows")
            return self.shape(inner, holder, prefix + embed.prefix, flat=True)
        variable = self.variable()
        nested = self.shape(inner, variable, prefix + (embed.prefix or ""), flat=True)
        relationship = f"{holder}.{attr.field}"
        if embed.many:
            return f"[{nested} for {variable} in {relationship}]"
        return f"(None if ({variable} := {relationship}) is None else {nested})"


def _compile(
    presenter: Presenter, access: Access, *, flat: bool, root: str, extras: Mapping[str, str]
) -> Compiled:
    source = _Source(access, extras)
    if access is Access.POSITION:
        body = _positional_body(presenter, source)
    else:
        holder = "r" if root else "o"
        start = f"    r = o.{root}\n" if root else ""
        body = start + f"    return {source.shape(presenter, holder, '', flat)}\n"
    name = f"present_{presenter.schema.title.lower()}_{access.value}{'_flat' if flat else ''}"
    text = f"def {name}(o, ctx=None):\n{body}"
    exec(compile(text, f"<presenter {name}>", "exec"), source.namespace)  # noqa: S102 - our own text
    function: Compiled = source.namespace[name]
    function.__doc__ = f"A {presenter.schema.title} from {access.value} access (generated)."
    return function


def _positional_body(presenter: Presenter, source: _Source) -> str:
    """``dict(zip(names, row))`` — cheaper than reading 40 positions one by one — then the
    computed attributes, reading their sources by position."""
    names = tuple(a.name for a in presenter.schema.attrs)
    positions = {column: i for i, (_, column) in enumerate(presenter.columns()) if column}
    lines = [f"    d = dict(zip({source.constant(names)}, o, strict=True))"]
    for attr in presenter.schema.attrs:
        derived = presenter.derived.get(attr.name)
        if derived is NULL:
            continue  # the row holds NULL there
        if derived is None:
            if attr.name in presenter.embedded:
                raise ValueError(f"{presenter.schema.title}.{attr.name}: derive it by position")
            continue
        arguments = ["ctx"] if derived.context else []
        arguments += [f"o[{positions[s]}]" for s in derived.sources]
        lines.append(
            f"    d[{attr.name!r}] = {source.constant(derived.function)}({', '.join(arguments)})"
        )
    return "\n".join(lines) + "\n    return d\n"
