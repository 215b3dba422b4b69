"""The benchmark suite: speed is measured here, never asserted in tests.

Each benchmark prints its figure next to a baseline measured in the same run on the same
machine and services, and the ratio between them. Run it with ``make bench`` (which starts and
stops PostgreSQL and Kafka) or, with the services already up, ``.venv/bin/python -m bench``.
``BENCH_SCALE`` (default 1) multiplies every size."""

import warnings

# Imported by every benchmark module, before FastAPI's TestClient warns about httpx.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
