"""The base of every model: wire names, date-time zones, kept unknown attributes."""

from __future__ import annotations

import functools
import types
from datetime import UTC, datetime, tzinfo
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Self,
    TypeVar,
    Union,
    get_args,
    get_origin,
)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    WrapSerializer,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from cleverfox.client.errors import UnexpectedResponse

__all__ = [
    "Bool",
    "CleverFoxModel",
    "Embedded",
    "EmbeddedList",
    "IntIdModel",
    "Local",
    "LocalDateTime",
    "UtcDateTime",
]


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


class _EmbeddedMarker:
    """Metadata marking an embedded object (or list of them) decoded on first access."""


_EMBEDDED = _EmbeddedMarker()


def _as_sent(value: Any, handler: Any) -> Any:
    """Dump an embedded object not decoded yet as the server sent it (wire names);
    a decoded one by the models' own rules."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and not any(isinstance(each, BaseModel) for each in value):
        return value
    return handler(value)


T = TypeVar("T")

if TYPE_CHECKING:
    Embedded = Annotated[T | None, _EMBEDDED]
    """An embedded object (``Device.company``): typed, decoded when first read."""
    EmbeddedList = Annotated[list[T], _EMBEDDED]
    """Embedded objects (``Job.job_items``; ``null`` reads as empty), decoded when read."""
else:

    class Embedded:
        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[SkipValidation[item | None], WrapSerializer(_as_sent), _EMBEDDED]

    class EmbeddedList:
        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[SkipValidation[list[item]], WrapSerializer(_as_sent), _EMBEDDED]


class _Decoded:
    """The attribute of an embedded object: the wire's dict is kept as sent when the parent
    is decoded and becomes its model on first read (then cached), so a page of Logs costs
    one model per Log until a caller looks inside. Zones flow down as eager decoding did:
    a child that cannot tell its own zone takes its parent's."""

    def __init__(self, name: str, model: type[CleverFoxModel], many: bool) -> None:
        self.name, self.model, self.many = name, model, many

    def __get__(self, instance: CleverFoxModel | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        fields = instance.__dict__
        value = fields.get(self.name)
        if self.many:
            if value is None or any(isinstance(each, dict) for each in value):
                value = [self._decode(instance, each) for each in value or ()]
                fields[self.name] = value
        elif isinstance(value, dict):
            value = fields[self.name] = self._decode(instance, value)
        return value

    def __set__(self, instance: CleverFoxModel, value: Any) -> None:
        raise AttributeError(f"{type(instance).__name__} is read-only")

    def _decode(self, parent: CleverFoxModel, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        try:
            child = self.model.model_validate(raw)
        except ValidationError as exc:
            raise UnexpectedResponse(
                f"embedded {self.model.__name__} is not the contract's: "
                f"{exc.errors(include_input=False)[:3]}",
                status=200,
                request_id=None,
            ) from exc
        if child._has_naive_local():
            zone = parent.zone()
            if zone is not None:
                child._apply_zone(zone)
        return child


def _first_zone(attributes: dict[str, Any], names: tuple[str, str]) -> tzinfo | None:
    """The zone of the first of ``names`` (IanaTimeZoneId, then TimeZoneId) that names one."""
    for key in names:
        name = attributes.get(key)
        if isinstance(name, str) and name:
            zone = zone_named(name)
            if zone is not None:
                return zone
    return None


_ZONE_ATTRIBUTES = ("iana_time_zone_id", "time_zone_id")
_ZONE_WIRE_NAMES = ("IanaTimeZoneId", "TimeZoneId")


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
    embedded: ClassVar[tuple[str, ...]] = ()
    """Attributes holding embedded objects decoded on first read (filled in per class)."""

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
        cls.embedded = tuple(
            name for name, info in cls.model_fields.items() if _EMBEDDED in info.metadata
        )
        for name in cls.embedded:
            annotation = cls.model_fields[name].annotation
            many = get_origin(annotation) is list
            setattr(cls, name, _Decoded(name, _model_types(annotation)[0], many))

    def _decode_embedded(self) -> Self:
        """Decode every embedded object, at every depth (before a dump or a comparison)."""
        for name in self.embedded:
            value = getattr(self, name)
            for child in value if isinstance(value, list) else (value,):
                if isinstance(child, CleverFoxModel):
                    child._decode_embedded()
        return self

    def _ready_to_dump(self, by_alias: object) -> Self:
        # Under wire names an embedded object not read yet is dumped as the server sent it
        # (no need to decode it); under snake_case names it must be decoded first.
        return self if by_alias is True else self._decode_embedded()

    def model_dump(self, **options: Any) -> dict[str, Any]:
        ready = self._ready_to_dump(options.get("by_alias"))
        return super(CleverFoxModel, ready).model_dump(**options)

    def model_dump_json(self, **options: Any) -> str:
        ready = self._ready_to_dump(options.get("by_alias"))
        return super(CleverFoxModel, ready).model_dump_json(**options)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CleverFoxModel):
            other._decode_embedded()
        return super(CleverFoxModel, self._decode_embedded()).__eq__(other)

    def __hash__(self) -> int:  # frozen: hashed by its attributes, as pydantic would
        fields = self._decode_embedded().__dict__
        return hash((type(self), *(fields.get(name) for name in type(self).model_fields)))

    def __repr_args__(self) -> Any:
        self._decode_embedded()
        return super().__repr_args__()

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
        zone = _first_zone(fields, _ZONE_ATTRIBUTES)
        if zone is not None:
            return zone
        device = fields.get("device")
        if isinstance(device, dict):  # embedded, not decoded yet
            return _first_zone(device, _ZONE_WIRE_NAMES)
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
