# CleverFox Backup — developer entry points. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432
PYTEST_ARGS ?= -n 2

.PHONY: help install run test test-sqlite test-postgres lint format generate bench clean

help:
	@echo "make run    - start a demo server on the embedded defaults (SQLite, self-signed TLS);"
	@echo "              installs only what running needs"
	@echo "make test   - install the dev tools too and run the suite on SQLite, then on PostgreSQL"
	@echo "make lint   - ruff and mypy --strict; the generated sync SDK is up to date"
	@echo "make generate - write the sync SDK (client/_sync_*.py) from the async one"
	@echo "make bench  - benchmarks; results go to docs/benchmarks.md"

# What running needs (make run): the package and its dependencies, nothing else.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# What developing needs (make test, make lint): the dev tools on top.
$(STAMP): pyproject.toml $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/cleverfox demo

test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP)
	@echo "== test pass 1/2: SQLite"
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(POSTGRES_URL)/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== test pass 2/2: PostgreSQL at $(POSTGRES_URL)"; \
		CLEVERFOX_TEST_POSTGRES=$(POSTGRES_URL) HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -m "not sqlite_only" $(PYTEST_ARGS); \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required (REQUIRE_POSTGRES) but not reachable at $(POSTGRES_URL)"; exit 1; \
	else \
		echo "== test pass 2/2: SKIPPED — no PostgreSQL reachable at $(POSTGRES_URL) (set POSTGRES_URL to run it)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src benchmarks scripts
	$(BIN)/python scripts/unasync.py --check

generate: $(STAMP)
	$(BIN)/python scripts/unasync.py

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1))) || \
		echo "wrk is not available; the benchmark uses its built-in load generator"
	@# The backup suite's baselines (issue 11): Debian's restic and borgbackup.
	@(command -v restic >/dev/null && command -v borg >/dev/null) || (command -v apt-get >/dev/null && \
		(apt-get install -y -qq restic borgbackup >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq restic borgbackup >/dev/null 2>&1))) || \
		echo "restic or borg is not available; the backup suite reports it as not measured"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run --output docs/benchmarks.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cleverfox-data
