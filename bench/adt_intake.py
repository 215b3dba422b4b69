"""5. ADT intake: HL7 admissions and discharges per second from the MLLP socket to the journal
(parsed, sender and person checked, once-only key, appended, acknowledged), against the same
commands sent through the HTTP API (POST …/hospitalisations and …/discharges), both over
loopback TCP to one real embedded server (uvicorn, SQLite store), in the same run.

Runs alone with ``python -m bench.adt_intake`` (it needs neither PostgreSQL nor Kafka)."""

import os
import random
import socket
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from bench.common import Context, Progress, Result, free_port, say
from parcours.bootstrap import create_app
from shared import fictitious
from shared.api.auth import Principal, development_key, sign
from shared.api.server import ApiServer
from shared.domain.commands import Meta
from shared.events import Actor
from shared.fictitious import TERRITORY
from shared.journal.application import Journal
from shared.runtime.settings import Settings

PERSONS = 300  # for each path: one admission and one discharge each
ADMITTED = datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1)))
SENDER = "SIH_FICTIF^CH_VILLEFICTIVE"
SEGMENTS = {
    "A01": "EVN||{sent}||||{at}\rPID|1||{ins}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS"
           "||FICTIF^Bench||19400101|F||||||||||||||||||||||||VALI\r"
           "PV1|1|E|Gériatrie" + "|" * 41 + "{at}\rZBE|{movement}|{at}||INSERT|||||N",
    "A03": "EVN||{sent}||||{at}\rPID|1||{ins}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS"
           "||FICTIF^Bench||19400101|F||||||||||||||||||||||||VALI\r"
           "PV1|1|E|Gériatrie" + "|" * 33 + "8" + "|" * 8 + "{at}\rZBE|{movement}|{at}||INSERT"
           "|||||D",
}


def _message(trigger: str, n: int, ins: str, at: datetime) -> bytes:
    stamp = at.strftime("%Y%m%d%H%M%S%z")
    msh = (f"MSH|^~\\&|SIH_FICTIF|CH_VILLEFICTIVE|PARCOURS|PARCOURS|{stamp}||ADT^{trigger}|"
           f"BENCH-{n}|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8|||2.11^IHE_FRANCE-2.11-PAM")
    body = SEGMENTS[trigger].format(sent=stamp, at=stamp, ins=ins, movement=f"MVT-{n}")
    return b"\x0b" + f"{msh}\r{body}\r".encode() + b"\x1c\x0d"


def _followed(journal: Journal, count: int, seed: int) -> list[tuple[str, str]]:
    """Persons referred and admitted: (pathway id, INS)."""
    meta = Meta(actor=Actor(id="bench", role="coordinator"))
    rng = random.Random(seed)
    persons = []
    for _ in range(count):
        referral = fictitious.referral(rng)
        pathway_id = journal.refer(referral, meta)
        journal.admit(pathway_id, fictitious.admission(), "gc-bench", meta)
        persons.append((str(pathway_id), referral.person.ins))
    return persons


def run(ctx: Context) -> Result:
    persons = ctx.scaled(PERSONS)
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as tmp:
        key_path = Path(tmp) / "dev-signing-key.pem"
        os.environ["PARCOURS_AUTH_DEV_KEY_PATH"] = str(key_path)  # read by Settings below
        settings = Settings(mode="embedded", data_dir=Path(tmp) / "var", hl7_port=0,
                            demo_on_empty=False, scheduler_interval_s=3600, alerts_at_once=False)
        app = create_app(settings)
        server = ApiServer(app, "127.0.0.1", free_port()).start()
        try:
            journal: Journal = app.state.platform.journal
            journal.register_manager(TERRITORY, "gc-bench", "Gestionnaire (banc d'essai)",
                                     10 * persons + 10, Meta(actor=Actor(id="bench",
                                                                         role="coordinator")))
            say(f"── ADT intake: {persons:,} persons by MLLP, {persons:,} by HTTP, "
                "one admission and one discharge each")
            by_hl7 = _followed(journal, persons, seed=1)
            by_http = _followed(journal, persons, seed=2)
            hl7_rate = _through_mllp(app.state.hl7_port, by_hl7)
            http_rate = _through_http(settings, key_path, server.server.config.port, by_http)
        finally:
            server.stop()
    return Result("ADT intake (MLLP → journal, SQLite)", hl7_rate, "messages/s",
                  "same commands by HTTP API", http_rate, baseline_unit="commands/s",
                  details={"persons": persons, "messages": 2 * persons})


def _through_mllp(port: int, persons: list[tuple[str, str]]) -> float:
    progress = Progress("ADT messages", 2 * len(persons), "messages")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        started = time.perf_counter()
        for n, (_, ins) in enumerate(persons):
            for k, (trigger, at) in enumerate((("A01", ADMITTED),
                                               ("A03", ADMITTED + timedelta(days=6)))):
                connection.sendall(_message(trigger, 2 * n + k, ins, at))
                answer = b""
                while not answer.endswith(b"\x1c\x0d"):
                    answer += connection.recv(65536)
                if b"MSA|AA|" not in answer:
                    raise RuntimeError(f"ADT {trigger} not accepted: {answer!r}")
            progress.update(2 * (n + 1))
        elapsed = time.perf_counter() - started
    return 2 * len(persons) / elapsed


def _through_http(settings: Settings, key_path: Path, port: int,
                  persons: list[tuple[str, str]]) -> float:
    token = sign(development_key(key_path), Principal("gc-bench", "Banc d'essai",
                                                      "case_manager", TERRITORY),
                 settings.auth_issuer, settings.auth_audience)
    stay = {"establishment": "CH de Villefictive", "ward": "Gériatrie", "kind": "emergency",
            "admitted_at": ADMITTED.isoformat()}
    discharge = {"discharged_at": (ADMITTED + timedelta(days=6)).isoformat(),
                 "destination": "home", "discharge_letter_received": False}
    progress = Progress("HTTP commands", 2 * len(persons), "commands")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        started = time.perf_counter()
        for n, (pathway_id, _) in enumerate(persons):
            for path, body in (("hospitalisations", stay), ("discharges", discharge)):
                response = client.post(f"/pathways/{pathway_id}/{path}", json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
            progress.update(2 * (n + 1))
        elapsed = time.perf_counter() - started
    return 2 * len(persons) / elapsed


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    for name in ("shared.api.auth", "parcours.bootstrap", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ctx = Context(Settings(), float(os.environ.get("BENCH_SCALE", "1")))
    result = run(ctx)
    say(f"{result.name}: {result.figure:,.0f} {result.unit}; {result.baseline_name}: "
        f"{result.baseline:,.0f} {result.baseline_unit}; ratio {result.ratio:.2f}×")
