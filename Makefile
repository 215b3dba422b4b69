# Two commands for a newcomer: `make run` (embedded, nothing to install) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint services-up services-down bench clean screenshots

$(INSTALLED): pyproject.toml
	@echo "Installing Parcours and its Python packages into $(VENV) …"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

## Run the embedded platform (SQLite, projections in process, no Kafka) on $$PORT or 8000.
run: $(INSTALLED)
	@$(BIN)/parcours serve

## Install what is missing, start PostgreSQL and Kafka, run every suite, stop the services.
test: $(INSTALLED)
	@bash infra/run-tests.sh

## Static checks only.
lint: $(INSTALLED)
	@$(BIN)/ruff check .
	@$(BIN)/mypy

services-up: $(INSTALLED)
	@bash infra/postgres.sh start
	@PYTHON=$(BIN)/python bash infra/kafka.sh start

services-down:
	@bash infra/kafka.sh stop
	@bash infra/postgres.sh stop

clean: services-down
	rm -rf .run var

## Benchmarks: start PostgreSQL and Kafka, measure each figure against a baseline of the same
## run, stop the services. BENCH_SCALE=0.2 for a quick run, 5 for a longer one.
bench: $(INSTALLED) $(VENV)/.bench-installed
	@bash infra/with-services.sh $(BIN)/python -m bench

# confluent-kafka is the benchmark's ceiling only, never a dependency of the product.
$(VENV)/.bench-installed: pyproject.toml
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

## A PNG of each screen on the demo data, with Debian's Chromium, into docs/screenshots/.
screenshots: $(INSTALLED)
	@command -v chromium >/dev/null || { echo "install Debian's chromium first: apt-get install chromium" >&2; exit 1; }
	@$(BIN)/python -m tests.e2e.web.screenshots
