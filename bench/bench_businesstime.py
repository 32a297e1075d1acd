"""Benchmark cxrecovery.businesstime against peers: add and between, 4 h vs 2,000 h.

Run: ``.venv/bin/python bench/bench_businesstime.py``

Calendar: Monday-Friday 09:00-17:00 in America/New_York with US federal holidays
(observed dates, 2025-2027).  Start: Monday 2025-03-03 10:30.  Peers, timed only if
installed (they are not dependencies of cxrecovery):

* pandas ``CustomBusinessHour`` on a timezone-aware ``Timestamp`` (add); pandas has no
  business-time difference, so its "between" is ``len(date_range(...))`` of the hours;
* the ``businesstime`` package (``businesstime_hours``: between only; naive datetimes).

Each figure is the best (and the median) of several ``timeit`` repeats, each repeat
auto-ranged to at least 0.2 s.  Ratios compare figures measured in this same run.

First queries and bounded work: ``bench/bench_businesstime.py --first-queries
[--baseline OLD_SRC]`` times the first query on fresh calendars with holiday rules, a
calendar that never opens, and long targets, each in a fresh interpreter (nothing
cached), this code and (given a ``src`` directory of an older checkout, such as
``git archive 34fa9b1^ src | tar -x -C /tmp/base`` then ``--baseline /tmp/base/src``)
the old code in turns, so machine drift falls on both alike.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cxrecovery.businesstime import BusinessCalendar, Holiday

ZONE = "America/New_York"
US_HOLIDAYS = [
    date.fromisoformat(d)
    for d in (
        "2025-01-01 2025-01-20 2025-02-17 2025-05-26 2025-06-19 2025-07-04 2025-09-01 "
        "2025-10-13 2025-11-11 2025-11-27 2025-12-25 "
        "2026-01-01 2026-01-19 2026-02-16 2026-05-25 2026-06-19 2026-07-03 2026-09-07 "
        "2026-10-12 2026-11-11 2026-11-26 2026-12-25 "
        "2027-01-01 2027-01-18 2027-02-15 2027-05-31 2027-06-18 2027-07-05 2027-09-06 "
        "2027-10-11 2027-11-11 2027-11-25 2027-12-24"
    ).split()
]
START_NAIVE = datetime(2025, 3, 3, 10, 30)
SPANS = (4, 2000)
REPEATS = 7


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    """Best and median microseconds per call."""
    timer = timeit.Timer(fn)
    number, _elapsed = timer.autorange()  # enough calls for at least 0.2 s
    runs = [t / number * 1e6 for t in timer.repeat(repeat=REPEATS, number=number)]
    return min(runs), statistics.median(runs)


def ours() -> dict[str, object]:
    calendar = BusinessCalendar(
        ZONE, hours={"mon-fri": ["09:00-17:00"]}, holidays=[Holiday(d) for d in US_HOLIDAYS]
    )
    start = START_NAIVE.replace(tzinfo=ZoneInfo(ZONE))
    results: dict[str, object] = {}
    for hours in SPANS:
        d = timedelta(hours=hours)
        end = calendar.add(start, d)  # also builds the index for the span
        assert calendar.between(start, end) == d
        results[f"add {hours}"] = measure(lambda d=d: calendar.add(start, d))
        results[f"between {hours}"] = measure(lambda end=end: calendar.between(start, end))
        results[f"end {hours}"] = end
    return results


def with_pandas() -> dict[str, object] | None:
    try:
        import pandas as pd
        from pandas.tseries.offsets import CustomBusinessHour
    except ImportError:
        return None
    results: dict[str, object] = {"version": pd.__version__}
    start = pd.Timestamp(START_NAIVE, tz=ZONE)
    for hours in SPANS:
        offset = CustomBusinessHour(
            n=hours, start="09:00", end="17:00", weekmask="Mon Tue Wed Thu Fri",
            holidays=US_HOLIDAYS,
        )  # fmt: skip
        results[f"end {hours}"] = (start + offset).to_pydatetime()
        results[f"add {hours}"] = measure(lambda offset=offset: start + offset)
        hour = CustomBusinessHour(
            start="09:00", end="17:00", weekmask="Mon Tue Wed Thu Fri", holidays=US_HOLIDAYS
        )
        end = start + offset

        def between(end: pd.Timestamp = end, hour: CustomBusinessHour = hour) -> int:
            # Business hours from start to end: count the hour marks in [start, end).
            return len(pd.date_range(start, end, freq=hour, inclusive="left"))

        results[f"between {hours}"] = measure(between)
        results[f"between value {hours}"] = between()
    return results


def with_businesstime() -> dict[str, object] | None:
    try:
        import businesstime
        from businesstime import BusinessTime
    except ImportError:
        return None
    bt = BusinessTime(business_hours=(time(9), time(17)), weekends=(5, 6), holidays=US_HOLIDAYS)
    results: dict[str, object] = {"version": getattr(businesstime, "__version__", "?")}
    for hours, end in ((4, datetime(2025, 3, 3, 14, 30)), (2000, None)):
        if end is None:
            end_aware = results_ours[f"end {hours}"]
            assert isinstance(end_aware, datetime)
            end = end_aware.replace(tzinfo=None)
        results[f"between value {hours}"] = bt.businesstime_hours(START_NAIVE, end)
        results[f"between {hours}"] = measure(
            lambda end=end: bt.businesstime_hours(START_NAIVE, end)
        )
    return results


def fmt(value: object) -> str:
    if value is None:
        return "n/a"
    best, median = value  # type: ignore[misc]
    return f"{best:,.1f} / {median:,.1f}"


def ratio(a: object, b: object) -> str:
    if a is None or b is None:
        return "n/a"
    return f"{b[0] / a[0]:,.1f}x"  # type: ignore[index]


results_ours: dict[str, object] = {}


def main() -> int:
    results_ours.update(ours())
    pandas_results = with_pandas()
    bt_results = with_businesstime()
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"calendar: Mon-Fri 09:00-17:00 {ZONE}, {len(US_HOLIDAYS)} US holidays")
    print(f"start: {START_NAIVE} local")
    for name, found in (("pandas", pandas_results), ("businesstime", bt_results)):
        status = f"version {found['version']}" if found else "NOT INSTALLED: skipped"
        print(f"peer {name}: {status}")
    print()
    print("microseconds per call, best / median of", REPEATS, "repeats")
    print("| operation | span | cxrecovery | pandas (tz-aware) | businesstime |")
    print("|---|---:|---:|---:|---:|")
    for op in ("add", "between"):
        for hours in SPANS:
            key = f"{op} {hours}"
            row = [
                fmt(results_ours[key]),
                fmt(pandas_results.get(key) if pandas_results else None),
                fmt(bt_results.get(key) if bt_results else None),
            ]
            print(f"| {op} | {hours:,} h | " + " | ".join(row) + " |")
    print()
    checks: list[tuple[str, bool]] = []

    def best(results: dict[str, object] | None, key: str) -> float | None:
        if not results or key not in results:
            return None
        return results[key][0]  # type: ignore[index, no-any-return]

    print("ratios (best times, this run):")
    for op in ("add", "between"):
        growth = best(results_ours, f"{op} 2000") / best(results_ours, f"{op} 4")  # type: ignore[operator]
        print(f"  cxrecovery {op}: 2,000 h costs {growth:.2f}x of 4 h (target <= 1.5x)")
        checks.append((f"{op} flat in span", growth <= 1.5))
    pandas_add = best(pandas_results, "add 4"), best(pandas_results, "add 2000")
    if pandas_add[0] is not None:
        for hours, theirs in zip(SPANS, pandas_add, strict=True):
            speedup = theirs / best(results_ours, f"add {hours}")  # type: ignore[operator]
            print(f"  add {hours:,} h: pandas / cxrecovery = {speedup:.1f}x (target >= 3x)")
            checks.append((f"add {hours} h vs pandas", speedup >= 3))
    peers = [
        (name, best(r, "between 2000"))
        for name, r in (("pandas", pandas_results), ("businesstime", bt_results))
        if best(r, "between 2000") is not None
    ]
    if peers:
        name, fastest = min(peers, key=lambda p: p[1])  # type: ignore[arg-type, return-value]
        speedup = fastest / best(results_ours, "between 2000")  # type: ignore[operator]
        print(
            f"  between 2,000 h: fastest peer ({name}) / cxrecovery = {speedup:,.1f}x "
            "(target >= 20x)"
        )
        checks.append(("between 2000 h vs fastest peer", speedup >= 20))
    print()
    print("answers agree:")
    if pandas_results:
        for hours in SPANS:
            same = pandas_results[f"end {hours}"] == results_ours[f"end {hours}"]
            print(
                f"  add {hours:,} h: pandas {pandas_results[f'end {hours}']} "
                f"cxrecovery {results_ours[f'end {hours}']} {'OK' if same else 'DIFFER'}"
            )
            count = pandas_results[f"between value {hours}"]
            print(f"  between {hours:,} h: pandas counts {count} hour marks")
    if bt_results:
        for hours in SPANS:
            value = bt_results[f"between value {hours}"]
            print(f"  between {hours:,} h: businesstime says {value} h")
    print()
    failed = [name for name, ok in checks if not ok]
    print("targets:", "all met" if not failed else f"MISSED: {', '.join(failed)}")
    return 1 if failed else 0


# --- first queries and bounded work --------------------------------------------------

FIRST_QUERY_SETUP = """
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo
from cxrecovery.businesstime import BusinessCalendar
NY = ZoneInfo("America/New_York")
OFFICE = {"mon-fri": ["09:00-17:00"]}
def ruled(rule, zone="America/New_York", hours=None):
    data = {"time_zone": zone, "hours": hours or OFFICE, "holidays": [{"rrule": rule}]}
    return BusinessCalendar.from_dict(data)
"""
# name: (calendar expression, query expression); each timed once, in a fresh process.
FIRST_QUERIES = {
    "Thanksgiving rule, first add": (
        'ruled("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH")',
        "cal.add(datetime(2026, 3, 2, 10, tzinfo=NY), timedelta(hours=4))",
    ),
    "monthly rule, first add": (
        'ruled("FREQ=MONTHLY;BYDAY=1MO")',
        "cal.add(datetime(2026, 3, 2, 10, tzinfo=NY), timedelta(hours=4))",
    ),
    "sparse composed, 100 h": (
        'ruled("FREQ=MONTHLY;BYDAY=1SA", hours={"sat": ["10:00-11:00"]})'
        ' & ruled("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", zone="Europe/London",'
        ' hours={"daily": ["00:00-24:00"]})',
        "cal.add(datetime(2026, 3, 2, 10, tzinfo=NY), timedelta(hours=100))",
    ),
    "FREQ=DAILY holiday (never open)": (
        'ruled("FREQ=DAILY", zone="UTC")',
        "cal.next_open(datetime(2026, 3, 2, 10, tzinfo=UTC))",
    ),
    "P142857W target": (
        'BusinessCalendar("UTC", hours={"mon-fri": ["09:00-17:00"]})',
        "cal.add(datetime(2026, 3, 2, 10, tzinfo=UTC), timedelta(weeks=142857))",
    ),
    "23:59:59-00:00:01 window, 5 days": (
        'BusinessCalendar("UTC", hours={"daily": ["23:59:59-00:00:01"]})',
        "cal.add(datetime(2026, 3, 2, 10, tzinfo=UTC), timedelta(days=5))",
    ),
    "next_close of 24/7": (
        'BusinessCalendar.always_open("UTC")',
        "cal.next_close(datetime(2026, 3, 2, 10, tzinfo=UTC))",
    ),
}
FIRST_TIMEOUT_S = 30.0
FIRST_ROUNDS = 3


def first_query_ms(src: str | None, calendar: str, query: str) -> float | None:
    """Milliseconds for the calendar's first query in a fresh interpreter (None: timeout)."""
    code = (
        FIRST_QUERY_SETUP
        + f"cal = {calendar}\nstart = time.perf_counter()\n"
        + f"try:\n    {query}\nexcept Exception:\n    pass\n"
        + "print((time.perf_counter() - start) * 1000)\n"
    )
    if src is not None:
        code = f"import sys; sys.path.insert(0, {src!r})\n" + code
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=FIRST_TIMEOUT_S,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.split()[-1])


def first_queries(baseline: str | None) -> int:
    print(f"first query on a fresh calendar, ms, best of {FIRST_ROUNDS} fresh processes")
    print("| case | this code | baseline | baseline / this |")
    print("|---|---:|---:|---:|")
    for name, (calendar, query) in FIRST_QUERIES.items():
        ours: list[float | None] = []
        theirs: list[float | None] = []
        for _ in range(FIRST_ROUNDS):  # in turns: drift falls on both
            ours.append(first_query_ms(None, calendar, query))
            if baseline is not None:
                theirs.append(first_query_ms(baseline, calendar, query))
        new = min((t for t in ours if t is not None), default=None)
        old = min((t for t in theirs if t is not None), default=None)
        old_text = "n/a" if baseline is None else f"> {FIRST_TIMEOUT_S * 1000:,.0f}"
        if old is not None:
            old_text = f"{old:,.1f}"
        new_text = f"> {FIRST_TIMEOUT_S * 1000:,.0f}" if new is None else f"{new:,.2f}"
        if new is not None and baseline is not None:
            factor = (FIRST_TIMEOUT_S * 1000 if old is None else old) / new
            shown = f"{'> ' if old is None else ''}{factor:,.0f}x"
        else:
            shown = "n/a"
        print(f"| {name} | {new_text} | {old_text} | {shown} |")
    return 0


if __name__ == "__main__":
    if "--first-queries" in sys.argv:
        args = sys.argv[1:]
        base = args[args.index("--baseline") + 1] if "--baseline" in args else None
        sys.exit(first_queries(base))
    sys.exit(main())
