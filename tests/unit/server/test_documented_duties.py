"""The duties the documentation names are the duties a server process runs.

docs/architecture.md said Tokens were purged by a duty that did not exist (issue 9,
defect 5). Its "Background duties" table is now the documented list, held here to
``duties.registry.server_duties``; any other page that names a duty (`` `name` duty``)
must name a registered one.
"""

from __future__ import annotations

import re
from pathlib import Path

from cleverfox.server.duties.registry import server_duties
from cleverfox.settings import Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _registered(tmp_path: Path) -> set[str]:
    return {duty.name for duty in server_duties(Settings(data_dir=tmp_path))}


def _table_of_duties() -> set[str]:
    """The first column of the table under "### Background duties" in architecture.md."""
    text = (DOCS / "architecture.md").read_text()
    section = text.split("### Background duties", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.MULTILINE)
    assert rows, "architecture.md has no table of duties"
    return set(rows)


def test_the_architecture_table_lists_exactly_the_registered_duties(tmp_path: Path) -> None:
    assert _table_of_duties() == _registered(tmp_path)


def test_every_duty_a_page_names_is_registered(tmp_path: Path) -> None:
    registered = _registered(tmp_path)
    named = {
        (page.name, name)
        for page in DOCS.glob("*.md")
        for name in re.findall(r"`([a-z-]+)` duty", page.read_text())
    }
    assert named, "no page names a duty"
    assert {(page, name) for page, name in named if name not in registered} == set()
