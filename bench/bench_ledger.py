"""Grants per second through the desk, 1 and 8 writers, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/bench_ledger.py`` with ``CXRECOVERY_PG_DSN`` set to a
PostgreSQL server (``.ci/postgres start DIR`` starts a throw-away one and prints its
DSN); without it only SQLite is measured. ``--grants N`` per writer (default 200).

Each writer is its own process (spawned) with its own desk and connection, granting
EUR 0.01 credits as its own front-line agent to its own customers at the wall clock's
time, so every grant is accepted and goes through the full path: the write
transaction, the ledger's queries (and, on PostgreSQL, its budget locks),
``Engine.authorize``, the inserts and the event's hash, and a durable commit
(SQLite ``synchronous=FULL``; PostgreSQL ``fsync=on``, ``synchronous_commit=on``).
All writers start together; the rate is all grants over the wall time from the start
to the last writer's end. Beside the rates, what durability costs on this machine: one
``fdatasync`` of an 8 kB write beside the SQLite file, and a one-row commit on each
store with and without its flush (the difference is the fsync a grant waits for).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import cxrecovery as cx
from cxrecovery.ledger import Desk, Ledger, PostgresLedger, SQLiteLedger

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WRITERS = (1, 8)


def writer(open_ledger: Callable[[], Ledger], n: int, grants: int, start_at: float) -> float:
    ledger = open_ledger()
    desk = Desk(cx.Engine(cx.default_policy()), ledger)
    agent = cx.Agent(f"agent-{n}", "front_line")
    failure = cx.Failure(
        "late_delivery",
        cx.Severity.MEDIUM,
        cx.Fault.COMPANY,
        value_at_stake=cx.Money("100.00", "EUR"),
        service_usable=True,
    )
    cases = [
        cx.Case(f"w{n}-case{k}", cx.Customer(f"w{n}-cust{k}"), failure, T0) for k in range(50)
    ]
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(grants):
        desk.grant(
            cases[i % len(cases)],
            cx.Money("0.01", "EUR"),
            "credit",
            at=datetime.now(UTC),
            agent=agent,
            request_id=f"w{n}-{i}",
        )
    end = time.time()
    ledger.close()
    return end


def _sqlite(path: str) -> Ledger:
    return SQLiteLedger(path)


def _postgres(dsn: str, schema: str) -> Ledger:
    return PostgresLedger(dsn, schema=schema)


def rate(open_ledger: Callable[[], Ledger], writers: int, grants: int) -> float:
    open_ledger().close()  # the schema exists before the clock starts
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(writers, mp_context=context) as pool:
        start_at = time.time() + 3.0
        ends = list(
            pool.map(
                writer,
                [open_ledger] * writers,
                range(writers),
                [grants] * writers,
                [start_at] * writers,
            )
        )
    return writers * grants / (max(ends) - start_at)


def fsync_ms(directory: str, rounds: int = 200) -> float:
    """The median time of an 8 kB write plus fdatasync in ``directory``, in ms."""
    path = os.path.join(directory, "fsync.probe")
    block = os.urandom(8192)
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for _ in range(rounds):
            os.lseek(fd, 0, os.SEEK_SET)
            start = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        os.unlink(path)
    return statistics.median(times) * 1000


def sqlite_commit_ms(directory: str, rounds: int = 100) -> tuple[float, float]:
    """A one-row commit in WAL mode, synchronous=FULL and OFF: medians in ms."""
    import sqlite3

    found = []
    for sync in ("FULL", "OFF"):
        conn = sqlite3.connect(os.path.join(directory, f"commit-{sync}.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {sync}")
        conn.execute("CREATE TABLE t (x INTEGER)")
        times = []
        for i in range(rounds):
            start = time.perf_counter()
            conn.execute("INSERT INTO t VALUES (?)", (i,))
            times.append(time.perf_counter() - start)
        conn.close()
        found.append(statistics.median(times) * 1000)
    return found[0], found[1]


def pg_commit_ms(dsn: str, rounds: int = 100) -> tuple[float, float]:
    """A one-row commit, synchronous_commit on and off: medians in ms."""
    import psycopg

    found = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        table = f"bench_commit_{uuid.uuid4().hex[:8]}"
        conn.execute(f"CREATE TABLE {table} (x INTEGER)")
        try:
            for sync in ("on", "off"):
                conn.execute(f"SET synchronous_commit = {sync}")
                times = []
                for i in range(rounds):
                    start = time.perf_counter()
                    conn.execute(f"INSERT INTO {table} VALUES (%s)", (i,))
                    times.append(time.perf_counter() - start)
                found.append(statistics.median(times) * 1000)
        finally:
            conn.execute(f"DROP TABLE {table}")
    return found[0], found[1]


def _pg_version(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay')"
            ).fetchall()
        )
    assert row is not None
    return f"PostgreSQL {row[0]} ({', '.join(f'{k}={v}' for k, v in sorted(settings.items()))})"


def _drop(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--grants", type=int, default=200, help="grants per writer")
    parser.add_argument("--dsn", default=os.environ.get("CXRECOVERY_PG_DSN", ""))
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version},"
        f" {os.cpu_count()} CPUs (load {load:.1f} at the start),"
        f" {args.grants} grants per writer"
    )
    if args.dsn:
        print(_pg_version(args.dsn))
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fdatasync of 8 kB (median of 200): {fsync_ms(tmp):.2f} ms")
        full, off = sqlite_commit_ms(tmp)
        print(
            f"SQLite one-row commit: {full:.2f} ms synchronous=FULL, {off:.2f} ms OFF"
            f" (the fsync: {full - off:.2f} ms)"
        )
        if args.dsn:
            on, off = pg_commit_ms(args.dsn)
            print(
                f"PostgreSQL one-row commit: {on:.2f} ms synchronous_commit=on,"
                f" {off:.2f} ms off (the WAL flush: {on - off:.2f} ms)"
            )
        stores: list[tuple[str, Callable[[int], Callable[[], Ledger]]]] = [
            ("SQLite", lambda w: _sqlite_opener(tmp, w)),
        ]
        schemas: list[str] = []
        if args.dsn:

            def pg(w: int) -> Callable[[], Ledger]:
                schema = f"bench_{uuid.uuid4().hex[:10]}"
                schemas.append(schema)
                return _opener(_postgres, args.dsn, schema)

            stores.append(("PostgreSQL", pg))
        else:
            print("PostgreSQL: skipped (set CXRECOVERY_PG_DSN)")
        try:
            for name, opener in stores:
                base = None
                for writers in WRITERS:
                    found = rate(opener(writers), writers, args.grants)
                    base = base or found
                    print(
                        f"{name:<10} {writers} writer(s): {found:7.0f} grants/s"
                        f"  ({found / base:.2f}x of 1 writer)"
                    )
        finally:
            for schema in schemas:
                _drop(args.dsn, schema)
    return 0


class _opener:
    """A picklable ``open_ledger`` for the writer processes."""

    def __init__(self, make: Callable[..., Ledger], *args: str) -> None:
        self.make = make
        self.args = args

    def __call__(self) -> Ledger:
        return self.make(*self.args)


def _sqlite_opener(tmp: str, writers: int) -> Callable[[], Ledger]:
    return _opener(_sqlite, os.path.join(tmp, f"ledger-{writers}.db"))


if __name__ == "__main__":
    raise SystemExit(main())
