"""``python -m bench``: every benchmark in order, a table of figures, baselines and ratios, and
the same in bench/results/latest.json. Needs PostgreSQL and Kafka (``make bench`` starts them)."""

import json
import logging
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    adt_intake,
    aggregates,
    alert_latency,
    journal_append,
    projection_apply,
    read_latency,
    relay_throughput,
    replay_all,
    web_pages,
)
from bench.common import Context, Result, say, table

RESULTS = Path(__file__).parent / "results" / "latest.json"
PARTIAL = RESULTS.with_name("partial.json")  # a run of some benchmarks only


def main() -> None:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # kafka-python's
    logging.basicConfig(level=logging.WARNING, format="    [%(name)s] %(message)s")
    for name in ("shared.api.auth", "parcours.bootstrap"):  # the development key's notice
        logging.getLogger(name).setLevel(logging.ERROR)
    # A consumer joining right after its topic was created may not know the partitions yet
    # and says so; the group join is timed in the figure and its baseline alike.
    logging.getLogger("kafka.coordinator.assignors.range").setLevel(logging.ERROR)
    ctx = Context.from_env()
    ctx.check_services()
    only = sys.argv[1:]  # ``python -m bench aggregates alert_latency``: those alone
    if only:
        unknown = set(only) - set(ALONE)
        if unknown:
            raise SystemExit(f"unknown or not separable: {sorted(unknown)}; known: {ALONE}")
    say(f"Parcours benchmarks, run {ctx.run_id}, BENCH_SCALE={ctx.scale:g}, "
        f"{os.cpu_count()} CPUs")
    started = time.perf_counter()
    results: list[Result] = []
    try:
        if only:
            for name in only:
                found = ALONE[name](ctx)
                results += found if isinstance(found, list) else [found]
            return _report(results, ctx, started, PARTIAL)
        appended, store = journal_append.run(ctx)
        results += appended
        relayed, topic, events = relay_throughput.run(ctx, store)
        results += relayed
        results += projection_apply.run(ctx, topic, events)
        results += read_latency.run(ctx)
        results += aggregates.run(ctx)
        results.append(replay_all.run(ctx))
        results.append(adt_intake.run(ctx))
        results += alert_latency.run(ctx)
        results += web_pages.run(ctx)
    finally:
        try:
            ctx.cleanup()
        except Exception as error:  # never hide the benchmark's own failure
            say(f"(could not remove the run's databases and topics: {error!r})")
    _report(results, ctx, started)


def _journal_append(ctx: Context) -> list[Result]:
    """The append figures alone: the store it fills is for the relay, not needed here."""
    results, _ = journal_append.run(ctx)
    return results


ALONE: dict[str, Callable[[Context], Result | list[Result]]] = {
    "journal_append": _journal_append, "aggregates": aggregates.run,
    "read_latency": read_latency.run, "replay_all": replay_all.run, "adt_intake": adt_intake.run,
    "alert_latency": alert_latency.run, "web_pages": web_pages.run,
    "projection_apply": projection_apply.alone,
}
"""The benchmarks that need nothing from another one."""


def _report(results: list[Result], ctx: Context, started: float,
            path: Path = RESULTS) -> None:
    duration = time.perf_counter() - started
    say("")
    say(table(results))
    say(f"\nTotal: {duration:.0f} s. Ratio = figure ÷ baseline (throughput: share of the "
        "baseline's speed; latency: times slower).")
    write(results, ctx, duration, path)
    say(f"Written to {path}")


def write(results: list[Result], ctx: Context, duration: float, path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": ctx.run_id,
        "scale": ctx.scale,
        "seconds": round(duration, 1),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "results": [
            {"name": r.name, "unit": r.unit, "figure": r.figure, "baseline_name":
             r.baseline_name, "baseline": r.baseline,
             "baseline_unit": r.baseline_unit or r.unit, "ratio": r.ratio,
             "higher_is_better": r.higher_is_better, "details": r.details}
            for r in results
        ],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
