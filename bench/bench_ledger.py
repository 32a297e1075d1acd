"""Grants per second through the desk on one SQLite ledger, with 1, 4 and 8 writers.

Run: ``.venv/bin/python bench/bench_ledger.py`` (``--grants N`` per writer, default 400).

Each writer is its own process (spawned) with its own desk and connection, granting
EUR 0.01 credits as its own front-line agent to its own customers, so every grant is
accepted and every one goes through the full path: ``BEGIN IMMEDIATE``, the ledger
queries, ``Engine.authorize``, the inserts, and a ``synchronous=FULL`` commit. All
writers start together; the rate is all grants over the wall time from the start to
the last writer's end. Ratios compare with the 1-writer figure from the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import cxrecovery as cx
from cxrecovery.ledger import Desk, SQLiteLedger

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def writer(path: str, n: int, grants: int, start_at: float) -> float:
    desk = Desk(cx.Engine(cx.default_policy()), SQLiteLedger(path))
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
    return time.time()


def run(writers: int, grants: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ledger.db")
        SQLiteLedger(path).close()
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(writers, mp_context=context) as pool:
            start_at = time.time() + 3.0
            ends = list(
                pool.map(
                    writer,
                    [path] * writers,
                    range(writers),
                    [grants] * writers,
                    [start_at] * writers,
                )
            )
        return writers * grants / (max(ends) - start_at)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=400, help="grants per writer")
    args = parser.parse_args()
    print(
        f"SQLite {__import__('sqlite3').sqlite_version}, Python {sys.version.split()[0]},"
        f" {os.cpu_count()} CPUs, {args.grants} grants per writer"
    )
    base = None
    for writers in (1, 4, 8):
        rate = run(writers, args.grants)
        base = base or rate
        print(f"{writers} writer(s): {rate:8.0f} grants/s  ({rate / base:.2f}x of 1 writer)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
