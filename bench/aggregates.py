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
from shared.domain.commands import Meta
from shared.domain.territory import Territory
from shared.events import Actor
from shared.journal.application import Journal

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
        admissions = _admissions_ms(journal, ctx.scaled(ADMISSIONS))
        reads = _reads_ms(journal, ctx.scaled(READS))
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


def _admissions_ms(journal: Journal, admissions: int) -> dict[int, float]:
    """Each size's admissions taken in turn with the others' (one of each, again and again),
    so that a moment of load on the shared machine weighs on every size alike."""
    say(f"── admission on territories of {', '.join(f'{p:,}' for p in PLACES)} places "
        f"({admissions} measured each, interleaved)")
    waiting = {places: _territory(journal, places, admissions) for places in PLACES}
    samples: dict[int, list[float]] = {places: [] for places in PLACES}
    for i in range(admissions + 3):
        for places, pathways in waiting.items():
            started = time.perf_counter()
            journal.admit(pathways[i], f.admission(), None, COORDINATOR)
            if i >= 3:  # the first ones fill the cache
                samples[places].append((time.perf_counter() - started) * 1000)
    medians = {places: statistics.median(ms) for places, ms in samples.items()}
    say("    medians: " + ", ".join(f"{p:,} places {ms:.2f} ms" for p, ms in medians.items()))
    return medians


def _territory(journal: Journal, places: int, admissions: int) -> list[uuid.UUID]:
    """A territory with ``places`` places taken, and persons referred to it, to admit."""
    code = f"BENCH-{places}-{uuid.uuid4().hex[:6]}"
    territory = Territory.open(code)
    capacity = (places + admissions) // MANAGERS + 2
    for m in range(MANAGERS):
        territory.register(f"gc-{m}", f"Gestionnaire {m}", capacity)
    for i in range(places):
        territory.take_place(uuid.uuid4(), f"gc-{i % MANAGERS}")
    journal.save(territory)  # in bulk: one transaction through the store's recorder
    return [journal.refer(f.referral().model_copy(update={"territory": code}), COORDINATOR)
            for _ in range(admissions + 3)]


def _reads_ms(journal: Journal, reads: int) -> dict[int, dict[str, float]]:
    say(f"── pathway read, {', '.join(f'{e:,}' for e in EVENTS)} events ({reads} reads cold, "
        f"{reads} warm, interleaved)")
    territory_code = f"BENCH-R-{uuid.uuid4().hex[:6]}"
    journal.register_manager(territory_code, "gc-r", "Gestionnaire R", 10, COORDINATOR)
    pathways = {events: _pathway(journal, territory_code, events) for events in EVENTS}
    cache = journal.repository.cache

    def cold(pathway_id: uuid.UUID) -> None:
        if cache is not None:
            with suppress(KeyError):  # not cached yet
                cache.get(pathway_id, evict=True)
        journal.pathway(pathway_id)

    for pathway_id in pathways.values():
        cold(pathway_id)  # a first load, as after a restart (it may store a snapshot)
    samples: dict[int, dict[str, list[float]]] = {
        events: {"cold": [], "warm": []} for events in EVENTS}
    for _ in range(reads):
        for events, pathway_id in pathways.items():
            samples[events]["cold"].append(_ms(cold, pathway_id))
    for _ in range(reads):
        for events, pathway_id in pathways.items():
            samples[events]["warm"].append(_ms(journal.pathway, pathway_id))
    timings = {events: {kind: statistics.median(ms) for kind, ms in kinds.items()}
               for events, kinds in samples.items()}
    for events, kinds in timings.items():
        say(f"    {events:,} events: cold {kinds['cold']:.2f} ms, warm {kinds['warm']:.2f} ms")
    return timings


def _pathway(journal: Journal, territory_code: str, events: int) -> uuid.UUID:
    pathway_id = journal.refer(f.referral().model_copy(update={"territory": territory_code}),
                               COORDINATOR)
    journal.admit(pathway_id, f.admission(), "gc-r", COORDINATOR)
    while journal.pathway(pathway_id).version + 2 <= events:
        journal.hospitalise(pathway_id, f.stay(), COORDINATOR)
        journal.discharge(pathway_id, f.discharge(), COORDINATOR)
    return pathway_id


def _ms(action: Callable[[uuid.UUID], object], pathway_id: uuid.UUID) -> float:
    started = time.perf_counter()
    action(pathway_id)
    return (time.perf_counter() - started) * 1000
