"""What every benchmark shares: the run's context (fresh databases and topics, cleaned up at
the end), progress lines, results and percentiles."""

import math
import os
import socket
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import KafkaAdminClient

from shared.runtime.settings import Settings
from shared.streaming import kafka_io


@dataclass(frozen=True)
class Result:
    """One figure and its baseline. ``ratio`` is figure ÷ baseline: for a throughput, the share
    of the baseline's speed reached; for a latency, how many times slower than the baseline."""

    name: str
    figure: float
    unit: str
    baseline_name: str
    baseline: float
    higher_is_better: bool = True
    baseline_unit: str = ""  # when it differs from the figure's
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else math.nan


class Progress:
    """Prints ``label: done/total unit`` at most every ``every_s`` seconds, and at the end."""

    def __init__(self, label: str, total: int, unit: str, every_s: float = 2.0) -> None:
        self.label, self.total, self.unit, self.every_s = label, total, unit, every_s
        self.started = self.last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if done >= self.total or now - self.last >= self.every_s:
            self.last = now
            rate = done / (now - self.started) if now > self.started else 0.0
            say(f"    {self.label}: {done:,}/{self.total:,} {self.unit} ({rate:,.0f}/s)")


def say(line: str) -> None:
    print(line, flush=True)


def percentile(samples: Sequence[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


class Context:
    """The base settings (from the environment) and what the run created, to remove it."""

    def __init__(self, settings: Settings, scale: float) -> None:
        self.settings = settings
        self.scale = scale
        self.run_id = uuid.uuid4().hex[:8]
        self._databases: list[str] = []
        self._topics: list[str] = []

    @classmethod
    def from_env(cls) -> "Context":
        raw = os.environ.get("BENCH_SCALE", "1")
        try:
            scale = float(raw)
        except ValueError:
            scale = 0
        if not scale > 0:
            raise SystemExit(f"BENCH_SCALE must be a positive number, not {raw!r}")
        return cls(Settings(mode="distributed"), scale)

    def scaled(self, n: int) -> int:
        return max(1, round(n * self.scale))

    def check_services(self) -> None:
        """Fails at once, naming the missing service, rather than in the middle of a run."""
        problems = []
        try:
            psycopg.connect(self.settings.database_url, connect_timeout=5).close()
        except psycopg.Error as error:
            problems.append(f"PostgreSQL at {self.settings.database_url}: {error}".strip())
        try:
            KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap,
                             request_timeout_ms=5000).close()
        except Exception as error:
            problems.append(f"Kafka at {self.settings.kafka_bootstrap}: {error!r}")
        if problems:
            raise SystemExit("Services missing (run `make bench`, which starts them):\n  "
                             + "\n  ".join(problems))

    def fresh_database(self, purpose: str) -> Settings:
        name = f"bench_{self.run_id}_{purpose}"
        with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        url = self.settings.database_url.rsplit("/", 1)[0] + f"/{name}"
        return self.settings.model_copy(update={"database_url": url})

    def fresh_topic(self, settings: Settings, purpose: str) -> Settings:
        name = f"parcours.bench-{self.run_id}-{purpose}"
        topic_settings = settings.model_copy(update={"topic": name})
        kafka_io.ensure_topic(topic_settings)
        self._topics.append(name)
        return topic_settings

    def cleanup(self) -> None:
        if self._databases:
            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                for name in self._databases:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._topics:
            admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
            try:
                admin.delete_topics(self._topics)
            finally:
                admin.close()


def free_port() -> int:
    """A loopback port nobody listens on, for a server the benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def table(results: list[Result]) -> str:
    header = ("benchmark", "figure", "baseline (same run)", "", "ratio")
    rows = [header] + [
        (r.name, _amount(r.figure, r.unit), r.baseline_name,
         _amount(r.baseline, r.baseline_unit or r.unit), f"{r.ratio:.2f}×")
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i in (0, 2) else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _amount(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
