# Two commands on a fresh machine: `make run` serves the API on the embedded stack, `make test` runs every check.
# Everything installs into .venv from PyPI; nothing outside the project is needed (Debian's chromium is
# installed with apt-get for the browser test when it is missing).

# Python 3.13 (Lambda's python3.13 runtime): `python3.13` on the PATH (pyenv's shim resolves it through
# .python-version), else the one under $(PYENV_ROOT)/versions/3.13*/ (no pyenv on the PATH needed). Each candidate is
# run to check its version: a pyenv shim exists even when it cannot run. `make PYTHON=/path/to/python3.13` overrides.
PYTHON_VERSION := 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
IS_PYTHON := -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'
runs_python = $(if $(shell $(1) $(IS_PYTHON) >/dev/null 2>&1 && echo yes),$(1))
PYTHON ?= $(firstword $(foreach candidate,python$(PYTHON_VERSION) $(sort $(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION))),$(call runs_python,$(candidate))))
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAGE ?= dev
# Whose token `make token` prints. Not USER: every shell sets USER to the login name, which `?=` would take.
# `make token USER=alice` (USER given on make's command line) still works.
TOKEN_USER ?= $(if $(filter command line,$(origin USER)),$(USER),dev-user)

FORCE:

.PHONY: FORCE help venv run stack db token test lint format check-migrations schema templates infra-check pytest browser-deps bench bench-images package deploy rollback clean

help:
	@echo "make run        serve the API on 127.0.0.1:$(PORT) with the embedded PostgreSQL (Ctrl-C stops all)"
	@echo "make stack      the same with the full local stack: Redis, SeaweedFS S3, OpenSearch emulator, moto"
	@echo "                (RATE_LIMIT_ENABLED=false make run: no rate limits while you try things)"
	@echo "make stack WORKERS=4  production-like: gunicorn with 4 workers, debug off, ENVIRONMENT=dev"
	@echo "make db         the embedded PostgreSQL alone, for manage.py runserver/migrate/shell (Ctrl-C stops it)"
	@echo "make token TOKEN_USER=alice   print a dev token for alice (default: dev-user)"
	@echo "make test       lint, migrations check, OpenAPI validation and the whole test suite"
	@echo "make bench      run the benchmarks (tests/perf) and print their figures"
	@echo "make bench-images  the image pipeline against sharp (installs sharp from npm into tests/perf)"
	@echo "make package STAGE=dev  build the Lambda zip; make deploy STAGE=dev  deploy it with Zappa"
	@echo "make rollback STAGE=dev [STEPS=1]  serve an earlier version (moves the SnapStart alias)"

# A .venv made by another Python is rebuilt (VENV_STALE forces the rule).
VENV_STALE := $(if $(wildcard $(PY)),$(if $(call runs_python,$(PY)),,stale))

$(VENV)/.installed: requirements.txt requirements-dev.txt $(if $(VENV_STALE),FORCE)
	@test -n "$(PYTHON)" && $(PYTHON) $(IS_PYTHON) >/dev/null 2>&1 || { \
	  echo "Python $(PYTHON_VERSION) is required and was not found (python$(PYTHON_VERSION) on the PATH, or $(PYENV_ROOT)/versions/$(PYTHON_VERSION).*)."; \
	  echo "Install it with 'pyenv install $(PYTHON_VERSION)' (or your system's python$(PYTHON_VERSION) and python$(PYTHON_VERSION)-venv packages),"; \
	  echo "or name one with 'make PYTHON=/path/to/python$(PYTHON_VERSION) ...'."; exit 1; }
	@if [ -e $(PY) ] && ! $(PY) $(IS_PYTHON) >/dev/null 2>&1; then echo "$(VENV) was made by another Python: rebuilding it with $(PYTHON)"; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m tools.devstack serve --port $(PORT)

stack: venv
	$(PY) -m tools.devstack serve --full --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

db: venv
	$(PY) -m tools.devstack env

token: venv
	@$(PY) manage.py devtoken $(TOKEN_USER)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo  # the import contracts in pyproject.toml

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: venv
	$(PY) manage.py makemigrations --check --dry-run

schema: venv
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# The CloudFormation templates (infra/): regenerate them from their troposphere source, or check they are current
# and lint them with cfn-lint (no errors or warnings; suppressions are named in the templates' source with reasons).
templates: venv
	$(PY) -m infra.build

infra-check: venv
	$(PY) -m infra.build --check
	$(if $(wildcard infra/templates/*.json),$(VENV)/bin/cfn-lint infra/templates/*.json)

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

pytest: venv browser-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: lint check-migrations schema infra-check pytest

bench: venv
	$(PY) tests/perf/bench_parse.py
	$(PY) tests/perf/bench_parse_store.py
	$(PY) tests/perf/bench_list.py
	$(PY) tests/perf/bench_cache_hit.py
	$(PY) tests/perf/bench_search.py
	$(PY) tests/perf/bench_redis_fault.py
	$(PY) tests/perf/bench_gallery_list.py
	$(PY) tests/perf/bench_gallery_upload.py
	$(PY) tests/perf/bench_wishlist.py
	$(PY) tests/perf/bench_profile.py
	$(PY) tests/perf/bench_coldstart.py
	$(PY) tests/perf/bench_coldstart.py --restore
	$(MAKE) --no-print-directory bench-images

# The image pipeline against sharp (Node): `npm ci` installs the pinned sharp into tests/perf/node_modules.
bench-images: venv
	npm ci --prefix tests/perf --no-audit --no-fund
	$(PY) tests/perf/bench_images.py

# build/lego-api-$(STAGE).zip: Lambda-platform wheels (CPython 3.13), GLIBC <= 2.34 checked, static files, precompiled bytecode.
package: venv
	$(PY) -m tools.packaging build --stage $(STAGE)

# $(STAGE)-worker first (zappa deploy the first time, else zappa update --zip), migrate on it, then $(STAGE).
deploy: venv
	$(PY) -m tools.packaging deploy --stage $(STAGE)

# SnapStart stages: point STAGE's `snapstart` alias at the version STEPS (default 1) code changes back.
rollback: venv
	$(PY) -m tools.packaging rollback --stage $(STAGE) --steps $(or $(STEPS),1)

clean:
	rm -rf build .build dist staticfiles .pytest_cache .ruff_cache
