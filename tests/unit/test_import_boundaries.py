"""Which package may import which (docs/architecture.md, "Who imports whom").

Read from the source with ``ast``, so an import inside a function counts too: a lazy import
is still a dependency. Each rule names a package and what it must never reach.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cleverfox"
WEB = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic")

# package (relative to cleverfox) → module prefixes it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "server": ("cleverfox.agent", "cleverfox.client", "cleverfox.cli"),
    "storage": ("cleverfox.server", "cleverfox.client", "cleverfox.agent", "cleverfox.cli", *WEB),
    "client": ("cleverfox.server", "cleverfox.agent", "cleverfox.cli", *WEB),
    "agent": ("cleverfox.server", "cleverfox.cli", *WEB),
    "cli/api": ("cleverfox.server", "cleverfox.agent", *WEB),
}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """Every absolute module a file imports, with its line (relative imports are in-package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    root = SRC / package
    found = []
    for path in sorted(root.rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in forbidden):
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    if not (SRC / package).is_dir():
        pytest.skip(f"cleverfox/{package} does not exist yet")
    assert violations(package, FORBIDDEN[package]) == []


def test_the_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cleverfox.server.kit import db\n", encoding="utf-8")
    assert list(imported_modules(module)) == [(2, "cleverfox.server.kit")]
