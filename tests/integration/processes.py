"""Starting the real `parcours` processes, to kill them at bad moments."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from shared.runtime.settings import Settings
from tests.conftest import PUBLIC_KEY

ROOT = Path(__file__).resolve().parents[2]


def start(args: list[str], settings: Settings, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "PARCOURS_MODE": "distributed",
        "PARCOURS_DATABASE_URL": settings.database_url,
        "PARCOURS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "PARCOURS_TOPIC": settings.topic,
        "PARCOURS_RELAY_POSITIONS_TOPIC": settings.relay_positions_topic,
        "PARCOURS_FAILPOINTS": "",
        "PARCOURS_AUTH_PUBLIC_KEY": PUBLIC_KEY,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "parcours", *args], env=environment,
                                stdout=out, stderr=subprocess.STDOUT)


def died(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> int:
    """Waits for a process that is to kill itself at a failpoint; shows its log if it hangs."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"{process.args!r} still running after {timeout_s} s:\n"
                             f"{log.read_text()[-5000:]}") from None


def kill9(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def infra(script: str, verb: str) -> None:
    """``infra/<script>.sh <verb>``: start, stop or kill the test PostgreSQL or Kafka."""
    env = {**os.environ}
    if script == "kafka":
        env.setdefault("PYTHON", str(ROOT / ".venv/bin/python"))
    subprocess.run(["bash", str(ROOT / f"infra/{script}.sh"), verb], check=True, env=env,
                   cwd=ROOT, capture_output=True, timeout=180)
