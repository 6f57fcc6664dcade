"""``UnitOfWork``'s verbs are generic in the action's result: mypy --strict refuses an
endpoint whose presenter does not accept what its action returns.

Runs mypy on a small module of fitting and misfitting calls (with the project's own mypy
configuration, and the lint run's cache when there is one: about a second warm).
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[3]

CALLS = """
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cleverfox.server.companies.schemas import company_out, company_row_out
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.unit_of_work import UnitOfWork
from cleverfox.server.logs.schemas import LogView, log_out
from cleverfox.server.models import Company


def company(session: Session) -> Company:
    raise NotImplementedError


def log(session: Session) -> LogView:
    raise NotImplementedError


def companies(session: Session, query: ListQuery) -> tuple[list[Company], bool]:
    raise NotImplementedError


def rows(connection: Connection) -> dict[str, object]:
    raise NotImplementedError


def fitting(work: UnitOfWork, query: ListQuery) -> None:
    work.get(company, company_out)
    work.get(log, log_out)
    work.get_rows(rows, company_row_out)
    work.list(query, companies, company_out)
    work.write(None, ("companies", "CompanyId"), lambda s: company(s), company_out)


def misfitting(work: UnitOfWork, query: ListQuery) -> None:
    work.get(company, log_out)  # misfit
    work.get(log, company_out)  # misfit
    work.list(query, companies, log_out)  # misfit
    work.write(None, ("logs", "LogId"), lambda s: company(s), log_out)  # misfit
"""


def test_mypy_refuses_a_presenter_that_does_not_fit_its_action(tmp_path: Path) -> None:
    module = tmp_path / "endpoint_calls.py"
    module.write_text(CALLS)
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            str(module),
        ]
    )
    assert not stderr, stderr
    lines = CALLS.splitlines()
    misfits = {number for number, line in enumerate(lines, 1) if line.endswith("# misfit")}
    reported = {int(m.group(1)) for m in re.finditer(r"endpoint_calls\.py:(\d+): error", stdout)}
    assert misfits, "the module has no misfitting call"
    assert reported == misfits, stdout
