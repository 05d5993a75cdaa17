# Two commands do everything: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8443
# Test processes: most slow tests wait on Airflow, emulator and browser processes, so two workers
# roughly halve the wall time on our 2-core machines. Each worker has its own Airflow home,
# PostgreSQL databases, emulator and Redis prefix.
PYTEST_WORKERS ?= 2

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export SALES_CONNECT_VAR := $(CURDIR)/var

.PHONY: install airflow-home run test test-fast lint emulator soak bench bench-rep-wait bench-emulator freeze clean celery-demo celery-demo-stop browser-deps foreign-clients

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# A local Airflow home inside the repo (git-ignored): metadata DB migrated,
# examples off, dags/ and plugins/ of this repo wired in.
airflow-home: $(STAMP)
	@mkdir -p $(AIRFLOW_HOME) $(SALES_CONNECT_VAR)
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || { cat $(AIRFLOW_HOME)/migrate.log; exit 1; }
	@echo "Airflow home ready at $(AIRFLOW_HOME)"

# Chromium for the browser tests comes from Debian's packages; Playwright
# drives it (its own browser download cannot run on our machines).
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: could not install chromium (needs apt and root); browser tests cannot run" >&2; exit 1; }; }

# Salesforce clients we did not write, for tests/foreign_clients/: jsforce from npm (pinned by its
# package-lock.json) and aiosalesforce in its own venv, so neither touches our dependencies.
FOREIGN_JS := $(CURDIR)/tests/foreign_clients/js
FOREIGN_VENV := $(CURDIR)/.venv-foreign
FOREIGN_JS_STAMP := $(FOREIGN_JS)/node_modules/.installed
FOREIGN_PY_STAMP := $(FOREIGN_VENV)/.installed

$(FOREIGN_JS_STAMP): $(FOREIGN_JS)/package.json $(FOREIGN_JS)/package-lock.json
	@command -v npm >/dev/null || { \
	  echo "installing Debian's nodejs and npm for the foreign-client tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
	  || { echo "error: could not install npm (needs apt and root); jsforce tests cannot run" >&2; exit 1; }; }
	cd $(FOREIGN_JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(FOREIGN_PY_STAMP): tests/foreign_clients/aio/requirements.txt
	@test -x $(FOREIGN_VENV)/bin/python || $(PYTHON) -m venv $(FOREIGN_VENV)
	$(FOREIGN_VENV)/bin/pip install --quiet -r tests/foreign_clients/aio/requirements.txt
	@touch $@

foreign-clients: $(FOREIGN_JS_STAMP) $(FOREIGN_PY_STAMP)

run: airflow-home
	$(BIN)/python -m sales_connect_demo

test: $(STAMP) browser-deps foreign-clients
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist worksteal --durations=30 $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist worksteal -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

emulator: $(STAMP)
	@$(BIN)/python -m sf_emulator --port $(PORT) $(EMULATOR_ARGS)

# Randomized two-sided histories against the real pipeline, emulator and store (tests/histories/):
# prints histories, steps, runs, faults injected, invariant violations and steps/s.
SEED ?= 2000
HISTORIES ?= 30
soak: $(STAMP)
	$(BIN)/python tests/histories/soak.py --seed $(SEED) --histories $(HISTORIES) $(SOAK_ARGS)

bench: airflow-home
	$(BIN)/python -m sync_benchmark $(BENCH_ARGS)

# The emulator on its own: 1M tasks, paginated query of 100k changed, collection and Bulk 2.0 upserts, memory.
# A rep's save while a big first sync loads (issue 10 #17): batched load against one transaction.
REP_WAIT_TASKS ?= 20000
bench-rep-wait: airflow-home
	$(BIN)/python -m sync_benchmark --rep-wait $(REP_WAIT_TASKS)

bench-emulator: $(STAMP)
	$(BIN)/python -m sf_emulator.bench $(EMULATOR_BENCH_ARGS)

# A local CeleryExecutor stack (api-server, scheduler, dag-processor, triggerer,
# 2 Celery workers, the Salesforce emulator) on this machine's PostgreSQL and
# Redis, running in the background; state (pids, databases, login) in var/.
CELERY_DEMO_STATE := $(SALES_CONNECT_VAR)/celery-demo.json
celery-demo: $(STAMP)
	@mkdir -p $(SALES_CONNECT_VAR)
	@$(BIN)/python -m airflow_stack up --state $(CELERY_DEMO_STATE) --executor CeleryExecutor --workers 2 $(CELERY_DEMO_ARGS)
	@echo "             or: make celery-demo-stop"

celery-demo-stop: $(STAMP)
	@$(BIN)/python -m airflow_stack stop --state $(CELERY_DEMO_STATE)

freeze: $(STAMP)
	$(BIN)/pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) $(AIRFLOW_HOME) $(SALES_CONNECT_VAR) $(FOREIGN_VENV) $(FOREIGN_JS)/node_modules
