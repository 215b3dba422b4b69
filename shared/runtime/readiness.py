"""What ``/ready`` checks: each dependency a process needs, each with a short bound, so that an
orchestrator learns which one is missing without the check itself hanging."""

import asyncio

from shared.runtime.settings import Settings

CHECK_TIMEOUT_S = 3.0


def _database(url: str) -> None:
    import psycopg

    # A fresh connection, not the pool's: the pool may be waiting out the outage itself.
    with psycopg.connect(url, connect_timeout=2) as conn:
        conn.execute("SELECT 1")


def _kafka(bootstrap: str) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000,
                             api_version_auto_timeout_ms=2000)
    admin.close()


async def _state(check: object, *args: str) -> str:
    try:
        # The default executor, not the request threads: those may all be waiting.
        await asyncio.wait_for(asyncio.to_thread(check, *args),  # type: ignore[arg-type]
                               CHECK_TIMEOUT_S)
    except Exception:
        return "unreachable"
    return "ok"


async def check(settings: Settings, kafka: bool = False) -> dict[str, str]:
    """``{"database": "ok" | "unreachable", ...}``; the embedded mode's SQLite files are always
    there. ``kafka`` for the processes that need the broker."""
    if settings.mode == "embedded":
        return {"database": "ok"}
    found = {"database": await _state(_database, settings.database_url)}
    if kafka:
        found["kafka"] = await _state(_kafka, settings.kafka_bootstrap)
    return found
