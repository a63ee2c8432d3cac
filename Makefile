# The two commands of the README: `make run` and `make test`. Each installs what it needs
# into .venv first (Python 3.11+ and, for `make test` against real services, PostgreSQL
# and Redis; see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench-intake bench-crediting bench-admin

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python manage.py demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# The admin's reads on a shop of 1,000,000 members and 20,000,000 ledger entries (needs
# PostgreSQL; seeding takes about 15 minutes). BENCH_ARGS=--keep keeps the seeded database,
# BENCH_ARGS=--reuse measures it again without seeding.
bench-admin: install
	$(BIN)/python bench/admin_scale.py $(BENCH_ARGS)
