#!/usr/bin/env bash
# The whole test suite on the real services: lint, unit, end-to-end, then integration on a
# PostgreSQL and a Kafka broker started here and stopped on the way out, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

stop_services() {
    echo "── stopping PostgreSQL and Kafka"
    bash infra/kafka.sh stop || true
    bash infra/postgres.sh stop || true
}

echo "── static checks (ruff, mypy)"
$BIN/ruff check .
$BIN/mypy

echo "── starting PostgreSQL and Kafka on 127.0.0.1"
trap stop_services EXIT
bash infra/postgres.sh start
PYTHON=$BIN/python bash infra/kafka.sh start

echo "── tests: unit, end-to-end (embedded), integration (PostgreSQL + Kafka)"
PARCOURS_DATABASE_URL="$(bash infra/postgres.sh url)" \
PARCOURS_KAFKA_BOOTSTRAP="$(bash infra/kafka.sh bootstrap)" \
    $BIN/python -m pytest tests -p no:cacheprovider
