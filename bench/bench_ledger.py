"""Grants per second through the desk, 1 and 8 writers, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/bench_ledger.py`` with ``CXRECOVERY_PG_DSN`` set to a
PostgreSQL server (``.ci/postgres start DIR`` starts a throw-away one and prints its
DSN); without it only SQLite is measured. ``--grants N`` per writer (default 200),
``--rounds R`` (default 3): each round measures every store in turn, so a machine
whose load changes during the run weighs on all of them alike; medians at the end.

Each writer is its own process (spawned) with its own desk and connection, granting
EUR 0.01 credits as its own front-line agent to its own customers at the wall clock's
time, so every grant is accepted and goes through the full path: the write
transaction, the ledger's queries (and, on PostgreSQL, its budget locks),
``Engine.authorize``, the inserts and the event's hash, and a durable commit
(SQLite ``synchronous=FULL``; PostgreSQL ``fsync=on``, ``synchronous_commit=on``).
Writers on distinct budgets is the case that can scale: grants on one budget take
turns at that budget's lock by design. All writers connect, then start together; the
rate is all grants over the wall time from the first start to the last end.

Beside the rates:

- what durability costs here: one ``fdatasync`` of an 8 kB write beside the SQLite
  file, and a one-row commit on each store with and without its flush;
- the *floor* on PostgreSQL: the same writers doing nothing but one-row
  ``INSERT``-and-commit, so the 8/1 ratio this machine allows durable commits is
  measured in the same run as the ledger's (the ledger's ratio is also given as a
  share of the floor's), and the *CPU floor*: the same commits, each after as much
  busy CPU in the writer as one grant took in that round (writer and server), which
  is what a grant's CPU alone lets 8 writers reach on this machine at this load;
- the CPU each grant costs, in the writer and (PostgreSQL on this host, read from
  ``/proc``) in its server process, and the rate 8 writers could reach if they had
  every CPU of the machine to themselves: a ceiling the 8/1 ratio cannot pass when a
  grant is CPU-bound;
- the load average and the kernel's CPU pressure, because on a shared machine they,
  as much as the store, set the figures.
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
from typing import Any

import attrs

import cxrecovery as cx
from cxrecovery.ledger import Desk, Ledger, PostgresLedger, SQLiteLedger

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
WRITERS = (1, 8)


def _cpu_of(pid: int | None) -> float:
    """The CPU seconds (user + system) process ``pid`` has used; 0 when unreadable."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:  # not Linux, or the server runs on another host
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_pid(ledger: Ledger) -> int | None:
    """The PostgreSQL server process serving this ledger's connection (bench only)."""
    if isinstance(ledger, PostgresLedger):
        return int(ledger._connection().info.backend_pid)
    return None


def writer(
    open_ledger: Callable[[], Ledger], n: int, grants: int, ready: Any
) -> tuple[float, ...]:
    """Grant ``grants`` times once every writer is ready; the start and end times, and
    the CPU seconds of the writer and of its server process (0 on SQLite, whose server
    is the writer) over the grants."""
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
    server = _backend_pid(ledger)
    ready.wait()
    start = time.time()
    cpu, server_cpu = time.process_time(), _cpu_of(server)
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
    cpu, server_cpu = time.process_time() - cpu, _cpu_of(server) - server_cpu
    ledger.close()
    return start, end, cpu, server_cpu


def bare_writer(
    dsn: str, table: str, burn_ms: float, n: int, grants: int, ready: Any
) -> tuple[float, ...]:
    """The floor: ``grants`` one-row ``INSERT``s, each its own durable commit, each
    after ``burn_ms`` of busy CPU in the writer (0: none)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        server = int(conn.info.backend_pid)
        ready.wait()
        start = time.time()
        cpu, server_cpu = time.process_time(), _cpu_of(server)
        for i in range(grants):
            if burn_ms:
                until = time.process_time() + burn_ms / 1000
                while time.process_time() < until:
                    pass
            conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (n, i))
        end = time.time()
        return start, end, time.process_time() - cpu, _cpu_of(server) - server_cpu


def _sqlite(path: str) -> Ledger:
    return SQLiteLedger(path)


def _postgres(dsn: str, schema: str) -> Ledger:
    return PostgresLedger(dsn, schema=schema)


@attrs.frozen
class Rate:
    """One measurement: grants per second, and CPU milliseconds per grant."""

    per_second: float
    client_ms: float
    server_ms: float
    flush_ms: float | None = None  # the mean WAL flush during the run, when timed


def _run(job: Callable[..., tuple[float, ...]], args: list[object], writers: int, n: int) -> Rate:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(writers, mp_context=context) as pool:
        # Every writer connects first, then all start together: the wall time is from
        # the first start to the last end, without the interpreters' start-up.
        ready = manager.Barrier(writers)
        ends = list(
            pool.map(
                job,
                *([a] * writers for a in args),
                range(writers),
                [n] * writers,
                [ready] * writers,
            )
        )
    total = writers * n
    return Rate(
        total / (max(e[1] for e in ends) - min(e[0] for e in ends)),
        sum(e[2] for e in ends) / total * 1000,
        sum(e[3] for e in ends) / total * 1000,
    )


def rate(open_ledger: Callable[[], Ledger], writers: int, grants: int) -> Rate:
    open_ledger().close()  # the schema exists before the clock starts
    return _run(writer, [open_ledger], writers, grants)


def floor_rate(dsn: str, writers: int, grants: int, burn_ms: float = 0.0) -> Rate:
    import psycopg

    table = f"bench_floor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (w INTEGER, i INTEGER)")
    try:
        return _run(bare_writer, [dsn, table, burn_ms], writers, grants)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")


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


def _wal_syncs(dsn: str) -> tuple[int, float] | None:
    """The server's WAL flushes so far and the ms they took (``pg_stat_wal``); None
    unless the server times them (``track_wal_io_timing``, as ``.ci/postgres`` sets)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        timed = conn.execute("SHOW track_wal_io_timing").fetchone()
        row = conn.execute("SELECT wal_sync, wal_sync_time FROM pg_stat_wal").fetchone()
    if timed is None or timed[0] != "on" or row is None:
        return None
    return int(row[0]), float(row[1])


def pg_flush_ms(dsn: str, rounds: int = 50) -> float:
    """What a one-row commit's WAL flush costs now: synchronous_commit on minus off."""
    on, off = pg_commit_ms(dsn, rounds)
    return max(0.0, on - off)


def _pg_version(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay',"
                " 'commit_siblings')"
            ).fetchall()
        )
    assert row is not None
    return f"PostgreSQL {row[0]} ({', '.join(f'{k}={v}' for k, v in sorted(settings.items()))})"


def _drop(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _load() -> str:
    """The load average and, where the kernel reports it, the CPU pressure (the share
    of the last 10 s in which some runnable task waited for a CPU)."""
    text = f"load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load ?"
    try:
        with open("/proc/pressure/cpu") as file:
            some = file.readline().split()[1].split("=")[1]
        text += f", CPU pressure {some}%"
    except (OSError, IndexError):
        pass
    return text


def _line(label: str, writers: int, found: Rate) -> str:
    cpu = f"client {found.client_ms:.2f}"
    if found.server_ms:
        cpu += f" + server {found.server_ms:.2f}"
    return (
        f"{label:<17} {writers} writer(s): {found.per_second:6.0f} grants/s"
        f"  (CPU a grant: {cpu} ms; {_load()})"
    )


def _ratios(found: dict[int, list[Rate]]) -> list[float]:
    """Each round's 8-writer rate over its 1-writer rate."""
    return [b.per_second / a.per_second for a, b in zip(found[1], found[8], strict=True)]


@attrs.frozen
class Pieces:
    """One round's PostgreSQL figures taken apart (all in ms a grant, shares of the
    CPUs): one writer's time ``t1 = c1 + flush + waits``, where ``c1`` is its CPU
    (writer and server, never both at once), ``flush`` the mean WAL flush during that
    run (``pg_stat_wal``; a one-row commit's just before the round when the server
    does not time its flushes) and ``waits`` the rest (mostly waiting for a CPU at each wake-up);
    ``c8`` the CPU a grant takes at 8 writers and ``share`` the part of the machine's
    CPUs the 8 writers and their servers had. Then ``8/1 = cpus * share * t1 / c8``
    exactly, and 3x needs ``share >= 3 * c8 / (cpus * t1)``."""

    t1: float
    c1: float
    flush: float
    waits: float
    c8: float
    share: float
    needed: float

    @classmethod
    def of(cls, one: Rate, eight: Rate, flush: float) -> Pieces:
        cpus = os.cpu_count() or 1
        t1 = 1000 / one.per_second
        c1 = one.client_ms + one.server_ms
        c8 = eight.client_ms + eight.server_ms
        share = eight.per_second * c8 / 1000 / cpus
        return cls(t1, c1, flush, t1 - c1 - flush, c8, share, 3 * c8 / (cpus * t1))

    def text(self) -> str:
        return (
            f"t1 {self.t1:.2f} = CPU {self.c1:.2f} + flush {self.flush:.2f}"
            f" + waits {self.waits:.2f} ms; CPU a grant at 8 writers {self.c8:.2f} ms;"
            f" the 8 had {self.share:.0%} of the CPUs, 3x needed {self.needed:.0%}"
        )


def _pieces_summary(pieces: list[Pieces]) -> None:
    median = statistics.median
    fields = [f.name for f in attrs.fields(Pieces)]
    print(
        f"{'':<17} the pieces (medians): "
        + Pieces(**{f: median(getattr(p, f) for p in pieces) for f in fields}).text()
    )


def _summary(label: str, found: dict[int, list[Rate]], floors: dict[str, list[float]]) -> None:
    median = statistics.median
    ratios = _ratios(found)
    text = (
        f"{label:<17} 1 writer {median(r.per_second for r in found[1]):6.0f},"
        f" 8 writers {median(r.per_second for r in found[8]):6.0f} grants/s;"
        f" 8/1 = {median(ratios):.2f}x (rounds: {' '.join(f'{r:.2f}x' for r in ratios)})"
    )
    for name, floor in floors.items():
        share = median(r / f for r, f in zip(ratios, floor, strict=True))
        text += f"; {share:.2f} of the {name}'s 8/1"
    print(text)
    cpu = median(r.client_ms + r.server_ms for r in found[8])
    cpus = os.cpu_count() or 1
    used = median(r.per_second * (r.client_ms + r.server_ms) / 10 / cpus for r in found[8])
    print(
        f"{'':<17} CPU a grant at 8 writers {cpu:.2f} ms: {cpus} idle CPUs would cap"
        f" 8 writers at {cpus * 1000 / cpu:.0f} grants/s; they had {used:.0f}% of the CPUs"
    )
    if label == "SQLite":  # one writer at a time: no CPU bound to show
        return
    bounds = _bounds(found)
    print(
        f"{'':<17} bound on 8/1 here: {median(bounds):.2f}x"
        f" (rounds: {' '.join(f'{b:.2f}x' for b in bounds)})"
    )


def _bounds(found: dict[int, list[Rate]]) -> list[float]:
    """Each round's bound on the 8/1 ratio when the writers and their servers share
    this machine's CPUs: one writer takes ``t1`` a grant (its CPU plus its waits: the
    flush, the round trips, a CPU to run on); 8 writers, if every CPU were theirs, at
    most ``cpus / C8`` grants a second, ``C8`` the CPU a grant takes at 8 writers
    (writer + server). So 8/1 <= cpus * t1 / C8, and <= 8."""
    cpus = os.cpu_count() or 1
    return [
        min(8.0, cpus * (1000 / one.per_second) / (eight.client_ms + eight.server_ms))
        for one, eight in zip(found[1], found[8], strict=True)
    ]


def _durability(tmp: str, dsn: str) -> None:
    print(f"fdatasync of 8 kB (median of 200): {fsync_ms(tmp):.2f} ms")
    full, off = sqlite_commit_ms(tmp)
    print(
        f"SQLite one-row commit: {full:.2f} ms synchronous=FULL, {off:.2f} ms OFF"
        f" (the fsync: {full - off:.2f} ms)"
    )
    if dsn:
        on, off = pg_commit_ms(dsn)
        print(
            f"PostgreSQL one-row commit: {on:.2f} ms synchronous_commit=on,"
            f" {off:.2f} ms off (the WAL flush: {on - off:.2f} ms)"
        )


Measure = Callable[[int, int], Rate]


def _measures(
    tmp: str, dsn: str, grants: int, schemas: list[str], found: dict[str, dict[int, list[Rate]]]
) -> list[tuple[str, Measure]]:
    """What each round measures, in order: (label, measure(round, writers))."""
    measures: list[tuple[str, Measure]] = [
        ("SQLite", lambda n, w: rate(_sqlite_opener(tmp, f"{n}-{w}"), w, grants)),
    ]
    if not dsn:
        return measures

    def ledger(n: int, writers: int) -> Rate:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        schemas.append(schema)
        before = _wal_syncs(dsn)
        got = rate(_opener(_postgres, dsn, schema), writers, grants)
        after = _wal_syncs(dsn)
        if before is None or after is None or after[0] == before[0]:
            return got
        return attrs.evolve(got, flush_ms=(after[1] - before[1]) / (after[0] - before[0]))

    def cpu_floor(n: int, writers: int) -> Rate:
        # As much CPU before each commit as one grant took this round (writer and
        # server both: the writer burns it all).
        one = found["PostgreSQL"][1][n]
        return floor_rate(dsn, writers, grants, one.client_ms + one.server_ms)

    measures.append(("PostgreSQL", ledger))
    measures.append(("PostgreSQL floor", lambda n, w: floor_rate(dsn, w, grants)))
    measures.append(("floor + grant CPU", cpu_floor))
    return measures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--grants", type=int, default=200, help="grants per writer")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--dsn", default=os.environ.get("CXRECOVERY_PG_DSN", ""))
    args = parser.parse_args()
    print(
        f"Python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version},"
        f" {os.cpu_count()} CPUs ({_load()} at the start),"
        f" {args.grants} grants per writer, {args.rounds} rounds"
    )
    print(_pg_version(args.dsn) if args.dsn else "PostgreSQL: skipped (set CXRECOVERY_PG_DSN)")
    schemas: list[str] = []
    found: dict[str, dict[int, list[Rate]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        _durability(tmp, args.dsn)
        measures = _measures(tmp, args.dsn, args.grants, schemas, found)
        found.update({m: {w: [] for w in WRITERS} for m, _ in measures})
        pieces: list[Pieces] = []
        try:
            for n in range(args.rounds):
                # This disk's flush moves within minutes: measured again each round.
                flush = pg_flush_ms(args.dsn) if args.dsn else 0.0
                for label, measure in measures:
                    for writers in WRITERS:
                        got = measure(n, writers)
                        found[label][writers].append(got)
                        print(f"round {n + 1} " + _line(label, writers, got), flush=True)
                if args.dsn:
                    pg = found["PostgreSQL"]
                    one = pg[1][n]
                    flush = flush if one.flush_ms is None else one.flush_ms
                    pieces.append(Pieces.of(one, pg[8][n], flush))
                    print(f"round {n + 1} PostgreSQL pieces: {pieces[-1].text()}")
        finally:
            for schema in schemas:
                _drop(args.dsn, schema)
    print(f"Medians of {args.rounds} rounds ({_load()} at the end):")
    floors = {
        name: _ratios(found[label])
        for name, label in (("floor", "PostgreSQL floor"), ("CPU floor", "floor + grant CPU"))
        if label in found
    }
    for label, _ in measures:
        _summary(label, found[label], floors if label == "PostgreSQL" else {})
        if label == "PostgreSQL":
            _pieces_summary(pieces)
    return 0


class _opener:
    """A picklable ``open_ledger`` for the writer processes."""

    def __init__(self, make: Callable[..., Ledger], *args: str) -> None:
        self.make = make
        self.args = args

    def __call__(self) -> Ledger:
        return self.make(*self.args)


def _sqlite_opener(tmp: str, name: str) -> Callable[[], Ledger]:
    return _opener(_sqlite, os.path.join(tmp, f"ledger-{name}.db"))


if __name__ == "__main__":
    raise SystemExit(main())
