#!/usr/bin/env bash
# The whole test suite on the real services: lint, then unit, end-to-end and integration tests
# on a PostgreSQL and a Kafka broker started for them and stopped afterwards, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "── static checks (ruff, mypy)"
.venv/bin/ruff check .
.venv/bin/mypy

echo "── tests: unit, end-to-end (embedded), integration (PostgreSQL + Kafka)"
bash infra/with-services.sh .venv/bin/python -m pytest tests -p no:cacheprovider
