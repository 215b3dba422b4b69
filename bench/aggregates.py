"""5. Aggregates cheap to load: the cost of an admission on a territory of 100, 1,000 and
10,000 places, and of reading a pathway of 10 and 1,000 events, cold (not in the repository's
cache) and warm, on PostgreSQL. The baseline of each is the smallest size of the same run: the
target is a ratio within 1.5×, a cost that stays flat as the aggregate grows.

The territories' places are set up in bulk (one save of the Territory aggregate, through the
store's recorder), not by thousands of admissions; only the measured commands go through the
Journal as the API calls it."""

import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import suppress

from bench.common import Context, Result, say
from shared import fictitious as f
from shared.events import Actor
from shared.pathway.application import Journal
from shared.pathway.commands import Meta
from shared.pathway.territory import Territory

PLACES = (100, 1_000, 10_000)
EVENTS = (10, 1_000)
ADMISSIONS = 40  # measured at each size
READS = 60
MANAGERS = 20
COORDINATOR = Meta(actor=Actor(id="coord-bench", role="coordinator"))


def run(ctx: Context) -> list[Result]:
    settings = ctx.fresh_database("aggregates")
    journal = Journal(env=settings.journal_env())
    try:
        admissions = {places: _admission_ms(journal, places, ctx.scaled(ADMISSIONS))
                      for places in PLACES}
        reads = {events: _read_ms(journal, events, ctx.scaled(READS)) for events in EVENTS}
    finally:
        journal.close()
    smallest = admissions[PLACES[0]]
    results = [Result(f"admission, {places:,} places, warm", ms, "ms",
                      f"admission, {PLACES[0]} places", smallest, higher_is_better=False)
               for places, ms in admissions.items()]
    for kind in ("cold", "warm"):
        base = reads[EVENTS[0]][kind]
        results += [Result(f"pathway read, {events:,} events, {kind}", reads[events][kind], "ms",
                           f"pathway read, {EVENTS[0]} events, {kind}", base,
                           higher_is_better=False)
                    for events in EVENTS]
    return results


def _admission_ms(journal: Journal, places: int, admissions: int) -> float:
    code = f"BENCH-{places}-{uuid.uuid4().hex[:6]}"
    say(f"── admission on a territory of {places:,} places ({admissions} measured)")
    territory = Territory.open(code)
    capacity = (places + admissions) // MANAGERS + 2
    for m in range(MANAGERS):
        territory.register(f"gc-{m}", f"Gestionnaire {m}", capacity)
    for i in range(places):
        territory.take_place(uuid.uuid4(), f"gc-{i % MANAGERS}")
    journal.save(territory)  # in bulk: one transaction through the store's recorder
    pathways = [journal.refer(f.referral().model_copy(update={"territory": code}), COORDINATOR)
                for _ in range(admissions + 3)]
    samples = []
    for i, pathway_id in enumerate(pathways):
        started = time.perf_counter()
        journal.admit(pathway_id, f.admission(), None, COORDINATOR)
        if i >= 3:  # the first ones fill the cache
            samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    say(f"    median {median:.2f} ms")
    return median


def _read_ms(journal: Journal, events: int, reads: int) -> dict[str, float]:
    say(f"── pathway read, {events:,} events ({reads} reads cold, {reads} warm)")
    territory_code = f"BENCH-R-{uuid.uuid4().hex[:6]}"
    journal.register_manager(territory_code, "gc-r", "Gestionnaire R", 10, COORDINATOR)
    pathway_id = journal.refer(f.referral().model_copy(update={"territory": territory_code}),
                               COORDINATOR)
    journal.admit(pathway_id, f.admission(), "gc-r", COORDINATOR)
    while journal.pathway(pathway_id).version + 2 <= events:
        journal.hospitalise(pathway_id, f.stay(), COORDINATOR)
        journal.discharge(pathway_id, f.discharge(), COORDINATOR)
    cache = journal.repository.cache

    def cold() -> None:
        if cache is not None:
            with suppress(KeyError):  # not cached yet
                cache.get(pathway_id, evict=True)
        journal.pathway(pathway_id)

    timings = {"cold": _median_ms(cold, reads),
               "warm": _median_ms(lambda: journal.pathway(pathway_id), reads)}
    say(f"    cold {timings['cold']:.2f} ms, warm {timings['warm']:.2f} ms")
    return timings


def _median_ms(action: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
