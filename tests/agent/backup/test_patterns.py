"""Pattern semantics: Windows wildcards, ``*.*``, names against paths, both case rules."""

from __future__ import annotations

import pytest

from cleverfox.agent.backup.patterns import PatternSet, rules_of, split_lines


def matches(pattern: str, name: str, path: str | None = None, *, case_sensitive: bool) -> bool:
    return PatternSet(split_lines(pattern), case_sensitive=case_sensitive).matches(
        name, path or name
    )


def test_lines_are_crlf_separated_and_blank_lines_dropped() -> None:
    assert split_lines("*.txt\r\n\r\n  *.doc \r\n") == ["*.txt", "*.doc"]
    assert split_lines("a\nb") == ["a", "b"]
    assert split_lines(None) == []


@pytest.mark.parametrize("case_sensitive", [True, False])
@pytest.mark.parametrize("name", ["README", "a.txt", ".hidden", "x.tar.gz"])
def test_star_dot_star_matches_every_file_as_on_windows(case_sensitive: bool, name: str) -> None:
    assert matches("*.*", name, case_sensitive=case_sensitive)
    assert matches("*", name, case_sensitive=case_sensitive)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.txt", "notes.txt", True),
        ("*.txt", "notes.txt.bak", False),
        ("?.log", "a.log", True),
        ("?.log", "ab.log", False),
        ("[a].txt", "[a].txt", True),  # brackets are literal, as Windows reads them
        ("[a].txt", "a.txt", False),
        ("a+b(1).txt", "a+b(1).txt", True),
    ],
)
def test_windows_wildcards(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name, case_sensitive=True) is expected


def test_case_insensitive_on_windows_and_macos_semantics() -> None:
    assert matches("*.JPG", "photo.jpg", case_sensitive=False)
    assert matches("Thumbs.db", "THUMBS.DB", case_sensitive=False)
    assert matches("*.jpg", "Ä.JPG", case_sensitive=False)


def test_case_sensitive_on_linux_semantics() -> None:
    assert not matches("*.JPG", "photo.jpg", case_sensitive=True)
    assert matches("*.jpg", "photo.jpg", case_sensitive=True)


def test_a_pattern_with_a_separator_matches_the_relative_path() -> None:
    patterns = PatternSet(["logs\\*.tmp"], case_sensitive=True)
    assert patterns.matches("a.tmp", "logs/a.tmp")
    assert not patterns.matches("a.tmp", "other/logs/a.tmp")
    assert not patterns.matches("a.tmp", "logs/deeper/a.tmp")  # * stays in its segment
    assert not patterns.matches("a.tmp", "a.tmp")


def test_rules_of_a_job_item() -> None:
    item = {
        "SearchPatterns": "*.txt\r\n*.md",
        "ExcludePatterns": "secret*",
        "ExcludeFolders": "node_modules\r\n/srv/data/cache",
    }
    rules = rules_of(item, "/srv/data", case_sensitive=True)
    assert rules.keeps_file("a.txt", "x/a.txt")
    assert not rules.keeps_file("a.doc", "a.doc")
    assert not rules.keeps_file("secret.txt", "secret.txt")
    assert not rules.keeps_folder("node_modules", "a/node_modules")
    assert not rules.keeps_folder("cache", "cache")  # the absolute line, anchored at the base
    assert rules.keeps_folder("cache", "a/cache")


def test_no_search_patterns_keep_every_file() -> None:
    rules = rules_of({"SearchPatterns": "", "ExcludePatterns": None}, "/", case_sensitive=False)
    assert rules.keeps_file("anything", "anything")
    assert rules.keeps_folder("any", "any")
