"""The read audit's key: the distributed mode (production) refuses to start without one,
like it refuses the development signing key; the embedded mode makes its own, private."""

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parcours.bootstrap import build_platform
from parcours.cli import app as cli
from shared.runtime.settings import Settings
from shared.storage.audit_anchor import AuditAnchor, AuditKeyError

WITHOUT_KEY = {"PARCOURS_AUDIT_KEY_FILE": None, "PARCOURS_AUDIT_KEY": None}


def test_the_distributed_mode_refuses_to_start_without_the_key(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARCOURS_AUDIT_KEY_FILE", raising=False)
    settings = Settings(mode="distributed")
    with pytest.raises(AuditKeyError, match="PARCOURS_AUDIT_KEY_FILE"):
        build_platform(settings)  # before any connection: no database is needed to refuse
    for command in (["serve"], ["notify"], ["audit", "verify"]):
        result = CliRunner().invoke(cli, command, env={"PARCOURS_MODE": "distributed",
                                                       **WITHOUT_KEY})
        assert result.exit_code == 2, (command, result.output)
        assert "PARCOURS_AUDIT_KEY_FILE" in result.output, (command, result.output)


def test_a_short_or_unreadable_key_is_refused(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARCOURS_AUDIT_KEY_FILE", raising=False)
    with pytest.raises(AuditKeyError, match="too short"):
        AuditAnchor.from_settings(Settings(mode="distributed", audit_key="court"))
    with pytest.raises(AuditKeyError, match="cannot be read"):
        AuditAnchor.from_settings(Settings(mode="distributed",
                                           audit_key_file=tmp_path / "absent"))
    key = tmp_path / "key"
    key.write_text("k" * 32)
    with pytest.raises(AuditKeyError, match="not both"):
        AuditAnchor.from_settings(Settings(mode="distributed", audit_key_file=key,
                                           audit_key="k" * 32))
    assert AuditAnchor.from_settings(Settings(mode="distributed", audit_key_file=key))


def test_the_embedded_mode_makes_a_private_key_beside_its_data(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARCOURS_AUDIT_KEY_FILE", raising=False)
    settings = Settings(mode="embedded", data_dir=tmp_path / "var")
    first = AuditAnchor.from_settings(settings)
    key = tmp_path / "var" / "audit-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = AuditAnchor.from_settings(settings)
    assert first.chain_hash(b"x") == again.chain_hash(b"x")  # the same key, kept
    assert first.path == tmp_path / "var" / "audit-checkpoints.jsonl"
