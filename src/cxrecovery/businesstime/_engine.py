"""The index behind business-time arithmetic: week templates plus special weeks.

Time is cut into UTC weeks (Monday 00:00 UTC to Monday 00:00 UTC).  While no time zone
involved in a calendar changes its UTC offset and no holiday or extra opening is near,
a calendar's open time in one UTC week is the same as in every other such week: that
shared *template* (sorted open intervals, relative to the week start, with running
totals) is computed once per combination of UTC offsets.  A week near an offset change
or an exception (holiday, partial closure, extra opening) is *special*: its open
intervals are worked out exactly, from wall-clock rules, and stored for that week only.

Weeks are grouped in chunks of 64 (about 15 months), built lazily on first use and then
kept; a chunk holds, per week, the template or special week that applies and the running
total of open time at each week start.  A query is a constant number of binary searches
(over the 65 running totals of a chunk, then over the intervals of one week); adding a
duration walks whole chunks by their totals, one step per ~15 months of calendar time.
No query loops over days.

The evaluator (``_evaluate``) turns the calendar's rules into exact UTC intervals; it runs
only when a chunk is built.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from cxrecovery.businesstime._evaluate import (
    CalendarRules,
    Interval,
    evaluate,
    exception_nodes,
    offset_us,
    zones_of,
)
from cxrecovery.businesstime._rules import RuleDays
from cxrecovery.businesstime._time import (
    DAY_US,
    MAX_US,
    MIN_US,
    SECOND_US,
    WEEK_US,
    check_duration,
    fixed_epoch,
    resolve_wall,
    to_datetime,
)
from cxrecovery.errors import CalendarError, Problem

__all__ = ["STRETCH_HORIZON_US", "Engine"]

_ANCHOR = 4 * DAY_US  # Monday 1970-01-05 00:00 UTC
_CHUNK_WEEKS = 64
_CHUNK_US = _CHUNK_WEEKS * WEEK_US
_SAMPLE_US = 6 * 3600 * SECOND_US  # offset changes in tzdata are months apart
_MARGIN_US = 4 * DAY_US  # a window lasts < 48 h of wall time; offsets are < 1 day
# A calendar with no open time for more than 25 years is given up on, not looped over:
# 21 chunks without open time are 1,344 weeks, over 25.7 years.
_EMPTY_CHUNKS_LIMIT = 21
# add and subtract look this many chunks (1,920 weeks, about 36.8 years) past the one
# they start in, and no further: a result further away is refused, not searched for.
_WALK_CHUNKS = 30
# next_close: an open stretch longer than 25 years (9,132 days, more than 25 Gregorian
# years of 365.2425 days) has no close worth reporting.
STRETCH_HORIZON_US = 9_132 * DAY_US
_EPOCH_NAIVE = datetime(1970, 1, 1)


class _Week:
    """Open intervals of one UTC week, relative to its start, with running totals."""

    __slots__ = ("ends", "pre_end", "pre_start", "starts", "total")

    def __init__(self, intervals: Sequence[Interval]) -> None:
        self.starts = [s for s, _ in intervals]
        self.ends = [e for _, e in intervals]
        self.pre_start: list[int] = []
        self.pre_end: list[int] = []
        running = 0
        for s, e in intervals:
            self.pre_start.append(running)
            running += e - s
            self.pre_end.append(running)
        self.total = running


class _Chunk:
    """64 weeks of the index: each week's intervals (a template or a special week), the
    open time before each week, and every interval of the chunk in one sorted run (as
    instants, with the open time after each, counted from the chunk's start, and each
    one's ``zero``: its start less the open time before it, to which an open time that
    ends in it is added), so that an instant is placed with one binary search. ``full``:
    the calendar is open throughout the chunk (a 24/7 calendar away from its holidays),
    so that open time within it is real time (see :meth:`Engine.add_each` and
    :meth:`Engine.between`).
    """

    __slots__ = (
        "cum",
        "end",
        "ends",
        "full",
        "index",
        "pre_end",
        "start",
        "starts",
        "total",
        "weeks",
        "zero",
    )

    def __init__(self, start: int, weeks: list[_Week], index: int) -> None:
        self.start = start
        self.end = start + _CHUNK_US
        self.index = index
        self.weeks = weeks
        self.cum = cum = [0]
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.zero: list[int] = []
        self.pre_end: list[int] = []
        running = 0
        week_start = start
        for week in weeks:
            for s, e in zip(week.starts, week.ends, strict=True):
                self.starts.append(week_start + s)
                self.ends.append(week_start + e)
                self.zero.append(week_start + s - running)
                running += e - s
                self.pre_end.append(running)
            cum.append(running)
            week_start += WEEK_US
        self.total = running
        # The intervals are disjoint and within the chunk: open time equal to its length
        # leaves no microsecond closed.
        self.full = running == _CHUNK_US


# The chunk found last before any is: it starts long after any instant a datetime can
# name (year 9999 is below 2**58 microseconds), so it holds none.
_NO_CHUNK = _Chunk(2**64, [], 0)


def _out_of_range(path: str, what: str) -> CalendarError:
    return CalendarError(
        (Problem(path, f"{what} falls outside the supported years 1800 to 2999"),)
    )


def _check_walk(chunks: int, path: str) -> None:
    """Raise when an add or subtract would look more than :data:`_WALK_CHUNKS` ahead."""
    if chunks > _WALK_CHUNKS:
        raise CalendarError.at(
            path,
            "the result lies more than 36 years (1,920 weeks) of calendar time away; "
            "a business duration that long is refused, not searched for",
        )


def _check_index(index: int, path: str) -> None:
    """Raise unless chunk ``index`` lies within the supported years (with margins)."""
    start = _ANCHOR + index * _CHUNK_US
    if start - 2 * _MARGIN_US < MIN_US or start + _CHUNK_US + 2 * _MARGIN_US > MAX_US:
        raise _out_of_range(path, "the computation")


# The instants whose chunks _check_index accepts: from the start of the first such chunk
# to the end of the last, worked out from its two conditions (a check of the bounds
# themselves is in the tests).
_ADD_LOW = _ANCHOR - (_ANCHOR - MIN_US - 2 * _MARGIN_US) // _CHUNK_US * _CHUNK_US
_ADD_HIGH = _ANCHOR + ((MAX_US - 2 * _MARGIN_US - _ANCHOR) // _CHUNK_US) * _CHUNK_US


class Engine:
    """Answers business-time questions for one calendar, in integer microseconds UTC."""

    def __init__(self, calendar: CalendarRules) -> None:
        self._calendar = calendar
        self._zones = sorted(zones_of(calendar), key=lambda z: z.key)
        # Zones whose UTC offset changes: only those are scanned for changes.
        self._changing = [z for z in self._zones if fixed_epoch(z) is None]
        self._exceptions = list(exception_nodes(calendar))
        # No offset ever changes and no exception applies: every week is the one
        # template, so every chunk is the same and runs of chunks are multiplied out.
        self._uniform = not self._changing and not self._exceptions
        self._rule_days = RuleDays()  # each holiday rule expanded once, for this index
        self._chunks: dict[int, _Chunk] = {}
        # The chunk _split() found last: an instant in it is split with one division.
        # Replaced whole, so a reader in another thread sees an old chunk or a new one,
        # each right for its own instants.
        self._last_chunk = _NO_CHUNK
        # The start add_each() located last, with its chunk, chunk index and open time
        # from the chunk's start (clocks of one case share starts). Replaced whole, as
        # _last_chunk is; a chunk, once built, never changes.
        self._last_start: tuple[int, _Chunk, int, int] = (-1, _NO_CHUNK, 0, 0)
        self._templates: dict[tuple[int, ...], _Week] = {}

    # --- index -------------------------------------------------------------------------

    def _chunk(self, index: int, path: str) -> _Chunk:
        chunk = self._chunks.get(index)
        if chunk is None:
            _check_index(index, path)
            chunk = self._chunks[index] = self._build(index)
        return chunk

    def _build(self, index: int) -> _Chunk:
        start = _ANCHOR + index * _CHUNK_US
        end = start + _CHUNK_US
        special: set[int] = set()

        def mark(lo: int, hi: int) -> None:
            first = max(0, (lo - start) // WEEK_US)
            last = min(_CHUNK_WEEKS - 1, (hi - start) // WEEK_US)
            special.update(range(first, last + 1))

        for zone in self._changing:
            for change in _offset_changes(zone, start):
                mark(change - _SAMPLE_US - _MARGIN_US, change + _MARGIN_US)
        first_day = _utc_date(start - _MARGIN_US)
        last_day = _utc_date(end + _MARGIN_US)
        for _zone, holidays, extras in self._exceptions:
            days = [d for h in holidays for d in h.days_in(first_day, last_day, self._rule_days)]
            days.extend(x.on for x in extras if first_day <= x.on <= last_day)
            for day in days:
                midnight = (datetime.combine(day, time()) - _EPOCH_NAIVE) // _ONE_US
                mark(midnight - 2 * DAY_US, midnight + 4 * DAY_US)

        weeks: list[_Week] = []
        for k in range(_CHUNK_WEEKS):
            week_start = start + k * WEEK_US
            if k in special:
                weeks.append(_week_from(self._calendar, week_start, self._rule_days))
                continue
            key = tuple(offset_us(week_start, zone) for zone in self._zones)
            template = self._templates.get(key)
            if template is None:
                template = self._templates[key] = _week_from(
                    self._calendar, week_start, self._rule_days
                )
            weeks.append(template)
        return _Chunk(start, weeks, index)

    def _split(self, us: int, path: str) -> tuple[_Chunk, int, int, int]:
        """Chunk, chunk index, week index within the chunk, offset within the week."""
        chunk = self._last_chunk  # the chunk found last: the times of one case are near
        if not chunk.start <= us < chunk.end:
            chunk = self._find(us, path)
        k, rel = divmod(us - chunk.start, WEEK_US)
        return chunk, chunk.index, k, rel

    def _locate(self, us: int, path: str) -> tuple[_Chunk, int, int]:
        """Chunk, chunk index, and the open time from the chunk's start to ``us``."""
        chunk = self._last_chunk  # as in _split
        if not chunk.start <= us < chunk.end:
            chunk = self._find(us, path)
        i = bisect_right(chunk.starts, us) - 1
        if i < 0:
            return chunk, chunk.index, 0
        end = chunk.ends[i]
        return chunk, chunk.index, chunk.pre_end[i] - (end - us if us < end else 0)

    def _find(self, us: int, path: str) -> _Chunk:
        """The chunk holding ``us`` (built if need be), kept as the chunk found last."""
        index = (us - _ANCHOR) // _CHUNK_US
        chunk = self._chunks.get(index)
        if chunk is None:  # _chunk() builds it; a built one is read here, at less cost
            chunk = self._chunk(index, path)
        self._last_chunk = chunk
        return chunk

    def _next_chunk(self, index: int, step: int, path: str) -> tuple[_Chunk, int]:
        empty = 0
        while True:
            index += step
            chunk = self._chunk(index, path)
            if chunk.total:
                return chunk, index
            empty += 1
            if empty > _EMPTY_CHUNKS_LIMIT:
                raise CalendarError.at(
                    path, "the calendar has no open time for more than 25 years in a row"
                )

    # --- queries -----------------------------------------------------------------------

    def is_open(self, us: int, path: str) -> bool:
        chunk, _, k, rel = self._split(us, path)
        week = chunk.weeks[k]
        i = bisect_right(week.starts, rel) - 1
        return i >= 0 and rel < week.ends[i]

    def between(self, a: int, b: int, path: str) -> int:
        if b < a:
            return -self.between(b, a, path)
        chunk = self._last_chunk
        if chunk.full and chunk.start <= a and b < chunk.end:
            return b - a  # open throughout the chunk: open time is real time
        chunk_a, index_a, cum_a = self._locate(a, path)
        _, index_b, cum_b = self._locate(b, path)
        if index_a == index_b:
            return cum_b - cum_a
        total = chunk_a.total - cum_a + cum_b
        if self._uniform:
            return total + (index_b - index_a - 1) * chunk_a.total
        for index in range(index_a + 1, index_b):
            total += self._chunk(index, path).total
        return total

    def add(self, a: int, duration: int, path: str) -> int:
        """Earliest instant at which ``duration`` of open time has passed since ``a``."""
        return self.add_each(a, (duration,), path)[0]

    def add_each(self, a: int, durations: Iterable[int], path: str) -> list[int]:
        """``add(a, d, path)`` for each duration ``d``: the earliest instant at which
        ``d`` of open time has passed since ``a``.

        A clock adds its target and every warning to the one start: locating the start
        in the index (its chunk, week and open time so far) is done once for them all.
        A start in the chunk found last, when the calendar is open throughout that chunk,
        reaches every duration that ends within it in real time: ``a + d``. The start
        located last is kept: an add from the same start (another clock of the case)
        does not locate it again.
        """
        found: list[int] = []
        chunk: _Chunk | None = None
        index = base = 0
        last = self._last_chunk
        # The end before which ``a + d`` is the answer (none: the plain path).
        full_to = last.end if last.full and last.start <= a else a
        for d in durations:
            if d.__class__ is not int or d <= 0:
                check_duration(d, path)  # an int of zero or more; a float is refused
                found.append(a)  # a zero duration never reads the index
                continue
            end = a + d
            if end < full_to:
                found.append(end)
                continue
            if not _ADD_LOW <= end < _ADD_HIGH:  # business time <= real time
                _check_index((end - _ANCHOR) // _CHUNK_US, path)
            if chunk is None:
                located = self._last_start
                if located[0] == a:
                    _, chunk, index, base = located
                else:
                    chunk, index, base = self._locate(a, path)
                    self._last_start = (a, chunk, index, base)
            target = base + d
            at = chunk
            if target > at.total:  # beyond the start's chunk: on to the chunk it ends in
                at, _, target = self._walk(at, index, target, path)
            # The interval in which it is reached, from whose zero the target is added.
            found.append(at.zero[bisect_left(at.pre_end, target)] + target)
        return found

    def _walk(self, chunk: _Chunk, index: int, target: int, path: str) -> tuple[_Chunk, int, int]:
        """The chunk in which the open time counted from ``chunk``'s start reaches
        ``target`` (more than ``chunk`` holds), its index, and the target counted from
        its own start."""
        first = index
        if self._uniform:  # every chunk alike: jump, closed form
            skip = (target - 1) // chunk.total
            _check_walk(skip, path)
            target -= skip * chunk.total
            index += skip
            chunk = self._chunk(index, path)
        while target > chunk.total:
            target -= chunk.total
            _check_walk(index + 1 - first, path)
            chunk, index = self._next_chunk(index, 1, path)
        return chunk, index, target

    def subtract(self, b: int, duration: int, path: str) -> int:
        """Latest instant from which ``duration`` of open time passes before ``b``."""
        if duration <= 0:
            return b
        _check_index((b - duration - _ANCHOR) // _CHUNK_US, path)  # business <= real time
        chunk, index, target = self._locate(b, path)
        target -= duration
        first = index
        if self._uniform and target < 0:  # every chunk alike: jump, closed form
            skip = (-target - 1) // chunk.total  # target + skip * total stays below zero
            target += skip * chunk.total
            index -= skip
        while target < 0:
            _check_walk(first - index + 1, path)
            chunk, index = self._next_chunk(index, -1, path)
            target += chunk.total
        k = bisect_right(chunk.cum, target) - 1
        if k == _CHUNK_WEEKS:  # flat to the chunk's end: the run resumes after it
            return self.next_open(chunk.start + _CHUNK_US, path)
        week = chunk.weeks[k]
        rem = target - chunk.cum[k]
        j = bisect_right(week.pre_start, rem) - 1
        return chunk.start + k * WEEK_US + week.starts[j] + rem - week.pre_start[j]

    def next_open(self, us: int, path: str) -> int:
        """``us`` itself if open, else the start of the next open interval."""
        chunk, index, k, rel = self._split(us, path)
        week = chunk.weeks[k]
        i = bisect_right(week.starts, rel) - 1
        if i >= 0 and rel < week.ends[i]:
            return us
        if i + 1 < len(week.starts):
            return chunk.start + k * WEEK_US + week.starts[i + 1]
        # First later week of this chunk with open time, else the next chunk with some.
        later = bisect_right(chunk.cum, chunk.cum[k + 1])
        if later > _CHUNK_WEEKS:
            chunk, index = self._next_chunk(index, 1, path)
            later = bisect_right(chunk.cum, 0)
        k = later - 1
        return chunk.start + k * WEEK_US + chunk.weeks[k].starts[0]

    def next_close(self, us: int, path: str) -> int | None:
        """End of the open run holding ``next_open(us)``; ``None`` if that run lasts
        longer than :data:`STRETCH_HORIZON_US` (25 years) from its opening."""
        opening = self.next_open(us, path)
        limit = opening + STRETCH_HORIZON_US
        chunk, index, k, rel = self._split(opening, path)
        week = chunk.weeks[k]
        end = week.ends[bisect_right(week.starts, rel) - 1]
        while end >= WEEK_US:  # open to the week's end: the run goes on into the next
            if chunk.start + (k + 1) * WEEK_US > limit:
                return None
            k += 1
            if k == _CHUNK_WEEKS:
                index += 1
                chunk, k = self._chunk(index, path), 0
            week = chunk.weeks[k]
            if not week.starts or week.starts[0] != 0:
                end = 0
                break
            end = week.ends[0]
        close = chunk.start + k * WEEK_US + end
        return None if close > limit else close

    def end_of_day(self, us: int, days: int) -> int:
        """The close of the business day ``days`` business days after ``us``'s local date
        (``days=0``: that date, or the next with open time); see
        ``BusinessCalendar.end_of_business_day``."""
        zone = self._calendar.zone
        day = to_datetime(us, zone).date()
        if days == 0:
            day = self._open_day_from(day)
        for _ in range(days):
            day = self._open_day_from(day + timedelta(days=1))
        start = self._midnight(day)
        end = self._midnight(day + timedelta(days=1))
        return self.add(start, self.between(start, end, "at"), "at")

    def _midnight(self, day: date) -> int:
        return resolve_wall(self._calendar.zone, datetime.combine(day, time()), closing=False)

    def _open_day_from(self, day: date) -> date:
        return to_datetime(self.next_open(self._midnight(day), "days"), self._calendar.zone).date()


_ONE_US = timedelta(microseconds=1)


@lru_cache(maxsize=4096)
def _offset_changes(zone: ZoneInfo, start: int) -> tuple[int, ...]:
    """The samples at which ``zone``'s UTC offset differs from the sample before, around
    the chunk that begins at ``start``.

    A pure function of the zone and the instant, kept for the process: every calendar
    in a zone (and every calendar a policy or a test builds) reads the same scan.
    """
    end = start + _CHUNK_US
    found = []
    t = start - _MARGIN_US - _SAMPLE_US
    previous = offset_us(t, zone)
    while t < end + _MARGIN_US:
        t += _SAMPLE_US
        offset = offset_us(t, zone)
        if offset != previous:
            found.append(t)
            previous = offset
    return tuple(found)


def _utc_date(us: int) -> date:
    return (_EPOCH_NAIVE + timedelta(microseconds=us)).date()


def _week_from(calendar: CalendarRules, week_start: int, rules: RuleDays) -> _Week:
    intervals = evaluate(calendar, week_start, week_start + WEEK_US, rules=rules)
    return _Week([(s - week_start, e - week_start) for s, e in intervals])
