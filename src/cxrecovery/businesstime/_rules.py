"""Recurring holidays: a restricted RFC 5545 ``RRULE`` grammar and its bounded expansion.

A holiday rule names the *days* a calendar is closed, so only the rule parts that pick
days are read (RFC 5545, section 3.3.10):

* ``FREQ`` = ``YEARLY`` | ``MONTHLY`` | ``WEEKLY`` | ``DAILY`` (required);
* ``INTERVAL``, ``COUNT`` (at most :data:`MAX_COUNT`), ``UNTIL`` (a date or a floating
  date-time, no ``Z``);
* ``BYMONTH``, ``BYMONTHDAY`` (not with ``WEEKLY``), ``BYDAY`` (ordinals such as
  ``4TH`` or ``-1MO`` with ``MONTHLY`` and ``YEARLY`` only, not mixed with plain
  weekdays), ``BYSETPOS``, ``WKST``;
* an optional ``DTSTART:YYYYMMDD`` or ``DTSTART:YYYYMMDDTHHMMSS`` before the rule
  (``VALUE=DATE`` or ``VALUE=DATE-TIME`` allowed), read in the calendar's own zone.

Anything else (``TZID`` and every other parameter, ``RDATE``/``EXDATE``/``EXRULE``
lines, ``BYHOUR`` and finer parts, ``BYYEARDAY``, ``BYWEEKNO``) is refused with an
error naming the path.  Reading a rule never touches the file system or a time-zone
database.  The days produced are those :class:`dateutil.rrule.rrule` produces for the
same parts, including its reading of the defaults (a ``YEARLY`` rule with no day parts
recurs on ``DTSTART``'s month and day) and its two departures from the RFC: ``DTSTART``
is not an occurrence unless the rule picks it, and ``BYDAY`` and ``BYMONTHDAY`` both
have to match.

Expansion never iterates outside the span asked for: a rule without ``COUNT`` looks at
the days of that span only, so a rule that never matches (``BYMONTH=2;BYMONTHDAY=30``)
costs what the span costs and cannot run on.  A rule with ``COUNT`` is counted from its
``DTSTART`` up to the span's end, at most :data:`MAX_COUNT` occurrences.
"""

from __future__ import annotations

import calendar as _calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime

import attrs

from cxrecovery.errors import CalendarError

__all__ = ["MAX_COUNT", "RULE_ANCHOR", "Rule", "RuleDays", "parse_rule"]

RULE_ANCHOR = datetime(1900, 1, 1)
# DTSTART years: the years a calendar computes with (and a margin).
FIRST_YEAR, LAST_YEAR = 1800, 2999
_LAST = date(LAST_YEAR, 12, 31)
MAX_COUNT = 10_000
_MAX_TEXT = 1_000  # characters: a holiday rule is a line, not a document
_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS")
_KNOWN = (*_PARTS, "WKST")
_REFUSED_PARTS = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO", "BYEASTER")
_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?")
_NUMBER = re.compile(r"[+-]?\d{1,3}")
_WEEKDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_YEARLY, _MONTHLY, _WEEKLY, _DAILY = range(4)


@attrs.frozen(cache_hash=True)
class Rule:
    """A parsed holiday rule, with dateutil's defaults filled in from ``DTSTART``.

    Days are proleptic Gregorian ordinals (:meth:`datetime.date.toordinal`).
    """

    freq: int
    interval: int
    start: int  # the ordinal of DTSTART's date: no occurrence before it
    last: int | None  # the last ordinal UNTIL allows
    count: int | None
    months: frozenset[int] | None
    monthdays: frozenset[int] | None  # 1..31 and -31..-1
    weekdays: frozenset[int] | None  # plain BYDAY, Monday = 0
    nth: frozenset[tuple[int, int]] | None  # (weekday, ordinal) pairs
    setpos: tuple[int, ...] | None
    wkst: int

    def days(self, first: date, last: date) -> list[date]:
        """The dates the rule picks from ``first`` to ``last`` inclusive, in order."""
        lo, hi = first.toordinal(), last.toordinal()
        if self.count is not None:  # counted from DTSTART: expand from there
            found = list(self._ordinals(self.start, hi, limit=self.count))
            found = found[bisect_left(found, lo) :]
        else:
            found = list(self._ordinals(lo, hi, limit=None))
        return [date.fromordinal(n) for n in found]

    def _ordinals(self, lo: int, hi: int, *, limit: int | None) -> Iterator[int]:
        """Occurrences in ``[lo, hi]`` (and at or after DTSTART, at or before UNTIL)."""
        lo = max(lo, self.start)
        if self.last is not None:
            hi = min(hi, self.last)
        produced = 0
        for period in self._periods(lo, hi):
            for day in self._pick(period):
                if day < lo:
                    continue
                if day > hi:
                    return
                yield day
                produced += 1
                if limit is not None and produced >= limit:
                    return

    def _periods(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """First and last ordinal of each period, in INTERVAL's phase, meeting [lo, hi]."""
        if lo > hi:
            return
        step = self.interval
        begin = date.fromordinal(self.start)
        if self.freq == _DAILY:  # a month of days at a time; _pick keeps INTERVAL's phase
            first = date.fromordinal(lo)
            year, month = first.year, first.month
            while True:
                opening = date(year, month, 1).toordinal()
                if opening > hi:
                    return
                yield opening, opening + _calendar.monthrange(year, month)[1] - 1
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        elif self.freq == _WEEKLY:
            origin = self.start - (begin.weekday() - self.wkst) % 7
            week = lo - (date.fromordinal(lo).weekday() - self.wkst) % 7
            week += (origin - week) % (7 * step)
            for n in range(week, hi + 1, 7 * step):
                # dateutil's first week runs from DTSTART (BYSETPOS counts from there)
                yield max(n, self.start), n + 6
        elif self.freq == _MONTHLY:
            first = date.fromordinal(lo)
            origin = begin.year * 12 + begin.month - 1
            month = first.year * 12 + first.month - 1
            month += (origin - month) % step
            while True:
                year, index = divmod(month, 12)
                opening = date(year, index + 1, 1).toordinal()
                if opening > hi:
                    return
                yield opening, opening + _calendar.monthrange(year, index + 1)[1] - 1
                month += step
        else:
            year = date.fromordinal(lo).year
            year += (begin.year - year) % step
            while year <= date.fromordinal(hi).year:
                yield date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
                year += step

    def _pick(self, period: tuple[int, int]) -> list[int]:
        first, last = period
        chosen = sorted(
            {n for n in self._candidates(first, last) if first <= n <= last and self._matches(n)}
        )
        if self.freq == _DAILY:  # each day is its own set: BYSETPOS 1 or -1 keeps it
            step, start = self.interval, self.start
            keep = self.setpos is None or 1 in self.setpos or -1 in self.setpos
            return [n for n in chosen if (n - start) % step == 0] if keep else []
        if self.setpos is None or not chosen:
            return chosen
        picked = set()
        for pos in self.setpos:
            index = pos - 1 if pos > 0 else len(chosen) + pos
            if 0 <= index < len(chosen):
                picked.add(chosen[index])
        return sorted(picked)

    def _candidates(self, first: int, last: int) -> Iterable[int]:
        """A few days of the period that include every day it picks (checked after)."""
        if self.freq == _WEEKLY:
            return range(first, last + 1)  # at most seven days
        opening = date.fromordinal(first)
        if self.nth is not None and self.freq == _YEARLY and self.months is None:
            return _nth_days(self.nth, first, date(opening.year, 12, 31).toordinal())
        if self.freq != _YEARLY:  # a month (DAILY's days come a month at a time)
            months = [opening.month]
        else:
            months = sorted(self.months) if self.months is not None else list(range(1, 13))
        found: list[int] = []
        for month in months:
            start = date(opening.year, month, 1).toordinal()
            end = start + _calendar.monthrange(opening.year, month)[1] - 1
            if self.monthdays is not None:
                found.extend(start + d - 1 if d > 0 else end + d + 1 for d in self.monthdays)
            elif self.nth is not None:
                found.extend(_nth_days(self.nth, start, end))
            elif self.weekdays is not None:
                for weekday in self.weekdays:
                    found.extend(range(start + (weekday - (start - 1) % 7) % 7, end + 1, 7))
            else:
                found.extend(range(start, end + 1))
        return found

    def _matches(self, n: int) -> bool:
        day = date.fromordinal(n)
        if self.months is not None and day.month not in self.months:
            return False
        weekday = day.weekday()
        if self.weekdays is not None and weekday not in self.weekdays:
            return False
        if self.monthdays is not None or self.nth is not None:
            length = _calendar.monthrange(day.year, day.month)[1]
            if self.monthdays is not None and not (
                day.day in self.monthdays or day.day - length - 1 in self.monthdays
            ):
                return False
            if self.nth is not None:
                if self.freq == _YEARLY and self.months is None:  # ordinals within the year
                    position = n - date(day.year, 1, 1).toordinal()
                    size = 366 if _calendar.isleap(day.year) else 365
                else:  # ordinals within the month
                    position, size = day.day - 1, length
                forward = position // 7 + 1
                backward = -((size - 1 - position) // 7 + 1)
                if (weekday, forward) not in self.nth and (weekday, backward) not in self.nth:
                    return False
        return True


class RuleDays:
    """The days of a calendar's holiday rules, each rule expanded once per block of years.

    A block is :data:`BLOCK_YEARS` years; a query reads the blocks it overlaps, built on
    first use and kept (one :class:`RuleDays` per calendar index).  A rule with
    ``COUNT`` is expanded once, whole: from ``DTSTART`` to its last occurrence.
    """

    BLOCK_YEARS = 8

    def __init__(self) -> None:
        self._blocks: dict[tuple[Rule, int], list[date]] = {}

    def days(self, rule: Rule, first: date, last: date) -> list[date]:
        """The dates ``rule`` picks from ``first`` to ``last`` inclusive, in order."""
        if rule.count is not None:
            days = self._blocks.get((rule, -1))
            if days is None:
                days = self._blocks[rule, -1] = rule.days(date.fromordinal(rule.start), _LAST)
            return days[bisect_left(days, first) : bisect_right(days, last)]
        found: list[date] = []
        size = self.BLOCK_YEARS
        for block in range(first.year // size, last.year // size + 1):
            days = self._blocks.get((rule, block))
            if days is None:
                opening = date(max(block * size, 1), 1, 1)
                closing = date(min(block * size + size - 1, 9999), 12, 31)
                days = self._blocks[rule, block] = rule.days(opening, closing)
            found.extend(days[bisect_left(days, first) : bisect_right(days, last)])
        return found


# --- reading ---------------------------------------------------------------------------


def parse_rule(text: object, path: str) -> Rule:
    """Read a holiday rule written in the restricted ``RRULE`` grammar.

    Raises:
        CalendarError: naming ``path``, for anything outside the grammar.
    """
    if not isinstance(text, str):
        raise CalendarError.at(
            path, f"expected a recurrence rule like 'FREQ=YEARLY', got {text!r}"
        )
    if len(text) > _MAX_TEXT:
        raise CalendarError.at(
            path, f"a recurrence rule is at most {_MAX_TEXT} characters, got {len(text)}"
        )
    start: datetime | None = None
    body: str | None = None
    for line in text.upper().split():
        name, colon, value = line.partition(":")
        if not colon:
            name, value = "RRULE", line
        if name.startswith("DTSTART"):
            if start is not None:
                raise CalendarError.at(path, "DTSTART is given twice")
            start = _read_start(name, value, path)
        elif name == "RRULE":
            if body is not None:
                raise CalendarError.at(path, "a holiday takes one RRULE")
            body = value
        else:
            raise CalendarError.at(
                path,
                f"only DTSTART and RRULE are read in a holiday rule, not {name.split(';')[0]!r}",
            )
    if body is None:
        raise CalendarError.at(path, f"no RRULE in {text!r}; expected 'FREQ=YEARLY;...'")
    return _read_body(body, start or RULE_ANCHOR, path)


def _read_start(name: str, value: str, path: str) -> datetime:
    for parameter in name.split(";")[1:]:
        if parameter not in ("VALUE=DATE", "VALUE=DATE-TIME"):
            key = parameter.partition("=")[0]
            why = "the calendar's own time zone applies" if key == "TZID" else "not supported"
            raise CalendarError.at(path, f"DTSTART takes no {key} parameter: {why}")
    stamp = _read_stamp(value, path, "DTSTART")
    if not FIRST_YEAR <= stamp.year <= LAST_YEAR:
        raise CalendarError.at(
            path, f"DTSTART {value!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return stamp


def _read_stamp(value: str, path: str, what: str) -> datetime:
    match = _STAMP.fullmatch(value)
    if match is None:
        raise CalendarError.at(
            path,
            f"{what} must be a date YYYYMMDD or a local date-time YYYYMMDDTHHMMSS "
            f"(no Z, no TZID: the calendar's own time zone applies), got {value!r}",
        )
    try:
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise CalendarError.at(path, f"{what} {value!r} is not a valid date") from None


def _read_body(body: str, start: datetime, path: str) -> Rule:
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, equals, value = item.partition("=")
        if not equals or not value:
            raise CalendarError.at(path, f"expected NAME=VALUE parts, got {item!r}")
        if name in _REFUSED_PARTS:
            raise CalendarError.at(path, f"{name} is not read in a holiday rule (it closes days)")
        if name not in _KNOWN:
            raise CalendarError.at(
                path, f"unknown rule part {name!r}; expected one of {', '.join(_KNOWN)}"
            )
        if name in parts:
            raise CalendarError.at(path, f"{name} is given twice")
        parts[name] = value
    freq_text = parts.get("FREQ")
    if freq_text not in _FREQS:
        raise CalendarError.at(
            path,
            f"FREQ must be one of {', '.join(_FREQS)} (a holiday closes days), got {freq_text!r}",
        )
    freq = _FREQS.index(freq_text)
    interval = _int(parts.get("INTERVAL", "1"), path, "INTERVAL", 1, 999)
    count = None if "COUNT" not in parts else _int(parts["COUNT"], path, "COUNT", 1, MAX_COUNT)
    last = None
    if "UNTIL" in parts:
        if count is not None:
            raise CalendarError.at(path, "give COUNT or UNTIL, not both")
        until = _read_stamp(parts["UNTIL"], path, "UNTIL")
        last = until.toordinal() - (start.time() > until.time())
    months = _ints(parts, "BYMONTH", path, 1, 12, negative=False)
    monthdays = _ints(parts, "BYMONTHDAY", path, 1, 31, negative=True)
    setpos = _ints(parts, "BYSETPOS", path, 1, 366, negative=True)
    weekdays, nth = _read_byday(parts.get("BYDAY"), freq, path)
    wkst = _DAYS.index(parts["WKST"]) if parts.get("WKST") in _DAYS else 0
    if "WKST" in parts and parts["WKST"] not in _DAYS:
        raise CalendarError.at(
            path, f"WKST must be one of {', '.join(_DAYS)}, got {parts['WKST']!r}"
        )
    if freq == _WEEKLY and monthdays is not None:
        raise CalendarError.at(path, "BYMONTHDAY does not go with FREQ=WEEKLY (RFC 5545)")
    if monthdays is None and weekdays is None and nth is None:  # dateutil's defaults
        if freq == _YEARLY:
            months = months or frozenset({start.month})
            monthdays = frozenset({start.day})
        elif freq == _MONTHLY:
            monthdays = frozenset({start.day})
        elif freq == _WEEKLY:
            weekdays = frozenset({start.weekday()})
    return Rule(
        freq=freq,
        interval=interval,
        start=start.toordinal(),
        last=last,
        count=count,
        months=months,
        monthdays=monthdays,
        weekdays=weekdays,
        nth=nth,
        setpos=None if setpos is None else tuple(sorted(setpos)),
        wkst=wkst,
    )


def _int(text: str, path: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or len(text) > len(str(high)) or not low <= int(text) <= high:
        raise CalendarError.at(
            path, f"{name} must be a whole number {low} to {high}, got {text!r}"
        )
    return int(text)


def _ints(
    parts: dict[str, str], name: str, path: str, low: int, high: int, *, negative: bool
) -> frozenset[int] | None:
    if name not in parts:
        return None
    values: set[int] = set()
    for item in parts[name].split(","):
        number = int(item) if _NUMBER.fullmatch(item) else 0
        if not low <= abs(number) <= high or (number < 0 and not negative):
            span = f"{low} to {high}" + (f" or -{high} to -{low}" if negative else "")
            raise CalendarError.at(path, f"{name} values must be {span}, got {item!r}")
        values.add(number)
    return frozenset(values)


def _read_byday(
    text: str | None, freq: int, path: str
) -> tuple[frozenset[int] | None, frozenset[tuple[int, int]] | None]:
    if text is None:
        return None, None
    plain: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in text.split(","):
        match = _WEEKDAY.fullmatch(item)
        ordinal = int(match[1]) if match is not None and match[1] else 0
        if match is None or abs(ordinal) > 53 or (match[1] and ordinal == 0):
            raise CalendarError.at(
                path, f"BYDAY values are weekdays like MO or 4TH or -1FR, got {item!r}"
            )
        if ordinal:
            nth.add((_DAYS.index(match[2]), ordinal))
        else:
            plain.add(_DAYS.index(match[2]))
    if nth and freq in (_WEEKLY, _DAILY):
        raise CalendarError.at(
            path, "BYDAY ordinals (like 4TH) go with FREQ=MONTHLY or YEARLY only (RFC 5545)"
        )
    if nth and plain:
        raise CalendarError.at(
            path, "BYDAY mixes weekdays with and without ordinals; write two holidays"
        )
    return (frozenset(plain) or None), (frozenset(nth) or None)


def _nth_days(nth: Iterable[tuple[int, int]], first: int, last: int) -> list[int]:
    """The days in ``[first, last]`` that are the n-th (or n-th last) of their weekday."""
    found = []
    for weekday, n in nth:
        if n > 0:
            day = first + (n - 1) * 7 + (weekday - (first - 1) % 7) % 7
        else:
            day = last + (n + 1) * 7 - ((last - 1) % 7 - weekday) % 7
        if first <= day <= last:
            found.append(day)
    return found
