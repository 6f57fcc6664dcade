"""The published e-mail list format and what counts as a valid address."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.mail import addresses
from cleverfox.server.mail.addresses import invalid_addresses, is_valid_email, split_email_list

SEPARATORS = [",", ";", ":", "\r\n", "\n"]

# --- splitting -----------------------------------------------------------------------------


@pytest.mark.parametrize("separator", SEPARATORS)
def test_each_published_separator_splits(separator: str) -> None:
    text = separator.join(["a@example.com", "b@example.com", "c@example.com"])
    assert split_email_list(text) == ["a@example.com", "b@example.com", "c@example.com"]


def test_mixed_separators_whitespace_and_empties() -> None:
    text = " a@example.com ;b@example.com,,\tc@example.com :\r\n\r\n d@example.com ;; \n"
    assert split_email_list(text) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "d@example.com",
    ]


@pytest.mark.parametrize("text", [None, "", "   ", ",;:", "\r\n\r\n", " ; , \n "])
def test_nothing_but_separators_is_the_empty_list(text: str | None) -> None:
    assert split_email_list(text) == []


def test_order_and_duplicates_are_kept() -> None:
    assert split_email_list("b@example.com,a@example.com,b@example.com") == [
        "b@example.com",
        "a@example.com",
        "b@example.com",
    ]


def test_spaces_alone_do_not_separate() -> None:
    assert split_email_list("a@example.com b@example.com") == ["a@example.com b@example.com"]


separators = st.sampled_from(SEPARATORS)
padding = st.sampled_from(["", " ", "  ", "\t"])


@given(st.lists(st.emails(), max_size=8), st.data())
def test_joining_with_any_separators_splits_back(entries: list[str], data: st.DataObject) -> None:
    text = ""
    for index, entry in enumerate(entries):
        gap = data.draw(separators) if index else ""
        text += f"{gap}{data.draw(padding)}{entry}{data.draw(padding)}"
    assert split_email_list(text) == entries


@given(st.text())
def test_entries_are_trimmed_nonempty_and_free_of_separators(text: str) -> None:
    for entry in split_email_list(text):
        assert entry == entry.strip()
        assert entry
        assert not any(separator in entry for separator in ",;:\r\n")


# --- validity, with the library and with our own check --------------------------------------


@pytest.fixture(params=["email-validator", "fallback"])
def checker(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with each way of checking addresses."""
    if request.param == "email-validator":
        if importlib.util.find_spec("email_validator") is None:
            pytest.skip("email-validator is not installed")
    else:
        monkeypatch.setattr(addresses, "_HAS_EMAIL_VALIDATOR", False)
    return str(request.param)


VALID = [
    "ops@example.com",
    "first.last+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "UPPER@EXAMPLE.COM",
    "x" * 64 + "@example.com",
    "jürgen@example.de",
    "a@münchen.de",
    "a@xn--mnchen-3ya.de",
]

INVALID = [
    "",
    "plainaddress",
    "@example.com",
    "a@",
    "a@@example.com",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@example..com",
    "a@example.com.",
    "a@exa_mple.com",
    "a@example",
    "a@example.c1",
    "a@localhost",
    "a@host.local",
    "a@host.test",
    "a@host.invalid",
    "a@[192.0.2.1]",
    '"a b"@example.com',
    "Jane <jane@example.com>",
    " a@example.com",
    "a@example.com ",
    "a b@example.com",
    "a\u00a0b@example.com",
    "a\u200d@example.com",
    "x" * 65 + "@example.com",
    "a@" + "b" * 64 + ".com",
]


@pytest.mark.parametrize("address", VALID)
def test_valid_addresses(checker: str, address: str) -> None:
    assert is_valid_email(address)


@pytest.mark.parametrize("address", INVALID)
def test_invalid_addresses(checker: str, address: str) -> None:
    assert not is_valid_email(address)


@given(st.emails())
def test_generated_addresses_are_valid(address: str) -> None:
    assert is_valid_email(address)


def test_invalid_addresses_names_the_bad_entries_in_order() -> None:
    text = "ops@example.com; nobody; lead@example.com\r\nJane <j@example.com>, bad@host.local"
    assert invalid_addresses(text) == ["nobody", "Jane <j@example.com>", "bad@host.local"]


@pytest.mark.parametrize("text", [None, "", "ops@example.com", "a@example.com;b@example.org"])
def test_lists_of_valid_addresses_have_no_invalid_ones(text: str | None) -> None:
    assert invalid_addresses(text) == []
