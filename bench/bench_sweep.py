"""How fast ``sweep`` answers "what is due now?" over 100,000 open cases.

Run: ``.venv/bin/python bench/bench_sweep.py`` (``--quick`` for a smoke run,
``--cases N`` for another size).

The open cases are a rolling backlog: the not-yet-closed cases of a seeded synthetic
history opened over the fortnight before ``at``, a Monday at 10:00 UTC. By default
every one is a distinct history (``--distinct N`` makes N histories, copied under new
ids until there are ``--cases``): the engine shares the pieces of a plan that depend
only on fact values between decisions, so a copy would cost less than a new case and
flatter the figures. Generating 100,000 distinct open cases takes a minute or two
before the timing starts. All in one run:

- **cold sweep**: no earlier sweep is known, so every case is decided at ``at``;
- **steady sweeps**: the scheduler's loop, 5 minutes, 1 hour and 8 hours later, each
  with the ``next_reviews`` the cold sweep returned: only the cases whose plan can have
  changed by then are decided, the rest are skipped. This is the sweep a host runs
  every few minutes;
- **baseline**: a plain loop over the same cases that looks each one up in the
  ``next_reviews`` mapping, to show what part of the steady sweep is the loop itself.

Target from the issue: a sweep over 100,000 open cases in under 2 seconds on one core
(the steady sweeps; the cold sweep is reported beside them). The script prints the
figures and exits 0 either way.
"""

from __future__ import annotations

import argparse
import itertools
import time
from datetime import UTC, datetime, timedelta

import attrs

from cxrecovery.engine import Engine
from cxrecovery.model import Case
from cxrecovery.policy import default_policy
from cxrecovery.replay import sweep, synthetic_cases

START = datetime(2026, 3, 2, tzinfo=UTC)
SPAN = timedelta(days=14)


def open_cases(count: int, distinct: int) -> list[Case]:
    """A rolling backlog: cases opened over the last 14 days, not closed."""
    history = synthetic_cases(distinct * 3, seed=11, start=START, span=SPAN)
    pool = list(itertools.islice((c for c in history if not c.is_closed), distinct))
    if len(pool) == count:
        return pool
    return [attrs.evolve(pool[i % len(pool)], id=f"open-{i}") for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--distinct", type=int, default=0, help="distinct histories (default: all of them)"
    )
    parser.add_argument("--quick", action="store_true", help="5,000 distinct cases")
    args = parser.parse_args()
    count, distinct = (5_000, 5_000) if args.quick else (args.cases, args.distinct or args.cases)

    cases = open_cases(count, distinct)
    # Now is the end of the fortnight: what each case's history holds after it is not
    # known yet (decide() reads nothing later than its time).
    at = START + SPAN + timedelta(hours=10)
    engine = Engine(default_policy())

    t0 = time.perf_counter()
    cold = sweep(engine, cases, at)
    cold_s = time.perf_counter() - t0

    # The scheduler's next runs: each one only decides the cases whose review has come.
    steady = []
    for offset in (timedelta(minutes=5), timedelta(hours=1), timedelta(hours=8)):
        t0 = time.perf_counter()
        result = sweep(engine, cases, at + offset, next_reviews=cold.next_reviews)
        steady.append((offset, result, time.perf_counter() - t0))

    reviews = cold.next_reviews
    later = at + timedelta(minutes=5)
    t0 = time.perf_counter()
    due = 0
    for case in cases:
        review = reviews.get(case.id)
        if review is not None and review <= later:
            due += 1
    loop_s = time.perf_counter() - t0

    print(f"{count:,} open cases ({distinct:,} distinct histories), default policy\n")
    print("| sweep | decided | skipped | items | seconds | cases/s |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [("cold", cold, cold_s)]
    rows += [(f"steady, {offset} later", r, secs) for offset, r, secs in steady]
    for name, result, secs in rows:
        print(
            f"| {name} | {result.decided:,} | {result.skipped:,} | {len(result.items):,} "
            f"| {secs:.2f} | {count / secs:,.0f} |"
        )
    print(f"| baseline: lookup loop | {due:,} due | | | {loop_s:.3f} | {count / loop_s:,.0f} |")
    per_case = cold_s / count * 1e6
    print(f"\ncold sweep: {per_case:.0f} µs per case decided")
    for offset, result, secs in steady:
        scaled = secs * 100_000 / count
        verdict = "met" if scaled < 2 else "NOT met"
        print(
            f"steady sweep {offset} later, scaled to 100,000 cases: {scaled:.2f} s "
            f"({result.decided / count:.1%} decided; target < 2 s): {verdict}"
        )


if __name__ == "__main__":
    main()
