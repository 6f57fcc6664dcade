"""The base of every model: wire names, date-time zones, kept unknown attributes."""

from __future__ import annotations

import functools
import types
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_pascal

__all__ = ["Bool", "CleverFoxModel", "IntIdModel", "Local", "LocalDateTime", "UtcDateTime"]


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _null_is_false(value: object) -> object:
    return False if value is None else value


class _LocalMarker:
    """Metadata marking a "DateTime Local" attribute: wall time in the device's zone."""


Local = _LocalMarker()

UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A "DateTime UTC" attribute: always aware, in UTC."""

LocalDateTime = Annotated[datetime, Local]
"""A "DateTime Local" attribute: aware in the device's zone once the model knows it."""

Bool = Annotated[bool, BeforeValidator(_null_is_false)]
"""A boolean where the wire's ``null`` means ``False`` (the contract says so)."""


@functools.lru_cache(maxsize=512)
def zone_named(name: str) -> tzinfo | None:
    """The zone of an IANA name, or of a Windows time-zone id (``Eastern Standard Time``)
    through tzlocal's table when it is installed; None when neither knows it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    try:
        from tzlocal.windows_tz import win_tz  # optional: a table Windows id → IANA name
    except ImportError:  # pragma: no cover - tzlocal is a dependency of the distribution
        return None
    iana = win_tz.get(name)
    return zone_named(iana) if isinstance(iana, str) else None


def _is_local(annotation: Any, metadata: list[Any]) -> bool:
    """True when the annotation (or a member of its union) is marked :data:`Local`."""
    if Local in metadata:
        return True
    if get_origin(annotation) is Annotated:
        return Local in annotation.__metadata__
    return any(_is_local(arg, []) for arg in get_args(annotation))


def _model_types(annotation: Any) -> list[type[CleverFoxModel]]:
    """Model classes inside an annotation such as ``Device | None`` or ``list[Job]``."""
    found: list[type[CleverFoxModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, CleverFoxModel):
        found.append(annotation)
    if get_origin(annotation) in (Union, types.UnionType, list):
        for arg in get_args(annotation):
            found.extend(_model_types(arg))
    return found


class CleverFoxModel(BaseModel):
    """A resource as the server sent it.

    Attributes are the wire's PascalCase names in snake_case (``StateProvidence`` →
    ``state_providence``). Attributes this SDK does not know are kept, under their wire
    names, in :attr:`extra`. Models are read-only snapshots: change the server with the
    namespace's ``update``. "DateTime UTC" attributes are aware in UTC; "DateTime Local"
    ones are aware in the device's zone (from ``IanaTimeZoneId`` or ``TimeZoneId`` of the
    object, else of its embedded Device, else of the object that embeds it), and stay naive
    only when no zone can be found.
    """

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        extra="allow",
        frozen=True,
    )

    local_attributes: ClassVar[tuple[str, ...]] = ()
    """Names of this model's "DateTime Local" attributes (filled in per class)."""
    zoned_children: ClassVar[tuple[str, ...]] = ()
    """Attributes holding embedded models with Local attributes (filled in per class)."""

    added_on: UtcDateTime | None = None
    updated_on: UtcDateTime | None = None
    token: str | None = Field(default=None, repr=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.local_attributes = tuple(
            name
            for name, info in cls.model_fields.items()
            if _is_local(info.annotation, info.metadata)
        )
        cls.zoned_children = tuple(
            name
            for name, info in cls.model_fields.items()
            if any(m.local_attributes for m in _model_types(info.annotation))
        )

    @property
    def extra(self) -> dict[str, Any]:
        """Attributes the server sent that this SDK does not know, by wire name."""
        return dict(self.model_extra or {})

    def to_wire(self) -> dict[str, Any]:
        """The object under its wire names, JSON-ready, unknown attributes included."""
        return self.model_dump(mode="json", by_alias=True)

    def zone(self) -> tzinfo | None:
        """The device's zone this object's Local date-times are in, if it can tell."""
        fields = self.__dict__
        for attribute in ("iana_time_zone_id", "time_zone_id"):
            name = fields.get(attribute)
            if isinstance(name, str) and name:
                zone = zone_named(name)
                if zone is not None:
                    return zone
        device = fields.get("device")
        return device.zone() if isinstance(device, CleverFoxModel) else None

    @model_validator(mode="after")
    def _localize(self) -> Self:
        if self.zoned_children or self.local_attributes:
            zone = self.zone()
            if zone is not None:
                self._apply_zone(zone)
        return self

    def _apply_zone(self, zone: tzinfo) -> None:
        """Give naive Local date-times the zone (aware ones are converted to it), and so
        for embedded objects that could not tell their own zone (a Log's Job)."""
        fields = self.__dict__
        for name in self.local_attributes:
            value = fields.get(name)
            if isinstance(value, datetime):
                fields[name] = (
                    value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
                )
        for name in self.zoned_children:
            child = fields.get(name)
            if isinstance(child, CleverFoxModel) and child._has_naive_local():
                child._apply_zone(zone)

    def _has_naive_local(self) -> bool:
        fields = self.__dict__
        for name in self.local_attributes:
            value = fields.get(name)
            if isinstance(value, datetime) and value.tzinfo is None:
                return True
        return False


class IntIdModel(CleverFoxModel):
    """A model whose id is an integer (every resource but Time Zones)."""

    id_attribute: ClassVar[str] = ""

    @property
    def id(self) -> int:
        """The object's own id (``CompanyId`` of a Company, …)."""
        value = getattr(self, self.id_attribute)
        assert isinstance(value, int)
        return value
