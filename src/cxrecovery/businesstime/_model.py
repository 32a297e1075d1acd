"""The parts of a business calendar: opening windows, holidays and extra openings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs

from cxrecovery.businesstime._rules import Rule, RuleDays, parse_rule
from cxrecovery.errors import CalendarError, Problem

__all__ = ["WEEKDAYS", "ExtraOpening", "Holiday", "Window", "parse_weekly_hours"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_S = 86_400
_CLOCK_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


def _parse_clock(text: str, *, allow_24: bool) -> int | None:
    match = _CLOCK_RE.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if minutes > 59 or seconds > 59:
        return None
    total = hours * 3600 + minutes * 60 + seconds
    if total < _DAY_S or (allow_24 and total == _DAY_S):
        return total
    return None


def _format_clock(seconds: int) -> str:
    if seconds > _DAY_S:  # the end of an overnight window
        seconds -= _DAY_S
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}"
    return f"{text}:{secs:02d}" if secs else text


def _check_window(instance: Window, attribute: object, value: Any) -> None:
    del attribute, value
    start, end = instance.start, instance.end
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start < _DAY_S:
        raise CalendarError.at("start", f"expected seconds in [0, 86400), got {start!r}")
    if not isinstance(end, int) or isinstance(end, bool):
        raise CalendarError.at("end", f"expected seconds after midnight, got {end!r}")
    if end == start:
        raise CalendarError.at(
            "end", f"zero-length window {instance}; use '00:00-24:00' for a whole day"
        )
    if not start < end <= start + _DAY_S or (end == start + _DAY_S and start != 0):
        raise CalendarError.at(
            "end",
            f"window end {end!r} must be after start {start!r} and less than 24 h later "
            f"(only '00:00-24:00' lasts a whole day)",
        )


@attrs.frozen
class Window:
    """A span of wall-clock time within a day, such as ``09:00-17:00``.

    ``start`` and ``end`` are seconds after the local midnight of the day the window
    belongs to.  A window whose end is earlier than its start in ``HH:MM-HH:MM`` form
    crosses midnight (``22:00-06:00`` belongs to the day it starts on and ends at 06:00
    the next day); it is stored with ``end`` above 86,400.  ``00:00-24:00`` is the whole
    day.  A window lasts more than zero and at most 24 hours.

    .. versionadded:: 0.1.0
    """

    start: int = attrs.field(validator=_check_window)
    end: int = attrs.field(validator=_check_window)

    @classmethod
    def parse(cls, text: object, path: str = "") -> Window:
        """Read a window written ``HH:MM-HH:MM`` (seconds optional, ``24:00`` as an end).

        Raises:
            CalendarError: the text is not a window, or the window is empty.
        """
        if isinstance(text, Window):
            return text
        if not isinstance(text, str):
            raise CalendarError.at(path, f"expected a window like '09:00-17:00', got {text!r}")
        parts = text.split("-")
        start = _parse_clock(parts[0], allow_24=False) if len(parts) == 2 else None
        end = _parse_clock(parts[1], allow_24=True) if len(parts) == 2 else None
        if start is None or end is None:
            raise CalendarError.at(
                path,
                f"expected a window like '09:00-17:00' (24-hour clock, '24:00' only as an "
                f"end), got {text!r}",
            )
        if end == start:
            raise CalendarError.at(
                path, f"zero-length window {text!r}; use '00:00-24:00' for a whole day"
            )
        if end < start:
            end += _DAY_S
        return cls(start, end)

    @classmethod
    def of(cls, start: time, end: time) -> Window:
        """Build a window from two :class:`~datetime.time` values (end before start: overnight).

        Raises:
            CalendarError: the two times are equal.
        """
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
                raise CalendarError.at(
                    name, f"expected a naive time with whole seconds, got {value!r}"
                )
        return cls.parse(f"{start.isoformat()}-{end.isoformat()}")

    @property
    def duration(self) -> timedelta:
        """The window's length on a day without a clock change."""
        return timedelta(seconds=self.end - self.start)

    def __str__(self) -> str:
        return f"{_format_clock(self.start)}-{_format_clock(self.end)}"


def _window_converter(value: Any) -> Window | None:
    if value is None or isinstance(value, Window):
        return value
    return Window.parse(value, "closed")


def _check_holiday(instance: Holiday, attribute: object, value: Any) -> None:
    del attribute, value
    given = [
        name
        for name, v in (("on", instance.on), ("yearly", instance.yearly), ("rule", instance.rule))
        if v is not None
    ]
    if len(given) != 1:
        raise CalendarError.at(
            "", f"a holiday needs exactly one of on, yearly, rule; got {given or 'none'}"
        )
    if instance.on is not None and (
        not isinstance(instance.on, date) or isinstance(instance.on, datetime)
    ):
        raise CalendarError.at("on", f"expected a date, got {instance.on!r}")
    if instance.yearly is not None:
        month_day = instance.yearly
        if (
            not isinstance(month_day, tuple)
            or len(month_day) != 2
            or not all(isinstance(x, int) for x in month_day)
            or not _valid_month_day(*month_day)
        ):
            raise CalendarError.at("yearly", f"expected (month, day), got {month_day!r}")
    if not isinstance(instance.name, str):
        raise CalendarError.at("name", f"expected a string, got {instance.name!r}")


def _valid_month_day(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # a leap year, so 02-29 is accepted
    except ValueError:
        return False
    return True


@attrs.frozen
class Holiday:
    """A closure of a whole local day or part of one, once or recurring.

    Give exactly one of ``on`` (a date), ``yearly`` (``(month, day)``, every year) or
    ``rule`` (an RFC 5545 recurrence rule in a restricted grammar: ``FREQ`` of
    ``YEARLY``, ``MONTHLY``, ``WEEKLY`` or ``DAILY``, ``INTERVAL``, ``COUNT``,
    ``UNTIL``, ``BYMONTH``, ``BYMONTHDAY``, ``BYDAY``, ``BYSETPOS``, ``WKST``, and an
    optional plain ``DTSTART``; a rule without ``DTSTART`` is anchored at 1900-01-01).
    Reading a rule never touches the file system: there is no ``TZID``, the calendar's
    own zone applies.  ``closed`` is the closed part of the day (``None``: the whole
    local calendar day, midnight to midnight).

    Raises:
        CalendarError: naming the part of the holiday that is wrong.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Rules are read by cxrecovery's own restricted grammar, not ``rrulestr``.
    """

    on: date | None = attrs.field(default=None, validator=_check_holiday)
    yearly: tuple[int, int] | None = attrs.field(default=None, kw_only=True)
    rule: str | None = attrs.field(default=None, kw_only=True)
    closed: Window | None = attrs.field(default=None, kw_only=True, converter=_window_converter)
    name: str = attrs.field(default="", kw_only=True)
    _parsed: Rule | None = attrs.field(init=False, default=None, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.rule is not None:
            object.__setattr__(self, "_parsed", parse_rule(self.rule, "rule"))

    def dates(self, first: date, last: date) -> Iterator[date]:
        """Yield the dates this holiday falls on from ``first`` to ``last`` inclusive.

        A rule is expanded over that span only (a rule with ``COUNT``, from its
        ``DTSTART``): the work is bounded by the span, whatever the rule.
        """
        yield from self.days_in(first, last, None)

    def days_in(self, first: date, last: date, rules: RuleDays | None) -> Iterator[date]:
        """:meth:`dates`, with a rule's days read from ``rules`` (expanded once there)."""
        if self.on is not None:
            if first <= self.on <= last:
                yield self.on
        elif self.yearly is not None:
            month, day = self.yearly
            for year in range(first.year, last.year + 1):
                if _valid_day(year, month, day):
                    found = date(year, month, day)
                    if first <= found <= last:
                        yield found
        elif self._parsed is not None:
            if rules is None:
                yield from self._parsed.days(first, last)
            else:
                yield from rules.days(self._parsed, first, last)

    def to_data(self) -> str | dict[str, Any]:
        """Return the plain-data form read back by :meth:`BusinessCalendar.from_dict`."""
        if self.on is not None and self.closed is None and not self.name:
            return self.on.isoformat()
        data: dict[str, Any] = {}
        if self.on is not None:
            data["date"] = self.on.isoformat()
        elif self.yearly is not None:
            data["yearly"] = f"{self.yearly[0]:02d}-{self.yearly[1]:02d}"
        else:
            data["rrule"] = self.rule
        if self.closed is not None:
            data["closed"] = str(self.closed)
        if self.name:
            data["name"] = self.name
        return data


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _check_opening(instance: ExtraOpening, attribute: object, value: Any) -> None:
    del attribute, value
    if not isinstance(instance.on, date) or isinstance(instance.on, datetime):
        raise CalendarError.at("on", f"expected a date, got {instance.on!r}")
    if not isinstance(instance.window, Window):
        raise CalendarError.at("window", f"expected a Window, got {instance.window!r}")


def _opening_window(value: Any) -> Window:
    return Window.parse(value, "window")


@attrs.frozen
class ExtraOpening:
    """A one-off opening on a given local date (a Saturday shift, a release night).

    Extra openings win over holidays: the open time of a calendar is its weekly hours,
    minus its holidays, plus its extra openings.

    .. versionadded:: 0.1.0
    """

    on: date = attrs.field(validator=_check_opening)
    window: Window = attrs.field(converter=_opening_window, validator=_check_opening)

    def to_data(self) -> dict[str, Any]:
        """Return the plain-data form read back by :meth:`BusinessCalendar.from_dict`."""
        return {"date": self.on.isoformat(), "open": str(self.window)}


# --- plain data --------------------------------------------------------------------------


def _day_keys(key: object) -> list[int] | None:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < 7:
        return [key]
    if not isinstance(key, str):
        return None
    text = key.strip().lower()
    if text == "daily":
        return list(range(7))
    if "-" in text:
        first, _, last = text.partition("-")
        if first in WEEKDAYS and last in WEEKDAYS:
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last)
            return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(b + 1)]
        return None
    return [WEEKDAYS.index(text)] if text in WEEKDAYS else None


def parse_weekly_hours(
    value: object, path: str
) -> tuple[tuple[tuple[Window, ...], ...], list[Problem]]:
    """Read ``{"mon-fri": ["09:00-17:00"], "sat": [...]}`` into seven window tuples.

    Keys are ``mon`` … ``sun``, ranges like ``mon-fri``, ``daily``, or 0 (Monday) to 6.
    Returns the windows per weekday (sorted) and the problems found, each with its path.
    """
    problems: list[Problem] = []
    days: list[list[Window]] = [[] for _ in range(7)]
    if not isinstance(value, Mapping):
        problems.append(Problem(path, f"expected a mapping of weekday to windows, got {value!r}"))
        return tuple(() for _ in range(7)), problems
    for key, windows in value.items():
        where = f"{path}.{key}"
        indexes = _day_keys(key)
        if indexes is None:
            problems.append(
                Problem(where, f"unknown weekday {key!r}; expected mon..sun, 'mon-fri', daily")
            )
            continue
        if isinstance(windows, str | Window) or not isinstance(windows, Sequence):
            problems.append(Problem(where, f"expected a list of windows, got {windows!r}"))
            continue
        for i, text in enumerate(windows):
            try:
                window = Window.parse(text, f"{where}[{i}]")
            except CalendarError as exc:
                problems.extend(exc.problems)
                continue
            for day in indexes:
                days[day].append(window)
    result = tuple(tuple(sorted(d, key=lambda w: (w.start, w.end))) for d in days)
    return result, problems


def weekly_overlaps(hours: Sequence[Sequence[Window]], path: str) -> list[Problem]:
    """Problems for windows of the weekly hours that overlap (touching is fine)."""
    spans: list[tuple[int, int, str]] = []
    for day, windows in enumerate(hours):
        for window in windows:
            start = day * _DAY_S + window.start
            spans.append((start, day * _DAY_S + window.end, f"{WEEKDAYS[day]} {window}"))
    week = 7 * _DAY_S
    # A Sunday overnight window runs into Monday: compare it with the next week too.
    spans.extend((s + week, e + week, label) for s, e, label in list(spans) if s < _DAY_S)
    spans.sort()
    problems: list[Problem] = []
    reported: set[tuple[str, str]] = set()
    for i, (_start, end, label) in enumerate(spans):
        for other_start, _other_end, other_label in spans[i + 1 :]:
            if other_start >= end:
                break
            pair = (label, other_label)
            if pair in reported:
                continue
            reported.add(pair)
            if label == other_label:
                problems.append(Problem(path, f"window {label!r} is given twice"))
            else:
                problems.append(Problem(path, f"window {other_label!r} overlaps window {label!r}"))
    return problems
