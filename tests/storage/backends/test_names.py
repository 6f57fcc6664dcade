"""Object names: the rules, and the property the rules exist for (one order everywhere)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.backends.errors import InvalidName
from cleverfox.storage.backends.names import check_name, check_prefix, is_name

segments = st.text("abcz019_", min_size=1, max_size=6).filter(
    lambda s: s not in ("con", "nul", "aux", "prn")
)
names = st.lists(segments, min_size=1, max_size=4).map("/".join)


@given(st.lists(names, min_size=2, max_size=30, unique=True))
def test_string_order_is_directory_walk_order(listed: list[str]) -> None:
    """Sorting names as strings sorts them as paths, segment by segment (what a walk yields)."""
    assert sorted(listed) == sorted(listed, key=lambda name: name.split("/"))


@given(names)
def test_every_prefix_of_a_valid_name_is_a_valid_prefix(name: str) -> None:
    assert check_name(name) == name
    assert is_name(name)
    for end in range(len(name) + 1):
        assert check_prefix(name[:end]) == name[:end]


@pytest.mark.parametrize(
    "name", ["packs/7/ab/" + "0" * 32, "manifests/12/" + "f" * 64, "health/probe_1a", "x" * 128]
)
def test_the_names_the_storage_format_uses_are_valid(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["a-b", "a.b", "A", "con", "a/lpt1", "a//b", "/a", "a/", ""])
def test_invalid_names_are_refused_with_a_reason(name: str) -> None:
    assert not is_name(name)
    with pytest.raises(InvalidName, match="object name"):
        check_name(name)


def test_a_long_name_is_shown_shortened_in_the_error() -> None:
    with pytest.raises(InvalidName) as raised:
        check_name("a/" + "B" * 300)

    assert len(str(raised.value)) < 250
