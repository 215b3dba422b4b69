"""Finding 4 on PostgreSQL: the application's role may only append to the read audit and read
it; the audit belongs to another role, made by infra/postgres.sh; the chain verifies."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parcours.bootstrap import create_app
from parcours.cli import app as cli
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog, AuditSetupError
from shared.storage.audit_anchor import AuditAnchor
from shared.storage.sqldb import PostgresDatabase
from tests.conftest import bearer
from tests.e2e.conftest import open_territory, referral_json
from tests.integration.conftest import drop_database

COORDINATOR = bearer("coord-1", "coordinator")

TAMPERING = [
    "DELETE FROM audit.read_audit",
    "UPDATE audit.read_audit SET outcome = 'allowed'",
    "TRUNCATE audit.read_audit",
    "DROP TRIGGER read_audit_append_only ON audit.read_audit",
    "ALTER TABLE audit.read_audit DISABLE TRIGGER ALL",
    "DROP TABLE audit.read_audit",
    "DROP SCHEMA audit CASCADE",
    "ALTER TABLE audit.read_audit OWNER TO parcours",
    "CREATE TABLE audit.other (x int)",
]


@pytest.fixture
def reads(settings: Settings) -> Iterator[str]:
    """A referral read through the API (distributed mode), so the audit has records."""
    with TestClient(create_app(settings), headers=COORDINATOR) as api:
        open_territory(api, COORDINATOR)
        pathway = api.post("/pathways", json=referral_json(5)).json()["pathway_id"]
        for _ in range(3):
            assert api.get(f"/pathways/{pathway}").status_code == 200
        assert api.get("/caseload/awaiting-decision").status_code == 200
        yield pathway


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_application_role_cannot_remove_or_change_the_audit(
    settings: Settings, reads: str, statement: str
) -> None:
    with psycopg.connect(settings.database_url) as conn:  # the application's own role
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.rollback()
        count = conn.execute("SELECT count(*) FROM audit.read_audit"
                             " WHERE pathway_id = %s", (reads,)).fetchone()
    assert count is not None and count[0] >= 3  # the three reads, still there


def test_the_chain_is_intact_and_verified(settings: Settings, reads: str) -> None:
    result = CliRunner().invoke(cli, ["audit", "verify"], env={
        "PARCOURS_MODE": "distributed", "PARCOURS_DATABASE_URL": settings.database_url,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "PARCOURS_AUTH_PUBLIC_KEY": settings.auth_public_key or ""})
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT seq, prev_hash, hash FROM audit.read_audit"
                            " ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, len(rows)))


def test_the_platform_refuses_an_audit_its_role_could_change(base_settings: Settings) -> None:
    """A database made without infra/postgres.sh's audit (from template0): the application's
    role would own the table, so it refuses to start, saying why."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    url = base_settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        db = PostgresDatabase(url)
        try:
            with pytest.raises(AuditSetupError, match="missing"):
                AuditLog(db, AuditAnchor.from_settings(base_settings))
            with db.transaction() as tx:
                tx.execute("CREATE SCHEMA audit")
                tx.execute("CREATE TABLE audit.read_audit (seq BIGINT PRIMARY KEY, id TEXT,"
                           " at TEXT, actor_id TEXT, actor_role TEXT, territory TEXT,"
                           " action TEXT, pathway_id TEXT, outcome TEXT, address TEXT,"
                           " prev_hash TEXT, hash TEXT)")
            with pytest.raises(AuditSetupError, match="nothing more"):
                AuditLog(db, AuditAnchor.from_settings(base_settings))
        finally:
            db.close()
    finally:
        drop_database(base_settings.database_url, name)
