# Two commands on a fresh machine: `make run` serves the API on the embedded stack, `make test` runs every check.
# Everything installs into .venv from PyPI; nothing outside the project is needed (Debian's chromium is
# installed with apt-get for the browser test when it is missing).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAGE ?= dev
# Whose token `make token` prints. Not USER: every shell sets USER to the login name, which `?=` would take.
# `make token USER=alice` (USER given on make's command line) still works.
TOKEN_USER ?= $(if $(filter command line,$(origin USER)),$(USER),dev-user)

.PHONY: help venv run stack db token test lint format check-migrations schema pytest browser-deps bench package deploy clean

help:
	@echo "make run        serve the API on 127.0.0.1:$(PORT) with the embedded PostgreSQL (Ctrl-C stops all)"
	@echo "make stack      the same with the full local stack: Redis, SeaweedFS S3, OpenSearch emulator, moto"
	@echo "                (RATE_LIMIT_ENABLED=false make run: no rate limits while you try things)"
	@echo "make db         the embedded PostgreSQL alone, for manage.py runserver/migrate/shell (Ctrl-C stops it)"
	@echo "make token TOKEN_USER=alice   print a dev token for alice (default: dev-user)"
	@echo "make test       lint, migrations check, OpenAPI validation and the whole test suite"
	@echo "make bench      run the benchmarks (tests/perf) and print their figures"
	@echo "make package STAGE=dev  build the Lambda zip; make deploy STAGE=dev  deploy it with Zappa"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "python3.11 is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m lego_api.devstack serve --port $(PORT)

stack: venv
	$(PY) -m lego_api.devstack serve --full --port $(PORT)

db: venv
	$(PY) -m lego_api.devstack env

token: venv
	@$(PY) manage.py devtoken $(TOKEN_USER)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: venv
	$(PY) manage.py makemigrations --check --dry-run

schema: venv
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

pytest: venv browser-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: lint check-migrations schema pytest

bench: venv
	$(PY) tests/perf/bench_parse.py
	$(PY) tests/perf/bench_parse_store.py
	$(PY) tests/perf/bench_list.py
	$(PY) tests/perf/bench_search.py
	$(PY) tests/perf/bench_redis_fault.py
	$(PY) tests/perf/bench_coldstart.py

# build/lego-api-$(STAGE).zip: Lambda-platform wheels, GLIBC <= 2.26 checked, static files, precompiled bytecode.
package: venv
	$(PY) -m lego_api.packaging build --stage $(STAGE)

# $(STAGE)-worker first (zappa deploy the first time, else zappa update --zip), migrate on it, then $(STAGE).
deploy: venv
	$(PY) -m lego_api.packaging deploy --stage $(STAGE)

clean:
	rm -rf build dist staticfiles .pytest_cache .ruff_cache
