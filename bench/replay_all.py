"""6. `parcours replay all` on a large log: a log of ``20,000 × BENCH_SCALE`` events
(``BENCH_SCALE=50``: 1,000,000) generated in bulk straight through the store's recorder (the
Pathway aggregate's own commands, saved 50 pathways per transaction, no HTTP, no territory),
then every projection rebuilt from the PostgreSQL store by the command a user runs, timed.

The target is absolute: 1,000,000 events in at most 300 s, so the baseline is that rate
(3,333 events/s) and a ratio ≥ 1 meets it."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.common import Context, Progress, Result, say
from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.pathway import Pathway
from shared.events import Actor
from shared.journal.application import Journal

EVENTS = 20_000
STAYS = 9  # each a hospitalisation and its discharge
EVENTS_PER_PATHWAY = 2 + 2 * STAYS  # referred, admitted, then the stays
PER_TRANSACTION = 50  # 1,000 events: far larger single INSERTs stalled the driver
TARGET_EVENTS, TARGET_SECONDS = 1_000_000, 300
META = Meta(actor=Actor(id="gc-bench-1", role="case_manager"))


def run(ctx: Context) -> Result:
    events = ctx.scaled(EVENTS)
    pathways = max(1, events // EVENTS_PER_PATHWAY)
    settings = ctx.fresh_database("replay")
    say(f"── replay all: generating {pathways * EVENTS_PER_PATHWAY:,} events in bulk")
    journal = Journal(env=settings.journal_env())
    try:
        generated = _generate(journal, pathways)
    finally:
        journal.close()

    say(f"    parcours replay all --source store, {generated:,} events")
    env = {**os.environ, "PARCOURS_MODE": "distributed",
           "PARCOURS_DATABASE_URL": settings.database_url}
    started = time.perf_counter()
    parcours = str(Path(sys.executable).parent / "parcours")  # the installed command itself
    subprocess.run([parcours, "replay", "all", "--source", "store"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    rate = generated / elapsed
    say(f"    {elapsed:.1f} s, {rate:,.0f} events/s; 1,000,000 events would take "
        f"{TARGET_EVENTS / rate:.0f} s")
    return Result("parcours replay all (store)", rate, "events/s",
                  "1M events in 300 s", TARGET_EVENTS / TARGET_SECONDS,
                  details={"events": generated, "seconds": elapsed,
                           "seconds_for_1M_extrapolated": TARGET_EVENTS / rate})


def _generate(journal: Journal, pathways: int) -> int:
    progress = Progress("bulk log", pathways * EVENTS_PER_PATHWAY, "events")
    done = 0
    for start in range(0, pathways, PER_TRANSACTION):
        batch = [_pathway() for _ in range(min(PER_TRANSACTION, pathways - start))]
        journal.save(*batch)  # one transaction through the store's recorder
        done += sum(p.version for p in batch)
        progress.update(done)
    return done


def _pathway() -> Pathway:
    pathway = Pathway.open(f.referral(), META)
    admission = f.admission()
    pathway.admit(admission, META)
    pathway.assign(ev.CaseManagerAssigned(case_manager_id="gc-bench-1",
                                          case_manager_name="Gestionnaire Un"), META)
    at = f.stay().admitted_at
    for i in range(STAYS - 1):  # the assignment counts as one event: 2 + 1 + 2 × 8 + 1 = 20
        stay_at = at + timedelta(days=3 * i)
        pathway.hospitalise(f.stay(stay_at), META)
        pathway.discharge(f.discharge(stay_at + timedelta(days=1)), META)
    pathway.hospitalise(f.stay(at + timedelta(days=3 * STAYS)), META)
    return pathway
