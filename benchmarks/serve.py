"""``python -m benchmarks.serve``: the real runner serving the benchmark app.

Settings come from ``CLEVERFOX_*`` variables, exactly as ``cleverfox serve`` exports them; the
only difference from production is the app factory (``benchmarks.ceiling_app:create``), so
TLS, uvicorn, uvloop/httptools and ``--workers`` are the production stack.
"""

from __future__ import annotations

import sys

from cleverfox.server.runner import serve
from cleverfox.settings import Settings

APP_FACTORY = "benchmarks.ceiling_app:create"


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


def main() -> int:
    return serve(Settings(), app_factory=APP_FACTORY, on_ready=_print_lines)


if __name__ == "__main__":
    sys.exit(main())
