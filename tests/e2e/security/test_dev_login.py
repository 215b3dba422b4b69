"""Finding 7: the development login stays in development: embedded mode, on loopback, for
requests that name a loopback host; the distributed mode refuses a development key."""

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from parcours.bootstrap import create_app
from parcours.cli import app as cli
from shared.api.auth import DevelopmentKeyError, verifier_for
from shared.runtime.settings import Settings

DEV_KEY = Path(os.environ["PARCOURS_AUTH_DEV_KEY_PATH"])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_the_development_login_refuses_to_start_off_loopback(tmp_path: Path, host: str) -> None:
    with pytest.raises(DevelopmentKeyError, match="loopback"):
        create_app(Settings(mode="embedded", data_dir=tmp_path, host=host))


def test_parcours_serve_says_why_it_will_not_start_on_a_public_interface(
    tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "192.0.2.10", "--port", "9"], env={
        "PARCOURS_DATA_DIR": str(tmp_path), "PARCOURS_DEMO_ON_EMPTY": "false"})
    assert result.exit_code != 0
    assert "not a loopback interface" in result.output


def test_the_distributed_mode_refuses_a_development_key(tmp_path: Path) -> None:
    settings = Settings(mode="distributed", auth_dev_key_path=DEV_KEY)
    with pytest.raises(DevelopmentKeyError):
        create_app(settings)
    with pytest.raises(DevelopmentKeyError):
        verifier_for(settings)
    result = CliRunner().invoke(cli, ["token", "admin-demo"],
                                env={"PARCOURS_MODE": "distributed"})
    assert result.exit_code != 0 and "eyJ" not in result.output


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(mode="embedded", data_dir=tmp_path / "var")))


@pytest.mark.parametrize("host", ["parcours.attaquant.example", "evil.example:8000",
                                  "192.0.2.10", "testserver"])
def test_the_login_answers_only_a_loopback_host(client: TestClient, host: str) -> None:
    with client:
        form = client.get("/login", headers={"Host": host})
        assert form.status_code == 403
        assert form.json()["error"]["code"] == "access.denied"
        minted = client.post("/login", data={"user": "admin-demo"}, headers={"Host": host})
        assert minted.status_code == 403
        assert "eyJ" not in minted.text


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"])
def test_the_login_still_serves_the_developer(client: TestClient, host: str) -> None:
    with client:
        minted = client.post("/login", data={"user": "coord-demo"}, headers={"Host": host})
        assert minted.status_code == 200
        assert "eyJ" in minted.text
