"""Rebuilding a projection from the beginning into fresh tables, then swapping them in.

The rebuild reads the same source as the live projection (the Kafka topic, or the store's log
in the embedded mode) with its own positions. The swap happens in one transaction that holds
the live tables and offsets, and only once the rebuild is at or past every live offset: the
rebuilt tables take the live ones' place with their offsets and stream versions, and the live
consumer, finding records it has already applied, skips them by stream version. Nothing is
fired or sent again: alerts are facts in the journal, fired once by their de-duplication key."""

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from shared.storage.sqldb import Database, Tx
from shared.streaming.projecting import Record, Replayable, apply_batch, prepare


class ReplaySource(Protocol):
    name: str

    def total(self) -> int:
        """How many records there are to read now, for the progress bar."""
        ...

    def read(self, after: dict[int, int]) -> Sequence[Record]:
        """The next records past ``after`` (next offset per partition); empty at the end."""
        ...


Progress = Callable[[int, int], None]


class RebuildBehindError(Exception):
    pass


def replay(db: Database, live: Replayable, source: ReplaySource,
           progress: Progress = lambda done, total: None) -> int:
    """Rebuilds ``live`` from the beginning and swaps it in; returns the records read."""
    return replay_all(db, [live], source, progress)


def replay_all(db: Database, lives: Sequence[Replayable], source: ReplaySource,
               progress: Progress = lambda done, total: None) -> int:
    """Rebuilds every projection of ``lives`` reading the source once: each batch read is
    applied to each rebuild in its own transaction. Each is swapped in as soon as it is at or
    past its live projection; returns the records read."""
    suffix = f"__r{int(time.time() * 1000)}"
    pending = {live.name: (live, live.renamed(suffix)) for live in lives}
    for live, rebuild in pending.values():
        prepare(db, live)
        prepare(db, rebuild)
    positions: dict[int, int] = {}
    done, total = 0, source.total()
    while pending:
        records = source.read(positions)
        if records:
            for _, rebuild in pending.values():
                apply_batch(db, rebuild, source.name, records)
            for record in records:
                positions[record.partition] = record.offset + 1
            done += len(records)
            progress(done, max(total, done))
            continue
        for name, (live, rebuild) in list(pending.items()):
            try:
                _swap(db, live, rebuild, source.name)
            except RebuildBehindError:
                continue
            del pending[name]
        if pending:
            total = done + source.total()  # the live projections moved on: catch up again
            time.sleep(0.2)
    return done


def _swap(db: Database, live: Replayable, rebuild: Replayable, source: str) -> None:
    with db.transaction() as tx:
        # In the order a live batch takes them, so that neither waits for the other forever.
        db.lock_exclusive(tx, ["projection_streams", *live.tables, "projection_offsets"])
        live_offsets = _offsets(tx, live.name, source)
        rebuilt = _offsets(tx, rebuild.name, source)
        if any(rebuilt.get(p, 0) < offset for p, offset in live_offsets.items()):
            raise RebuildBehindError
        # Whatever the source (the topic, or the store the topic comes from), nothing the live
        # projection applied may be missing from the rebuild.
        if tx.one("SELECT 1 FROM projection_streams l LEFT JOIN projection_streams r"
                  " ON r.projection = :rebuild AND r.pathway_id = l.pathway_id"
                  " WHERE l.projection = :live AND COALESCE(r.version, 0) < l.version"
                  " LIMIT 1", {"live": live.name, "rebuild": rebuild.name}):
            raise RebuildBehindError
        for live_table, rebuilt_table in zip(live.tables, rebuild.tables, strict=True):
            tx.execute(f"DROP TABLE {live_table}")
            tx.execute(f"ALTER TABLE {rebuilt_table} RENAME TO {live_table}")
        names = {"live": live.name, "rebuild": rebuild.name, "source": source}
        tx.execute("DELETE FROM projection_offsets WHERE projection = :live AND source = :source",
                   names)
        tx.execute("UPDATE projection_offsets SET projection = :live "
                   "WHERE projection = :rebuild AND source = :source", names)
        tx.execute("DELETE FROM projection_streams WHERE projection = :live", names)
        tx.execute("UPDATE projection_streams SET projection = :live "
                   "WHERE projection = :rebuild", names)


def _offsets(tx: Tx, projection: str, source: str) -> dict[int, int]:
    rows = tx.execute("SELECT partition, next_offset FROM projection_offsets "
                      "WHERE projection = :projection AND source = :source",
                      {"projection": projection, "source": source})
    return {int(p): int(o) for p, o in rows}

