"""A calendar's rules turned into exact UTC intervals: weekly hours, combinations, closures.

:func:`evaluate` works out the open intervals of a calendar over a span from its
wall-clock rules; the index (``_engine``) runs it only when it builds a week it has not
seen.  The calendar is read through :class:`CalendarRules`, the fields evaluation
needs, so this module does not import the calendar class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from cxrecovery.businesstime._model import ExtraOpening, Holiday, Window
from cxrecovery.businesstime._rules import RuleDays
from cxrecovery.businesstime._time import (
    DAY_US,
    SECOND_US,
    WEEK_US,
    fixed_offset_us,
    resolve_wall,
    to_datetime,
)

__all__ = [
    "CalendarRules",
    "Interval",
    "evaluate",
    "exception_nodes",
    "has_open_time",
    "offset_us",
    "zones_of",
]

Interval = tuple[int, int]
ExceptionNode = tuple[ZoneInfo, tuple[Holiday, ...], tuple[ExtraOpening, ...]]

_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH_NAIVE.toordinal()
_ONE_US = timedelta(microseconds=1)
# Combined calendars are checked for open time in each ordinary week of a reference year
# (one week per combination of their zones' UTC offsets), since how the parts overlap
# depends on how those offsets line up.
_REFERENCE_YEAR_START = (datetime(2025, 1, 6) - _EPOCH_NAIVE) // _ONE_US


class CalendarRules(Protocol):
    """What evaluation reads of a business calendar (``BusinessCalendar`` has it all)."""

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def hours(self) -> tuple[tuple[Window, ...], ...] | None: ...

    @property
    def holidays(self) -> tuple[Holiday, ...]: ...

    @property
    def extra_openings(self) -> tuple[ExtraOpening, ...]: ...

    @property
    def all_of(self) -> Sequence[CalendarRules]: ...

    @property
    def any_of(self) -> Sequence[CalendarRules]: ...

    @property
    def none_of(self) -> Sequence[CalendarRules]: ...


def offset_us(us: int, zone: ZoneInfo) -> int:
    """``zone``'s UTC offset at instant ``us``, in microseconds."""
    offset = to_datetime(us, zone).utcoffset()
    return 0 if offset is None else offset // _ONE_US


def zones_of(calendar: CalendarRules) -> set[ZoneInfo]:
    zones = {calendar.zone}
    for child in (*calendar.all_of, *calendar.any_of, *calendar.none_of):
        zones |= zones_of(child)
    return zones


def exception_nodes(calendar: CalendarRules) -> Iterable[ExceptionNode]:
    """Each part of the calendar tree with holidays or extra openings, with its zone."""
    if calendar.holidays or calendar.extra_openings:
        yield calendar.zone, calendar.holidays, calendar.extra_openings
    for child in (*calendar.all_of, *calendar.any_of, *calendar.none_of):
        yield from exception_nodes(child)


def has_extra_openings(calendar: CalendarRules) -> bool:
    return bool(calendar.extra_openings) or any(
        has_extra_openings(c) for c in (*calendar.all_of, *calendar.any_of, *calendar.none_of)
    )


def has_open_time(calendar: CalendarRules) -> bool:
    """Whether the calendar is ever open: an extra opening, a weekly window, or (for a
    combination) open time in an ordinary week of a reference year."""
    if has_extra_openings(calendar):
        return True
    if calendar.hours is not None:
        return any(calendar.hours)
    zones = sorted(zones_of(calendar), key=lambda z: z.key)
    # One week per kind: the offsets each zone has as the week starts and as it ends.
    # A pair, not a sum: a spring-forward and a fall-back week sum alike, and a fold
    # can hold the only open time two calendars share.
    weeks: dict[tuple[tuple[int, int], ...], int] = {}
    for n in range(53):
        week = _REFERENCE_YEAR_START + n * WEEK_US
        key = tuple((offset_us(week, z), offset_us(week + WEEK_US, z)) for z in zones)
        weeks.setdefault(key, week)
    return any(evaluate(calendar, w, w + WEEK_US, exceptions=False) for w in weeks.values())


# --- interval sets ---------------------------------------------------------------------


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    j = 0
    for s, e in a:
        cursor = s
        while j < len(b) and b[j][1] <= cursor:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < e:
            out.append((cursor, e))
    return out


# --- evaluation of the rules -------------------------------------------------------------


def _local_days(zone: ZoneInfo, lo: int, hi: int) -> list[date]:
    # Two days of slack before: a window lasts < 48 h of wall time from its day's start.
    first = to_datetime(lo, zone).date() - timedelta(days=2)
    last = to_datetime(hi, zone).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _span(zone: ZoneInfo, day: date, start: int, end: int) -> Interval:
    fixed = fixed_offset_us(zone)
    if fixed is not None:  # one offset for ever: wall time less the offset, no lookups
        base = (day.toordinal() - _EPOCH_ORDINAL) * DAY_US - fixed
        return base + start * SECOND_US, base + end * SECOND_US
    midnight = datetime.combine(day, time())
    return (
        resolve_wall(zone, midnight + timedelta(seconds=start), closing=False),
        resolve_wall(zone, midnight + timedelta(seconds=end), closing=True),
    )


def evaluate(
    calendar: CalendarRules,
    lo: int,
    hi: int,
    *,
    exceptions: bool = True,
    rules: RuleDays | None = None,
) -> list[Interval]:
    """Exact open intervals of ``calendar`` within ``[lo, hi)``, merged and sorted.

    Open time is the weekly hours (or the intersection / union of the parts), minus the
    ``none_of`` parts, minus holidays, plus extra openings.  ``exceptions=False`` leaves
    holidays and extra openings out, everywhere in the tree.  ``rules`` keeps the days
    of holiday rules once expanded (the calendar index passes its own).
    """
    zone = calendar.zone
    if calendar.hours is not None:
        spans = [
            _span(zone, day, window.start, window.end)
            for day in _local_days(zone, lo, hi)
            for window in calendar.hours[day.weekday()]
        ]
        result = _merge(spans)
    else:
        parts = [evaluate(c, lo, hi, exceptions=exceptions, rules=rules) for c in calendar.all_of]
        if parts:
            result = parts[0]
            for part in parts[1:]:
                result = _intersect(result, part)
        else:
            result = _merge(
                s
                for child in calendar.any_of
                for s in evaluate(child, lo, hi, exceptions=exceptions, rules=rules)
            )
    for child in calendar.none_of:
        result = _subtract(result, evaluate(child, lo, hi, exceptions=exceptions, rules=rules))
    if exceptions and (calendar.holidays or calendar.extra_openings):
        days = _local_days(zone, lo, hi)
        closures = []
        for holiday in calendar.holidays:
            window = holiday.closed
            for day in holiday.days_in(days[0], days[-1], rules):
                if window is None:
                    closures.append(_span(zone, day, 0, 86_400))
                else:
                    closures.append(_span(zone, day, window.start, window.end))
        result = _subtract(result, _merge(closures))
        openings = [
            _span(zone, x.on, x.window.start, x.window.end)
            for x in calendar.extra_openings
            if days[0] <= x.on <= days[-1]
        ]
        result = _merge([*result, *openings])
    return [(max(s, lo), min(e, hi)) for s, e in result if e > lo and s < hi]
