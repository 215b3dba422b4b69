"""Finding "the audit chain can be rewritten" (insider): someone with every right on the database
(the superuser, here) drops the append-only trigger, removes records and recomputes the chain,
the old way (plain SHA-256) or the right way but without the audit's key, which the database
never holds; or cuts the chain's end. `parcours audit verify` must say broken, naming the first
bad record, thanks to the keyed chain and the checkpoints written outside the database.

The insider's code here knows only the database: the canonical form of a record is public
(it is in the source), the key is not."""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parcours.bootstrap import create_app
from parcours.cli import app as cli
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.conftest import open_territory, referral_json

COORDINATOR = bearer("coord-1", "coordinator")
FIELDS = ("id", "at", "actor_id", "actor_role", "territory", "action", "pathway_id",
          "outcome", "address")
EVERY = 4  # a checkpoint every 4 records: a short chain crosses a few


def _env(settings: Settings, **more: str) -> dict[str, str]:
    return {"PARCOURS_MODE": "distributed", "PARCOURS_DATABASE_URL": settings.database_url,
            "PARCOURS_DATA_DIR": str(settings.data_dir),
            "PARCOURS_AUDIT_CHECKPOINT_EVERY": str(EVERY),
            "PARCOURS_AUTH_PUBLIC_KEY": settings.auth_public_key or "", **more}


def verify(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", *args], env=_env(settings))
    return result.exit_code, result.output


@pytest.fixture
def audited(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Eleven reads through the API in the distributed mode: eleven records, checkpoints
    at records 1, 4 and 8."""
    monkeypatch.setenv("PARCOURS_AUDIT_CHECKPOINT_EVERY", str(EVERY))
    with TestClient(create_app(settings.model_copy(
            update={"audit_checkpoint_every": EVERY})), headers=COORDINATOR) as api:
        open_territory(api, COORDINATOR)
        pathway = api.post("/pathways", json=referral_json(5)).json()["pathway_id"]
        while _count(settings) < 11:
            assert api.get(f"/pathways/{pathway}").status_code == 200
    code, output = verify(settings)
    assert code == 0 and "intact" in output, output
    yield settings


def _superuser(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    url = settings.database_url.replace("://parcours@", "://postgres@", 1)
    assert url != settings.database_url
    return psycopg.connect(url, autocommit=True)


def _count(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        found = conn.execute("SELECT count(*) FROM audit.read_audit").fetchone()
    assert found is not None
    return int(found[0])


def plain_sha256(prev: str, seq: int, record: dict[str, object]) -> str:
    """The chain's hash before the fix: anybody can recompute it."""
    canonical = json.dumps([seq, *(record[f] for f in FIELDS), prev],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def hmac_guessed_key(prev: str, seq: int, record: dict[str, object]) -> str:
    """The right algorithm, with the only key the insider has: one of their own."""
    canonical = json.dumps([seq, *(record[f] for f in FIELDS), prev],
                           ensure_ascii=False, separators=(",", ":"))
    return hmac.new(b"the insider's own key, 32 bytes!", canonical.encode(),
                    hashlib.sha256).hexdigest()


Hasher = Callable[[str, int, dict[str, object]], str]


def remove_and_rechain(settings: Settings, removed: set[int], hasher: Hasher,
                       from_seq: int) -> None:
    """Drops the guard, removes records, renumbers the rest and recomputes every hash from
    record ``from_seq`` on, keeping the ones before it as they were."""
    with _superuser(settings) as conn:
        conn.execute("DROP TRIGGER read_audit_append_only ON audit.read_audit")
        columns = ("seq", *FIELDS, "prev_hash", "hash")
        rows = [dict(zip(columns, row, strict=True)) for row in conn.execute(
            f"SELECT {', '.join(columns)} FROM audit.read_audit ORDER BY seq")]
        conn.execute("DELETE FROM audit.read_audit")
        kept = [row for row in rows if row["seq"] not in removed]
        prev = "0" * 64
        for seq, row in enumerate(kept, start=1):
            if seq >= from_seq:
                row["seq"], row["prev_hash"] = seq, prev
                row["hash"] = hasher(prev, seq, row)
            prev = str(row["hash"])
            conn.execute(f"INSERT INTO audit.read_audit ({', '.join(columns)}) VALUES "
                         f"({', '.join(['%s'] * len(columns))})",
                         [row[c] for c in columns])


@pytest.mark.parametrize("hasher", [plain_sha256, hmac_guessed_key],
                         ids=["plain-sha256", "hmac-without-the-key"])
def test_a_record_removed_and_the_chain_recomputed_is_found(audited: Settings,
                                                            hasher: Hasher) -> None:
    remove_and_rechain(audited, removed={6}, hasher=hasher, from_seq=6)
    code, output = verify(audited)
    assert code == 1, output
    assert "BROKEN at record 6" in output, output
    assert "key" in output, output  # says why: not signed with the audit's key


@pytest.mark.parametrize("hasher", [plain_sha256, hmac_guessed_key],
                         ids=["plain-sha256", "hmac-without-the-key"])
def test_a_chain_recomputed_from_its_first_record_is_found(audited: Settings,
                                                           hasher: Hasher) -> None:
    remove_and_rechain(audited, removed={2, 3}, hasher=hasher, from_seq=1)
    code, output = verify(audited)
    assert code == 1, output
    assert "BROKEN at record 1" in output, output


def test_the_end_of_the_chain_cut_past_a_checkpoint_is_found(audited: Settings) -> None:
    # What is left is a genuine, keyed chain of 7 records, nothing recomputed: only the
    # checkpoint of record 8, outside the database, shows that the chain was longer.
    with _superuser(audited) as conn:
        conn.execute("DROP TRIGGER read_audit_append_only ON audit.read_audit")
        conn.execute("DELETE FROM audit.read_audit WHERE seq >= 8")
    code, output = verify(audited)
    assert code == 1, output
    assert "BROKEN at record 8" in output and "removed from its end" in output, output


def test_the_checkpoint_file_cannot_be_edited_to_match(audited: Settings) -> None:
    path = audited.data_dir / "audit-checkpoints.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) == 3  # records 1, 4 and 8
    last = json.loads(lines[-1])
    path.write_text("\n".join([*lines[:-1], json.dumps({**last, "seq": 7})]) + "\n")
    code, output = verify(audited)
    assert code == 1 and "checkpoint file" in output and "line 3" in output, output


def test_records_written_before_the_key_are_sealed_and_said(settings: Settings,
                                                            tmp_path: Path) -> None:
    """The migration path: a chain written by the previous version (plain SHA-256) is kept;
    the first start with the key seals it as legacy, and the keyed chain goes on from it."""
    with psycopg.connect(settings.database_url) as conn:  # the application's role, as before
        prev = "0" * 64
        for seq in (1, 2, 3):
            record: dict[str, object] = {
                "id": f"legacy-{seq}", "at": f"2025-01-0{seq}T09:00:00+00:00",
                "actor_id": "coord-1", "actor_role": "coordinator", "territory": "t",
                "action": "pathway", "pathway_id": "p", "outcome": "allowed", "address": None}
            digest = plain_sha256(prev, seq, record)
            conn.execute("INSERT INTO audit.read_audit (seq, id, at, actor_id, actor_role,"
                         " territory, action, pathway_id, outcome, address, prev_hash, hash)"
                         " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         [seq, *(record[f] for f in FIELDS), prev, digest])
            prev = digest
    with TestClient(create_app(settings), headers=COORDINATOR) as api:
        open_territory(api, COORDINATOR)
        pathway = api.post("/pathways", json=referral_json(5)).json()["pathway_id"]
        assert api.get(f"/pathways/{pathway}").status_code == 200
    code, output = verify(settings)
    assert code == 0, output
    assert "records 1 to 3 predate the key" in output, output

    # Losing the checkpoint file does not make the legacy records pass unsaid...
    checkpoints = settings.data_dir / "audit-checkpoints.jsonl"
    saved = checkpoints.read_text()
    checkpoints.unlink()
    code, output = verify(settings)
    assert code == 1 and "BROKEN at record 1" in output and "--legacy-until" in output, output
    # ...whoever verifies says it, explicitly.
    code, output = verify(settings, "--legacy-until", "3")
    assert code == 0 and "records 1 to 3 predate the key" in output, output
    checkpoints.write_text(saved)

    # An unkeyed record after the seal is a forgery, not a legacy one.
    remove_and_rechain(settings, removed=set(), hasher=plain_sha256, from_seq=4)
    code, output = verify(settings)
    assert code == 1 and "BROKEN at record 4" in output, output
