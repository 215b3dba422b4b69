"""Applying events to a projection exactly once in effect.

Each batch is one transaction holding the view's changes **and** the consumed positions
(Kafka offsets, or log positions in the embedded mode). The last applied stream version of
each pathway is kept too: the relay may publish an event twice after a crash (at-least-once
between the store and Kafka), and the copy arrives at a new offset."""

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.events import EventEnvelope
from shared.storage.sqldb import Database, Tx, select_in

BOOKKEEPING_DDL = (
    """CREATE TABLE IF NOT EXISTS projection_offsets (
        projection TEXT NOT NULL, source TEXT NOT NULL, partition INTEGER NOT NULL,
        next_offset BIGINT NOT NULL, PRIMARY KEY (projection, source, partition))""",
    """CREATE TABLE IF NOT EXISTS projection_streams (
        projection TEXT NOT NULL, pathway_id TEXT NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (projection, pathway_id))""",
    """CREATE TABLE IF NOT EXISTS projection_schemas (
        projection TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
)


LogReader = Callable[[int, int], Sequence[tuple[int, EventEnvelope | None]]]
"""Reads (position, event) pairs from a start position, at most a limit of them."""


class Projection(Protocol):
    name: str

    def create_tables(self, tx: Tx) -> None: ...

    def apply(self, tx: Tx, event: EventEnvelope) -> None: ...


class BatchProjection(Projection, Protocol):
    """A projection that applies a whole batch at once: one read of the rows the batch
    touches, a fold in memory, one multi-row write."""

    def apply_all(self, tx: Tx, events: Sequence[EventEnvelope]) -> None: ...


class Replayable(Projection, Protocol):
    """A projection whose tables can be built a second time beside the live ones."""

    @property
    def tables(self) -> Sequence[str]: ...

    def renamed(self, suffix: str) -> "Replayable": ...


@dataclass(frozen=True)
class Record:
    """One consumed record; ``event`` is None for log entries that are not pathway events."""

    partition: int
    offset: int
    event: EventEnvelope | None


def prepare(db: Database, projection: Projection) -> None:
    """Creates the projection's tables. A projection whose tables changed shape (a higher
    ``schema_version``) is rebuilt, not migrated: its tables and positions are dropped, and
    it consumes its source again from the start."""
    wanted = getattr(projection, "schema_version", 1)
    with db.schema_transaction() as tx:
        for ddl in BOOKKEEPING_DDL:
            tx.execute(ddl)
        row = tx.one("SELECT version FROM projection_schemas WHERE projection = :name",
                     {"name": projection.name})
        if row is not None and row[0] == wanted:
            projection.create_tables(tx)
            return
        if wanted > 1:  # tables made before, by a version that did not record its shape
            for table in getattr(projection, "tables", ()):
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            for bookkeeping in ("projection_offsets", "projection_streams"):
                tx.execute(f"DELETE FROM {bookkeeping} WHERE projection = :name",
                           {"name": projection.name})
        tx.execute("INSERT INTO projection_schemas (projection, version) VALUES (:name, :v)"
                   " ON CONFLICT (projection) DO UPDATE SET version = excluded.version",
                   {"name": projection.name, "v": wanted})
        projection.create_tables(tx)


def stored_offsets(db: Database, projection: str, source: str) -> dict[int, int]:
    with db.transaction() as tx:
        rows = tx.execute(
            "SELECT partition, next_offset FROM projection_offsets "
            "WHERE projection = :projection AND source = :source",
            {"projection": projection, "source": source},
        )
    return {int(partition): int(offset) for partition, offset in rows}


def apply_batch(
    db: Database, projection: Projection, source: str, records: Sequence[Record]
) -> int:
    """Applies a batch in one transaction; returns how many events changed the view."""
    if not records:
        return 0
    with db.transaction() as tx:
        versions = _versions(tx, projection.name, records)
        changed: dict[str, int] = {}
        fresh: list[EventEnvelope] = []
        for record in records:
            event = record.event
            if event is None or versions.get(event.pathway_key, 0) >= event.stream_version:
                continue  # not a pathway event, or a copy of one already applied
            fresh.append(event)
            versions[event.pathway_key] = changed[event.pathway_key] = \
                event.stream_version
        apply_all = getattr(projection, "apply_all", None)
        if apply_all is not None:
            apply_all(tx, fresh)
        else:
            for event in fresh:
                projection.apply(tx, event)
        _save_versions(tx, projection.name, changed)
        tx.execute_many(
            "INSERT INTO projection_offsets (projection, source, partition, next_offset) "
            "VALUES (:projection, :source, :partition, :next_offset) "
            "ON CONFLICT (projection, source, partition) "
            "DO UPDATE SET next_offset = excluded.next_offset",
            [{"projection": projection.name, "source": source, "partition": partition,
              "next_offset": next_offset} for partition, next_offset in _next_offsets(records)],
        )
    after_commit = getattr(projection, "after_commit", None)
    if after_commit is not None:
        after_commit()  # what the batch made due can be acted on: it is committed
    return len(fresh)


def _pathways(records: Sequence[Record]) -> list[str]:
    return sorted({r.event.pathway_key for r in records if r.event is not None})


def _versions(tx: Tx, projection: str, records: Sequence[Record]) -> dict[str, int]:
    """The last version applied of each pathway in the batch, read in one query."""
    pathways = _pathways(records)
    if not pathways:
        return {}
    rows = select_in(
        tx, "SELECT pathway_id, version FROM projection_streams WHERE projection = "
        f"{_quoted(projection)} AND pathway_id IN ({{in}})", pathways)
    return {str(pathway): int(version) for pathway, version in rows}


def _quoted(text: str) -> str:
    """A projection's name (code, never input) as an SQL literal, so that ``select_in`` needs
    no other parameter."""
    return "'" + text.replace("'", "''") + "'"


def _save_versions(tx: Tx, projection: str, changed: dict[str, int]) -> None:
    # Sorted: two batches touching the same pathways lock their rows in the same order.
    tx.execute_many(
        "INSERT INTO projection_streams (projection, pathway_id, version) "
        "VALUES (:projection, :pathway_id, :version) ON CONFLICT (projection, "
        "pathway_id) DO UPDATE SET version = excluded.version",
        [{"projection": projection, "pathway_id": pathway, "version": version}
         for pathway, version in sorted(changed.items())])


def _next_offsets(records: Iterable[Record]) -> list[tuple[int, int]]:
    latest: dict[int, int] = {}
    for record in records:
        latest[record.partition] = max(latest.get(record.partition, -1), record.offset + 1)
    return sorted(latest.items())


class LogProjector:
    """Feeds a projection straight from the event store's global log (embedded mode)."""

    SOURCE = "journal"

    def __init__(self, read_log: LogReader, db: Database, projection: Projection,
                 batch_size: int = 500) -> None:
        self.read_log = read_log
        self.db = db
        self.projection = projection
        self.batch_size = batch_size
        self._lock = threading.Lock()
        prepare(db, projection)

    def catch_up(self) -> int:
        """Applies everything recorded so far; returns the number of events applied."""
        applied = 0
        with self._lock:
            while True:
                start = stored_offsets(self.db, self.projection.name, self.SOURCE).get(0, 1)
                entries = self.read_log(start, self.batch_size)
                if not entries:
                    return applied
                records = [Record(0, position, event) for position, event in entries]
                applied += apply_batch(self.db, self.projection, self.SOURCE, records)


class LogProjectors:
    """The embedded mode's projectors fed from one read of the log: each batch is read and
    decoded once for all of them, and each projection still applies it in its own transaction
    with its own positions. A projector's next position is kept in memory once read (this
    process alone writes it), so a catch-up that finds nothing new costs one query."""

    def __init__(self, read_log: LogReader, db: Database, projections: Sequence[Projection],
                 batch_size: int = 500) -> None:
        self.read_log = read_log
        self.db = db
        self.batch_size = batch_size
        self.projections = list(projections)
        for projection in self.projections:
            prepare(db, projection)
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}

    def catch_up(self, names: Collection[str] | None = None) -> dict[str, int]:
        """Applies everything recorded so far, to the projections named or to all; returns
        the events applied per projection."""
        chosen = [p for p in self.projections if names is None or p.name in names]
        applied = {projection.name: 0 for projection in chosen}
        with self._lock:
            while True:
                starts = {projection.name: self._start(projection.name)
                          for projection in chosen}
                entries = self.read_log(min(starts.values()), self.batch_size)
                if not entries:
                    return applied
                for projection in chosen:
                    start = starts[projection.name]
                    records = [Record(0, position, event) for position, event in entries
                               if position >= start]
                    if not records:
                        continue
                    try:
                        applied[projection.name] += apply_batch(
                            self.db, projection, LogProjector.SOURCE, records)
                    except BaseException:
                        self._next.pop(projection.name, None)  # read it again next time
                        raise
                    self._next[projection.name] = records[-1].offset + 1

    def _start(self, name: str) -> int:
        if name not in self._next:
            self._next[name] = stored_offsets(self.db, name, LogProjector.SOURCE).get(0, 1)
        return self._next[name]


class LogReplaySource:
    """The store's global log as a replay source (embedded mode)."""

    name = LogProjector.SOURCE

    def __init__(self, read_log: LogReader, last_position: Callable[[], int | None],
                 batch_size: int = 1000) -> None:
        self.read_log = read_log
        self.last_position = last_position
        self.batch_size = batch_size
        self._done_until = 0

    def total(self) -> int:
        return max(0, (self.last_position() or 0) - self._done_until)

    def read(self, after: dict[int, int]) -> Sequence[Record]:
        entries = self.read_log(after.get(0, 1), self.batch_size)
        if entries:
            self._done_until = entries[-1][0]
        return [Record(0, position, event) for position, event in entries]
