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

.PHONY: FORCE help venv run stack db token test lint format check-migrations schema templates infra-check infra-outputs pytest browser-deps bench bench-images package deploy rollback clean workflow-check cutover load load-max load-fault

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
	@echo "make load      Locust: RATE=100 RPS for DURATION=60 s, then SPIKE_RATE=500 for SPIKE_DURATION=20 against the"
	@echo "               local stack + gunicorn (WORKERS=4, USERS=100 seeded token holders); report in reports/load/"
	@echo "make load TARGET=https://...  the same against a deployed stage (Cognito test users, LOGS=cloudwatch.txt)"
	@echo "make load-max  the highest rate the mix holds with p95 < 100 ms and no errors"
	@echo "make load-fault  RATE with Redis, then OpenSearch, paused for 10 s each"
	@echo "make package STAGE=dev  build the Lambda zip; make deploy STAGE=dev  deploy it with Zappa"
	@echo "make rollback STAGE=dev [STEPS=1]  serve an earlier version (moves the SnapStart alias)"
	@echo "make infra-outputs STAGE=dev  write the lego-api-data-dev stack's outputs into zappa_settings.json"
	@echo "make deploy STAGE=prod ZIPS=dir  deploy zips built earlier (the deploy workflow's artifacts)"
	@echo "make cutover STAGE=prod WEIGHT=10  send 10% of the API domain to this API (WEIGHT=0: the rollback)"
	@echo "make workflow-check  the deploy workflow against GitHub's schema and zizmor's audit (in make test)"

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

# The deployed lego-api-data-$(STAGE) stack's outputs (subnets, security group, buckets, secret, Cognito) into
# $(STAGE)'s entry of zappa_settings.json (boto3, the stage's aws_region); refuses when the stack or an output is missing.
infra-outputs: venv
	$(PY) -m infra.outputs --stage $(STAGE)
# The deploy workflow (.github/workflows): valid against GitHub's workflow schema, and zizmor's audit (offline: no
# GitHub API) with no finding under .github/zizmor.yml (which allows official actions pinned by tag).
workflow-check: venv
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --config .github/zizmor.yml .github/workflows

# Move WEIGHT percent (0-100) of the API domain's traffic to STAGE's API once its health and alarms are fine
# (WEIGHT=0, the rollback, is always allowed). docs/cutover.md has the phases.
cutover: venv
	@test -n "$(WEIGHT)" || { echo "usage: make cutover STAGE=prod WEIGHT=10"; exit 2; }
	$(PY) -m infra.cutover --stage $(STAGE) --weight $(WEIGHT)

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

pytest: venv browser-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: lint check-migrations schema infra-check workflow-check pytest

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

# Load tests (tools/load, Locust): local runs start the full stack and gunicorn themselves (stop `make stack` first:
# they share .local/), seed with `manage.py seed_demo --if-missing`, and write reports/load/<UTC time>-<name>/.
RATE ?= 100
DURATION ?= 60
SPIKE_RATE ?= 500
SPIKE_DURATION ?= 20
USERS ?= 100
LOAD_ARGS = --users $(USERS) $(if $(TARGET),--target $(TARGET),--workers $(or $(WORKERS),4)) $(if $(LOGS),--logs $(LOGS)) \
	$(if $(TRAFFIC),--traffic $(TRAFFIC))

load: venv
	$(PY) -m tools.load load --rate $(RATE) --duration $(DURATION) --spike-rate $(SPIKE_RATE) \
	  --spike-duration $(SPIKE_DURATION) $(LOAD_ARGS)

load-max: venv
	$(PY) -m tools.load max $(LOAD_ARGS)

load-fault: venv
	$(PY) -m tools.load fault --rate $(RATE) $(LOAD_ARGS)

# build/lego-api-$(STAGE).zip: Lambda-platform wheels (CPython 3.13), GLIBC <= 2.34 checked, static files, precompiled bytecode.
package: venv
	$(PY) -m tools.packaging build --stage $(STAGE)

# $(STAGE)-worker first (zappa deploy the first time, else zappa update --zip), migrate on it, then $(STAGE).
# ZIPS=folder deploys lego-api-$(STAGE)-worker.zip and lego-api-$(STAGE).zip from there as built earlier by
# `make package` (the deploy pipeline's artifacts) instead of building them now.
deploy: venv
	$(PY) -m tools.packaging deploy --stage $(STAGE) $(if $(ZIPS),--zips $(ZIPS))

# SnapStart stages: point STAGE's `snapstart` alias at the version STEPS (default 1) code changes back.
rollback: venv
	$(PY) -m tools.packaging rollback --stage $(STAGE) --steps $(or $(STEPS),1)

clean:
	rm -rf build .build dist staticfiles .pytest_cache .ruff_cache
