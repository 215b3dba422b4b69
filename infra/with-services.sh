#!/usr/bin/env bash
# Runs a command with PostgreSQL and Kafka started on 127.0.0.1 for it, and stopped on the way
# out whether the command passes or fails. The command finds them in PARCOURS_DATABASE_URL and
# PARCOURS_KAFKA_BOOTSTRAP.
set -euo pipefail
cd "$(dirname "$0")/.."

stop_services() {
    echo "── stopping PostgreSQL and Kafka (after $SECONDS s)"
    bash infra/kafka.sh stop || true
    bash infra/postgres.sh stop || true
}

echo "── starting PostgreSQL and Kafka on 127.0.0.1"
trap stop_services EXIT
bash infra/postgres.sh start
PYTHON=.venv/bin/python bash infra/kafka.sh start

PARCOURS_DATABASE_URL="$(bash infra/postgres.sh url)" \
PARCOURS_KAFKA_BOOTSTRAP="$(bash infra/kafka.sh bootstrap)" \
    "$@"
