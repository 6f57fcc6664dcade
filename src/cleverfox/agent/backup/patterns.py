"""A File item's patterns: SearchPatterns, ExcludePatterns and ExcludeFolders.

Each is ``\\r\\n``-separated text (a bare ``\\n`` is accepted too; blank lines are dropped).
A pattern uses the wildcards Windows uses: ``*`` is any run of characters, ``?`` one
character, everything else is literal (no ``[...]`` classes: ``[`` is a legal name
character on Windows). ``*.*`` matches every name, with or without a dot, as ``dir *.*``
does on Windows, and so does ``*``.

A pattern without a separator matches a name (the file's, or the folder's); one with ``/``
or ``\\`` (either is accepted) matches the path relative to BaseFolder, so ``logs/*.tmp``
excludes ``*.tmp`` files in the top-level ``logs`` only, and ``/cache`` is the top-level
``cache`` folder, not every folder of that name. An ExcludeFolders line may also be
an absolute path inside BaseFolder.

Matching is case-insensitive where the file systems are (Windows and macOS) and
case-sensitive elsewhere; ``case_sensitive`` chooses, so both are tested on any platform.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_CASE_SENSITIVE = sys.platform not in ("win32", "darwin")
_EVERYTHING = frozenset({"*", "*.*"})
_FIELDS = ("SearchPatterns", "ExcludePatterns", "ExcludeFolders")


def split_lines(text: str | None) -> list[str]:
    """The non-blank lines of a pattern field, stripped."""
    if not text:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _translate(pattern: str) -> str:
    # In a path pattern a wildcard stays within one segment; a name has no separator anyway.
    parts = []
    for character in pattern:
        if character == "*":
            parts.append("[^/]*")
        elif character == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(character))
    return "".join(parts)


class PatternSet:
    """Patterns of one field, compiled once; ``matches`` takes a name and its relative path."""

    __slots__ = ("_everything", "_names", "_paths", "patterns")

    def __init__(self, patterns: Iterable[str], *, case_sensitive: bool) -> None:
        self.patterns = tuple(p.replace("\\", "/") for p in patterns if p.strip("/\\"))
        flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
        names = [p for p in self.patterns if "/" not in p]
        # A separator anywhere anchors the pattern at BaseFolder ("/logs" is the top "logs").
        paths = [p.strip("/") for p in self.patterns if "/" in p]
        self._everything = any(p in _EVERYTHING for p in names)
        self._names = _compile(names, flags)
        self._paths = _compile(paths, flags)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, name: str, relative_path: str) -> bool:
        """Whether ``name`` (the last segment of ``relative_path``, ``/``-separated) matches."""
        if self._everything:
            return True
        if self._names is not None and self._names.fullmatch(name):
            return True
        return self._paths is not None and self._paths.fullmatch(relative_path) is not None


def _compile(patterns: list[str], flags: int) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_translate(p)})" for p in patterns), flags)


@dataclass(frozen=True, slots=True)
class Rules:
    """What a File item keeps: ``search`` (empty: every file), minus ``exclude`` files and
    ``exclude_folders`` (whose whole subtree is skipped)."""

    search: PatternSet
    exclude: PatternSet
    exclude_folders: PatternSet

    def keeps_file(self, name: str, relative_path: str) -> bool:
        if self.search and not self.search.matches(name, relative_path):
            return False
        return not self.exclude.matches(name, relative_path)

    def keeps_folder(self, name: str, relative_path: str) -> bool:
        return not self.exclude_folders.matches(name, relative_path)


def rules_of(
    item: Mapping[str, Any], base_folder: str, *, case_sensitive: bool | None = None
) -> Rules:
    """The rules of a check-in JobItem (wire names); ``case_sensitive`` defaults to the
    platform's."""
    sensitive = DEFAULT_CASE_SENSITIVE if case_sensitive is None else case_sensitive
    lines = {key: split_lines(_text(item.get(key))) for key in _FIELDS}
    folders = [_relative_folder(line, base_folder) for line in lines["ExcludeFolders"]]
    return Rules(
        search=PatternSet(lines["SearchPatterns"], case_sensitive=sensitive),
        exclude=PatternSet(lines["ExcludePatterns"], case_sensitive=sensitive),
        exclude_folders=PatternSet(folders, case_sensitive=sensitive),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _relative_folder(line: str, base_folder: str) -> str:
    """An absolute ExcludeFolders line inside BaseFolder, as a path relative to it."""
    if not os.path.isabs(line):
        return line
    try:
        relative = os.path.relpath(os.path.normpath(line), os.path.normpath(base_folder))
    except ValueError:  # another drive on Windows: it cannot be inside BaseFolder
        return line
    if relative == "." or relative.startswith(".."):
        return line
    # Anchored: it must not match a same-named folder elsewhere.
    return "/" + relative.replace(os.sep, "/")
