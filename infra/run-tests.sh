#!/usr/bin/env bash
# The whole test suite on the real services: lint, then unit, end-to-end and integration tests
# on a PostgreSQL and a Kafka broker started for them and stopped afterwards, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "── static checks (ruff, mypy)"
.venv/bin/ruff check .
.venv/bin/mypy

# The browser tests drive Debian's Chromium; a browser build is never downloaded.
if [ -z "${PARCOURS_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "── installing Debian's chromium for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium'" \
             "(or set PARCOURS_CHROMIUM to a Chromium binary), then 'make test' again." >&2
        exit 1
    fi
fi

echo "── tests: unit, end-to-end (embedded), integration (PostgreSQL + Kafka)"
bash infra/with-services.sh .venv/bin/python -m pytest tests -p no:cacheprovider
