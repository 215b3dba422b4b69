"""A very small SQL adapter so that projection code runs unchanged on SQLite (embedded mode)
and PostgreSQL (distributed mode). SQL is written once with ``:name`` parameters and the
subset both databases share (ON CONFLICT upserts, TEXT/INTEGER/BIGINT columns)."""

import json
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.storage.files import private_file

Row = tuple[Any, ...]
SCHEMA_LOCK_KEY = 0x5041_5243  # "PARC": the advisory lock every schema change takes
Params = Mapping[str, Any]


class Tx(ABC):
    """One open transaction."""

    dialect: str

    @abstractmethod
    def execute(self, sql: str, params: Params | None = None) -> list[Row]: ...

    @abstractmethod
    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        """One statement for many rows, sent together (a pipeline on PostgreSQL), not one
        round trip per row."""

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None


class Database(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Tx]: ...

    def lock_exclusive(self, tx: Tx, tables: Iterable[str]) -> None:
        """Makes every other writer of these tables wait until the transaction ends."""
        return None  # SQLite: BEGIN IMMEDIATE already holds the only write lock

    @contextmanager
    def schema_transaction(self) -> Iterator[Tx]:
        """A transaction that changes the schema, one process at a time: processes started
        together on an empty database would otherwise race on ``CREATE TABLE IF NOT EXISTS``
        (a unique violation in ``pg_type``). SQLite's BEGIN IMMEDIATE already serialises."""
        with self.transaction() as tx:
            yield tx

    def close(self) -> None:
        return None


class _SqliteTx(Tx):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        return self.conn.execute(sql, params or {}).fetchall()

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            self.conn.executemany(sql, rows)


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        # Health data on disk: the file and its folder are the platform user's alone.
        self.path = path if str(path) == ":memory:" else private_file(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            # synchronous stays FULL: besides views, this file holds the read audit, the
            # notifications sent and the ADT intake's keys, which a power cut must not lose.
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=1024)
def _psycopg_sql(sql: str) -> str:
    """``:name`` to psycopg's ``%(name)s``, once per statement text: the same text then lets
    psycopg prepare the statement on the server after its first few uses."""
    # A literal % (LIKE patterns) must be doubled before psycopg sees placeholders.
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


_CACHED_PARAMS = 50
"""psycopg caches (and so prepares) a statement of at most 50 parameters and 4,096 bytes."""
"""Rows per INSERT: full batches reuse one statement text (prepared); far below PostgreSQL's
65,535 parameters even for the widest view."""
_VALUES = re.compile(r"^(?P<head>.*?\bVALUES\s*)(?P<row>\((?:[^()']|'[^']*')*\))(?P<tail>.*)$",
                     re.DOTALL | re.IGNORECASE)


@lru_cache(maxsize=256)
def _multi_row(sql: str) -> tuple[str, str, str, tuple[str, ...]] | None:
    """An ``INSERT … VALUES (:a, :b) …`` as a head, a row with positional placeholders, a
    tail and the row's parameter names: many rows then go in one statement (one round trip,
    one multi-row write). The rows of one call must not repeat a key an ON CONFLICT … DO
    UPDATE resolves."""
    match = _VALUES.match(sql)
    if match is None or not sql.lstrip().upper().startswith("INSERT"):
        return None
    row = match["row"]
    names = tuple(_NAMED.findall(row))
    escape = str.maketrans({"%": "%%"})
    return (match["head"].translate(escape), _NAMED.sub("%s", row.translate(escape)),
            match["tail"].translate(escape), names)


_INSERT_HEAD = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>\w+)\s*\((?P<columns>[^()]*)\)\s*VALUES\s*$", re.IGNORECASE)
_JSON_SCALARS = (str, int, type(None))  # bool and float keep the other path


@lru_cache(maxsize=256)
def _from_json_rows(sql: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """An ``INSERT INTO t (a, b, c) VALUES (:x, :y, 'literal') …`` as one statement that
    takes every row in a single JSON parameter, typed by the table's own row type, and the
    (column, parameter) pairs each row's JSON object is made of."""
    multi = _multi_row(sql)
    if multi is None:
        return None
    match = _VALUES.match(sql)
    assert match is not None
    head = _INSERT_HEAD.match(match["head"])
    if head is None:
        return None
    columns = [c.strip() for c in head["columns"].split(",")]
    items = [i.strip() for i in match["row"].strip()[1:-1].split(",")]
    if len(columns) != len(items) or any("'" in i and i.count("'") != 2 for i in items):
        return None
    pairs, select = [], []
    for column, item in zip(columns, items, strict=True):
        named = _NAMED.fullmatch(item)
        if named is not None:
            pairs.append((column, named[1]))
            select.append(f"r.{column}")
        else:
            select.append(item)  # a literal, the same for every row
    table = head["table"]
    prefix = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "
              f"FROM json_populate_recordset(NULL::{table}, ")
    # The JSON array is the only placeholder: a literal % elsewhere is doubled for psycopg.
    return (prefix.replace("%", "%%") + "%s) AS r" + match["tail"].replace("%", "%%"),
            tuple(pairs))


class _PostgresTx(Tx):
    dialect = "postgresql"

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Params | None = None) -> list[Row]:
        self.cursor.execute(_psycopg_sql(sql), params or {})
        return self.cursor.fetchall() if self.cursor.description else []

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        as_json = _from_json_rows(sql)
        if as_json is not None:
            statement, pairs = as_json
            objects = [{column: row[name] for column, name in pairs} for row in rows]
            if all(type(value) in _JSON_SCALARS for obj in objects for value in obj.values()):
                # All the rows in one parameter of one prepared statement: PostgreSQL parses
                # one JSON array instead of binding and executing a statement per few rows
                # (a batch of the ruptures view wrote its deadlines in over a thousand).
                self.cursor.execute(statement, [json.dumps(objects)])
                return
        multi = _multi_row(sql)
        if multi is None:  # an UPDATE or a DELETE: one statement per row, pipelined
            self.cursor.executemany(_psycopg_sql(sql), rows)
            return
        head, row_sql, tail, names = multi
        # As many rows per statement as psycopg still caches and prepares (a longer text is
        # parsed again on every call, which cost more than the rows it saved), and all the
        # statements pipelined: one round trip, each statement parsed once per process.
        per = max(1, _CACHED_PARAMS // len(names))
        full, rest = divmod(len(rows), per)
        if full:
            self.cursor.executemany(
                head + ", ".join([row_sql] * per) + tail,
                [[row[name] for row in rows[i * per:(i + 1) * per] for name in names]
                 for i in range(full)])
        if rest:
            self.cursor.execute(head + ", ".join([row_sql] * rest) + tail,
                                [row[name] for row in rows[full * per:] for name in names])

    def select_in(self, sql: str, values: list[str]) -> list[Row]:
        # One array parameter: one short statement whatever the number of values, prepared.
        return self.execute(sql.replace("IN ({in})", "= ANY(:in_values)"),
                            {"in_values": values})


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str, max_size: int = 5, wait_s: float = 5.0) -> None:
        from psycopg_pool import ConnectionPool

        from shared.runtime.resilience import reconnect_timeout

        # The pool's wait bounds how long a caller blocks during an outage (then PoolTimeout,
        # which the API turns into a 503); each connection is checked before it is lent, so
        # none is stale after a restart. Opening does not wait: a process started while the
        # database is away comes up and retries, it does not exit.
        self.pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True,
                                   timeout=wait_s, check=ConnectionPool.check_connection,
                                   reconnect_timeout=reconnect_timeout(wait_s),
                                   kwargs={"connect_timeout": max(2, round(wait_s))})

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PostgresTx(cursor)

    @contextmanager
    def schema_transaction(self) -> Iterator[Tx]:
        with self.transaction() as tx:
            # Held until the transaction ends; every schema change of every process takes it.
            tx.execute("SELECT pg_advisory_xact_lock(:key)", {"key": SCHEMA_LOCK_KEY})
            yield tx

    def lock_exclusive(self, tx: Tx, tables: Iterable[str]) -> None:
        for table in tables:
            tx.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def close(self) -> None:
        self.pool.close()


_IN_CHUNK = 500
"""Few distinct statement texts (each a prepared statement) and far below SQLite's limit on
parameters."""


def select_in(tx: Tx, sql: str, values: Iterable[str]) -> list[Row]:
    """Runs ``sql``, whose ``{in}`` stands for a list of parameters, for all ``values`` in
    chunks: one read (or one DELETE, one UPDATE) for the rows a batch touches instead of one
    per row."""
    distinct = sorted(set(values))
    if isinstance(tx, _PostgresTx) and "IN ({in})" in sql:
        return tx.select_in(sql, distinct) if distinct else []
    rows: list[Row] = []
    for start in range(0, len(distinct), _IN_CHUNK):
        chunk = distinct[start:start + _IN_CHUNK]
        names = {f"in{i}": value for i, value in enumerate(chunk)}
        sql_chunk = sql.replace("{in}", ", ".join(":" + n for n in names))
        rows += tx.execute(sql_chunk, names)
    return rows
