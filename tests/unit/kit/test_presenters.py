"""The presenter compiler: one declaration, the same JSON from objects, rows and positions."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from cleverfox.server.kit.presenters import NULL, Derived, Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema

OWNER = Presenter(
    WireSchema(
        "Owner",
        [
            Attr("OwnerId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
            Attr("Name"),
            Attr("Pet", Kind.OBJECT, Rule.READ_ONLY),
        ],
    ),
    embedded={"Pet": Embed(Presenter(WireSchema("Pet", [Attr("Name")])), "pet_")},
    token=False,
)
THING = Presenter(
    WireSchema(
        "Thing",
        [
            Attr("ThingId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
            Attr("OwnerId", Kind.INTEGER),
            Attr("Owner", Kind.OBJECT, Rule.READ_ONLY),
            Attr("Name"),
            Attr("Secret", rule=Rule.WRITE_ONLY),
            Attr("SeenOn", Kind.DATETIME_LOCAL),
            Attr("SeenUtc", Kind.DATETIME_UTC, Rule.READ_ONLY, field="seen_on"),
            Attr("Shout", rule=Rule.READ_ONLY),
            Attr("Where", rule=Rule.READ_ONLY),
            Attr("Nothing", Kind.INTEGER, Rule.READ_ONLY),
            Attr("Count", Kind.INTEGER, Rule.READ_ONLY),
            Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        ],
    ),
    derived={
        "Shout": Derived(str.upper, ("name",)),
        "Where": Derived(lambda ctx, name: f"{ctx}/{name}", ("name",), context=True),
        "Nothing": NULL,
    },
    embedded={"Owner": Embed(OWNER, "owner_")},
)
SEEN = datetime(2026, 3, 29, 2, 30, 0, 123456)
EXPECTED = {
    "ThingId": 7,
    "OwnerId": 3,
    "Owner": {"OwnerId": 3, "Name": "Ada", "Pet": None},
    "Name": "box",
    "Secret": None,
    "SeenOn": "2026-03-29T02:30:00.123",
    "SeenUtc": "2026-03-29T02:30:00.123Z",
    "Shout": "BOX",
    "Where": "here/box",
    "Nothing": None,
    "Count": 2,
    "AddedOn": "2026-03-29T02:30:00.123",
    "Token": None,
}


def thing_object(count: int = 2) -> SimpleNamespace:
    owner = SimpleNamespace(id=3, name="Ada", pet=SimpleNamespace(name="Rex"))
    return SimpleNamespace(
        id=7, owner_id=3, owner=owner, name="box", secret="s3cret", seen_on=SEEN, count=count,
        added_on=SEEN,
    )  # fmt: skip


def thing_row() -> dict[str, Any]:
    return {
        "id": 7, "owner_id": 3, "owner_name": "Ada", "name": "box",
        "secret": "s3cret", "seen_on": SEEN, "count": 2, "added_on": SEEN,
    }  # fmt: skip


def test_objects_and_rows_of_one_declaration_write_the_same_object() -> None:
    assert THING.objects()(thing_object(), "here") == EXPECTED
    # a row holds the embedded Owner's columns prefixed ("owner_" + "id" is its OwnerId)
    assert THING.rows()(thing_row(), "here") == EXPECTED


def test_the_attributes_come_in_the_schemas_order_then_the_token() -> None:
    assert list(THING.rows()(thing_row(), "here")) == list(EXPECTED)


def test_flat_is_the_object_one_level_down() -> None:
    flat = {**EXPECTED, "Owner": None}
    assert THING.objects(flat=True)(thing_object(), "here") == flat
    assert THING.rows(flat=True)(thing_row(), "here") == flat


def test_a_missing_embedded_object_is_null() -> None:
    thing = thing_object()
    thing.owner = None
    assert THING.objects()(thing, "here")["Owner"] is None


def test_a_view_supplies_its_object_and_the_values_beside_it() -> None:
    view = SimpleNamespace(thing=thing_object(count=99), owner_count=5, thing_count=2)
    present = THING.objects(root="thing", extras={"count": "thing_count"})
    assert present(view, "here") == EXPECTED


def test_positional_rows_hold_every_attribute_written_already() -> None:
    row = [
        7, 3, None, "box", None, "2026-03-29T02:30:00.123", "2026-03-29T02:30:00.123Z",
        None, None, None, 2, "2026-03-29T02:30:00.123",
    ]  # fmt: skip
    plain = Presenter(THING.schema, derived=THING.derived, token=False)
    assert plain.positions()(row, "here") == {
        **{k: v for k, v in EXPECTED.items() if k != "Token"},
        "Owner": None,
    }
    assert plain.columns()[:3] == (("ThingId", "id"), ("OwnerId", "owner_id"), ("Owner", "owner"))
    assert ("Secret", None) in plain.columns() and ("Shout", None) in plain.columns()


def test_many_embeds_present_each_element_flat() -> None:
    schema = WireSchema("Box", [Attr("Owners", Kind.ARRAY, Rule.READ_ONLY, field="owners")])
    boxes = Presenter(schema, embedded={"Owners": Embed(OWNER, many=True)}, token=False)
    owner = thing_object().owner
    assert boxes.objects()(SimpleNamespace(owners=[owner, owner])) == {
        "Owners": [{"OwnerId": 3, "Name": "Ada", "Pet": None}] * 2
    }
    with pytest.raises(ValueError, match="not in its rows"):
        boxes.rows()


def test_a_declaration_naming_an_unknown_attribute_is_refused() -> None:
    with pytest.raises(ValueError, match="no such attributes"):
        Presenter(THING.schema, derived={"Colour": NULL})
