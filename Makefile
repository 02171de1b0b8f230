# Simpul — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Each step says what it does in one line (Indonesian / English); pip itself stays quiet (-q still
# shows its warnings and errors).
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@echo "==> Membuat virtualenv / Creating the virtual environment ($(VENV))"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	@echo "==> Memasang dependensi / Installing dependencies (first time: a minute or two)"
	@$(BIN)/pip install --quiet -e .
	@touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "==> Memasang alat pengembangan / Installing the development tools"
	@$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) compile-translations ## create the virtual environment and install the app

compile-translations: $(STAMP)
	@$(BIN)/pybabel -q compile -d app/translations

run: install ## migrate the embedded database, load demo data, serve on http://127.0.0.1:5000
	@echo "==> Memperbarui basis data / Migrating the database"
	@$(FLASK) db upgrade
	@echo "==> Memuat data demo / Loading demo data (first time: up to a minute)"
	@$(FLASK) demo load
	@echo "==> Menjalankan server / Starting the server at http://127.0.0.1:5000"
	@bash scripts/serve.sh $(BIN)

logins: install ## print the demo accounts and their password
	@$(FLASK) demo logins

# Parallel test processes (pytest-xdist); each has its own database. `loadgroup` keeps the tests
# on the committed demo database (and the browser tests served from it) on one of them, so the
# demo city is built once per run.
TEST_WORKERS ?= 2

test: $(DEV_STAMP) compile-translations ## run the whole suite (PostgreSQL and Redis when they answer)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(DEV_STAMP) ## ruff check and format check, import contracts, mypy --strict on app/ and workflows/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy app workflows

fmt: $(DEV_STAMP) ## format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

db-upgrade: install ## apply migrations
	$(FLASK) db upgrade

db-revision: install ## autogenerate a migration: make db-revision m="what changed"
	$(FLASK) db migrate -m "$(m)"

worker: install ## run a Celery worker (needs REDIS_URL)
	$(BIN)/celery -A wsgi:celery worker --loglevel=INFO -Q simpul

beat: install ## run Celery beat (needs REDIS_URL); run exactly one
	$(BIN)/celery -A wsgi:celery beat --loglevel=INFO

translations: $(STAMP) ## extract strings, update the catalogues, compile
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --omit-header -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	$(MAKE) compile-translations

# The national benchmark (bench/national.py): BENCH_CASES cases generated into a database of
# their own (or BENCH_DATABASE_URL, reused when it holds cases), gunicorn as deployed, every page
# under load beside its target; figures printed and written to bench/results/. Quick run:
# `make bench BENCH_CASES=300`. docs/scaling.md says how to read it.
BENCH_CASES ?= 1000000
BENCH_DATABASE_URL ?=
export BENCH_CASES BENCH_DATABASE_URL

bench: $(DEV_STAMP) compile-translations ## the national benchmark: make bench [BENCH_CASES=N] [BENCH_DATABASE_URL=URL]
	$(BIN)/python bench/national.py

bench-rollup: $(DEV_STAMP) ## the rollup benchmark alone, on the demo data (prints figures)
	$(BIN)/python bench/rollup.py

.PHONY: help install compile-translations run logins test lint fmt db-upgrade db-revision worker beat translations bench bench-rollup
