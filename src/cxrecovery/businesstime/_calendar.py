"""Business calendars: a time zone, weekly hours, holidays, and their combinations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from cxrecovery.businesstime._engine import Engine
from cxrecovery.businesstime._evaluate import has_open_time
from cxrecovery.businesstime._model import WEEKDAYS, ExtraOpening, Holiday
from cxrecovery.businesstime._reading import (
    Hours,
    convert_holidays,
    convert_hours,
    convert_openings,
    raise_problems,
    read_document,
    read_holiday,
    read_list,
)
from cxrecovery.businesstime._time import (
    _ONE_US,
    HIGHEST_US,
    LOWEST_US,
    MAX_US,
    MIN_US,
    check_duration,
    check_instant,
    check_start,
    duration_us,
    fixed_epoch,
    in_zone,
    instant_us,
    load_zone,
    to_datetime,
)
from cxrecovery.errors import CalendarError, Problem

__all__ = ["BusinessCalendar", "in_zone"]


def _read_calendar(value: object, path: str) -> tuple[BusinessCalendar | None, list[Problem]]:
    if isinstance(value, BusinessCalendar):
        return value, []
    if not isinstance(value, Mapping):
        return None, [Problem(path, f"expected a calendar mapping, got {value!r}")]
    try:
        return BusinessCalendar.from_dict(value), []
    except CalendarError as exc:
        return None, [p.under(path) for p in exc.problems]


def _convert_all_of(value: Any) -> tuple[BusinessCalendar, ...]:
    parsed, problems = read_list(value, "all_of", _read_calendar)
    raise_problems(problems)
    return parsed


def _convert_any_of(value: Any) -> tuple[BusinessCalendar, ...]:
    parsed, problems = read_list(value, "any_of", _read_calendar)
    raise_problems(problems)
    return parsed


def _convert_none_of(value: Any) -> tuple[BusinessCalendar, ...]:
    parsed, problems = read_list(value, "none_of", _read_calendar)
    raise_problems(problems)
    return parsed


@attrs.frozen
class BusinessCalendar:
    """When a team is open: weekly hours in an IANA time zone, holidays, extra openings.

    Open time is the weekly ``hours`` (or, for a combined calendar, the intersection
    ``all_of`` or the union ``any_of`` of other calendars), minus the ``none_of``
    calendars, minus ``holidays``, plus ``extra_openings``.  Holidays and extra openings
    are read in this calendar's zone; every part of a combination keeps its own zone.
    Results are returned in ``time_zone``.

    Business time is real elapsed time inside windows whose boundaries are wall-clock
    times: a 22:00-06:00 shift lasts 7 h on the night clocks spring forward.  A window
    boundary inside a spring-forward gap is the moment the clock jumps; inside a
    fall-back fold, an opening takes the first occurrence and a closing the second.

    Example::

        team = BusinessCalendar(
            "America/New_York",
            hours={"mon-fri": ["09:00-17:00"]},
            holidays=["2026-12-25", {"date": "2026-12-24", "closed": "13:00-24:00"}],
        )

    Raises:
        UnknownTimeZoneError: ``time_zone`` is not an IANA zone.
        CalendarError: any part is malformed, windows overlap or are given twice, or
            the calendar is never open.

    .. versionadded:: 0.1.0
    """

    time_zone: str
    hours: Hours | None = attrs.field(default=None, kw_only=True, converter=convert_hours)
    holidays: tuple[Holiday, ...] = attrs.field(
        default=(), kw_only=True, converter=convert_holidays
    )
    extra_openings: tuple[ExtraOpening, ...] = attrs.field(
        default=(), kw_only=True, converter=convert_openings
    )
    all_of: tuple[BusinessCalendar, ...] = attrs.field(
        default=(), kw_only=True, converter=_convert_all_of
    )
    any_of: tuple[BusinessCalendar, ...] = attrs.field(
        default=(), kw_only=True, converter=_convert_any_of
    )
    none_of: tuple[BusinessCalendar, ...] = attrs.field(
        default=(), kw_only=True, converter=_convert_none_of
    )
    _zone: ZoneInfo = attrs.field(init=False, eq=False, repr=False, hash=False)
    _engine: Engine | None = attrs.field(
        init=False, default=None, eq=False, repr=False, hash=False
    )
    # The epoch in ``_zone`` when that zone never changes its offset (UTC): then an
    # instant becomes a datetime by one addition, not a conversion (see datetime_at).
    _epoch: datetime | None = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        zone = load_zone(self.time_zone)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_epoch", fixed_epoch(zone))
        sources = [
            name for name in ("hours", "all_of", "any_of") if getattr(self, name) not in (None, ())
        ]
        if len(sources) != 1:
            raise CalendarError.at(
                "hours",
                f"give exactly one of hours, all_of, any_of; got {sources or 'none'}",
            )
        if not has_open_time(self):
            raise CalendarError.at(
                "hours" if self.hours is not None else sources[0],
                f"the calendar in {self.time_zone!r} is never open; give at least one "
                f"opening window",
            )

    # --- plain data ----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from its plain-data form, reporting every problem at once.

        Keys: ``time_zone`` (IANA name), ``hours`` (``{"mon-fri": ["09:00-17:00"]}``;
        a window whose end is before its start crosses midnight), or ``all_of`` /
        ``any_of`` (lists of calendar mappings), optional ``none_of``, ``holidays``
        (``"2026-12-25"``, ``{"date": ..., "closed": "13:00-24:00"}``,
        ``{"yearly": "12-25"}``, ``{"rrule": "FREQ=YEARLY;BYMONTH=1;BYDAY=3MO"}``) and
        ``extra_openings`` (``{"date": ..., "open": "10:00-14:00"}``).

        Raises:
            CalendarError: with one :class:`~cxrecovery.errors.Problem` per mistake,
                each with its path (``hours.mon[1]``, ``holidays[2].closed``).

        .. versionadded:: 0.1.0
        """
        zone_name, fields = read_document(data, _read_calendar)
        return cls(zone_name, **fields)

    def to_dict(self) -> dict[str, Any]:
        """Return the plain-data form; ``from_dict(cal.to_dict()) == cal``.

        .. versionadded:: 0.1.0
        """
        data: dict[str, Any] = {"time_zone": self.time_zone}
        if self.hours is not None:
            data["hours"] = {
                WEEKDAYS[day]: [str(w) for w in windows]
                for day, windows in enumerate(self.hours)
                if windows
            }
        for key in ("all_of", "any_of", "none_of"):
            parts: tuple[BusinessCalendar, ...] = getattr(self, key)
            if parts:
                data[key] = [part.to_dict() for part in parts]
        if self.holidays:
            data["holidays"] = [h.to_data() for h in self.holidays]
        if self.extra_openings:
            data["extra_openings"] = [x.to_data() for x in self.extra_openings]
        return data

    @classmethod
    def always_open(cls, time_zone: str) -> BusinessCalendar:
        """A calendar open around the clock, every day (24/7), in ``time_zone``.

        .. versionadded:: 0.1.0
        """
        return cls(time_zone, hours={"daily": ["00:00-24:00"]})

    # --- combination ---------------------------------------------------------------------

    def __and__(self, other: BusinessCalendar) -> BusinessCalendar:
        """Open when both are open (team hours ∩ contract hours), in this calendar's zone."""
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return BusinessCalendar(self.time_zone, all_of=(self, other))

    def __or__(self, other: BusinessCalendar) -> BusinessCalendar:
        """Open when either is open, in this calendar's zone."""
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return BusinessCalendar(self.time_zone, any_of=(self, other))

    def __sub__(self, other: BusinessCalendar) -> BusinessCalendar:
        """Open when this one is open and ``other`` is not."""
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self.minus(other)

    def minus(self, *closures: BusinessCalendar | Holiday | date | str) -> BusinessCalendar:
        """Return this calendar closed during ``closures``.

        Args:
            closures: holidays (:class:`Holiday`, dates, ISO date strings), added to this
                calendar's holidays, or calendars whose open time is taken away.

        Raises:
            CalendarError: a closure is none of those.

        .. versionadded:: 0.1.0
        """
        calendars = tuple(c for c in closures if isinstance(c, BusinessCalendar))
        days, problems = read_list(
            [c for c in closures if not isinstance(c, BusinessCalendar)],
            "closures",
            read_holiday,
        )
        raise_problems(problems)
        result = attrs.evolve(self, holidays=self.holidays + days) if days else self
        if calendars:
            result = BusinessCalendar(self.time_zone, all_of=(result,), none_of=calendars)
        return result

    # --- arithmetic ----------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone as a :class:`zoneinfo.ZoneInfo`."""
        return self._zone

    @property
    def _index(self) -> Engine:
        engine = self._engine
        if engine is None:
            engine = Engine(self)
            object.__setattr__(self, "_engine", engine)
        return engine

    # --- instant level -----------------------------------------------------------------
    # The same arithmetic as the datetime methods, on instants: integer microseconds
    # since 1970-01-01 00:00 UTC. For a caller that computes many times from one start
    # and compares them (the engine's clocks): no datetime is made until one is shown.

    @property
    def fixed_offset(self) -> bool:
        """Whether the calendar's zone has one UTC offset for all time (UTC, ``Etc/GMT+5``).

        Then the calendar's datetimes compare by wall clock exactly as they do as
        instants, and :meth:`datetime_at` is a single addition.

        .. versionadded:: 0.2.0
        """
        return self._epoch is not None

    def instant(self, moment: datetime, path: str = "at") -> int:
        """Return ``moment`` as an instant (microseconds since the epoch, UTC).

        A nonexistent wall time is read as :pep:`495` and the standard library read it,
        whatever ``tzinfo`` library the value comes from.

        Raises:
            CalendarError: naming ``path``: ``moment`` is not an aware datetime, or lies
                outside the supported years 1801 to 2998.

        .. versionadded:: 0.2.0
        """
        us = instant_us(moment, path)
        if not LOWEST_US <= us < HIGHEST_US:
            raise CalendarError.at(path, f"{moment!r} is outside the supported years 1801 to 2998")
        return us

    def datetime_at(self, instant: int) -> datetime:
        """Return ``instant`` as an aware datetime in the calendar's zone.

        Raises:
            CalendarError: ``instant`` is not an integer within the years 1800 to 2999.

        .. versionadded:: 0.2.0
        """
        if instant.__class__ is not int or not MIN_US <= instant < MAX_US:
            check_instant(instant, "instant")
        epoch = self._epoch
        if epoch is not None:  # one addition: several times cheaper than astimezone
            return epoch + _ONE_US * instant
        return to_datetime(instant, self._zone)

    def datetimes_at(self, instants: Iterable[int]) -> list[datetime]:
        """:meth:`datetime_at` of each instant, in order.

        .. versionadded:: 0.2.0
        """
        if instants.__class__ is not list:
            instants = list(instants)
        lowest, highest = MIN_US, MAX_US
        for us in instants:
            if us.__class__ is not int or not lowest <= us < highest:
                check_instant(us, f"instants[{instants.index(us)}]")
        epoch = self._epoch
        if epoch is not None:
            # a multiple of one microsecond is the same timedelta, made at less cost
            one = _ONE_US
            return [epoch + one * us for us in instants]
        zone = self._zone
        return [to_datetime(us, zone) for us in instants]

    def add_us(self, start: int, duration: int) -> int:
        """:meth:`add` on instants: the earliest instant at which ``duration``
        microseconds of business time have passed since instant ``start``.

        Raises:
            CalendarError: an argument is not an integer, ``start`` is outside the
                supported years, ``duration`` is negative, or the result lies too far.

        .. versionadded:: 0.2.0
        """
        if start.__class__ is not int or not LOWEST_US <= start < HIGHEST_US:
            check_start(start, "start")
        if duration.__class__ is not int or duration < 0:
            check_duration(duration, "duration")
        return self._index.add(start, duration, "duration")

    def add_each_us(self, start: int, durations: Iterable[int]) -> list[int]:
        """:meth:`add_us` from one start for each duration, in order.

        A clock adds its target and every warning threshold to one start: the start is
        located in the index once for them all.

        .. versionadded:: 0.2.0
        """
        if start.__class__ is not int or not LOWEST_US <= start < HIGHEST_US:
            check_start(start, "start")
        checked = durations if isinstance(durations, (list, tuple)) else list(durations)
        for d in checked:
            if d.__class__ is not int or d < 0:
                check_duration(d, f"durations[{list(checked).index(d)}]")
        return self._index.add_each(start, checked, "duration")

    def subtract_us(self, end: int, duration: int) -> int:
        """:meth:`subtract` on instants.

        .. versionadded:: 0.2.0
        """
        check_start(end, "end")
        return self._index.subtract(end, check_duration(duration, "duration"), "duration")

    def between_us(self, start: int, end: int) -> int:
        """:meth:`between` on instants, in microseconds (negative when ``end`` is first).

        .. versionadded:: 0.2.0
        """
        if start.__class__ is not int or not LOWEST_US <= start < HIGHEST_US:
            check_start(start, "start")
        if end.__class__ is not int or not LOWEST_US <= end < HIGHEST_US:
            check_start(end, "end")
        return self._index.between(start, end, "end")

    def next_open_us(self, at: int) -> int:
        """:meth:`next_open` on instants.

        .. versionadded:: 0.2.0
        """
        check_start(at, "at")
        return self._index.next_open(at, "at")

    def _duration(self, value: object, path: str) -> int:
        us = duration_us(value, path)
        if us < 0:
            raise CalendarError.at(
                path, f"negative duration {value!r}; business durations are zero or more"
            )
        return us

    def is_open(self, at: datetime) -> bool:
        """Whether the calendar is open at instant ``at`` (windows are ``[start, end)``).

        Raises:
            CalendarError: ``at`` is not an aware datetime.

        .. versionadded:: 0.1.0
        """
        return self._index.is_open(self.instant(at, "at"), "at")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Return the earliest instant at which ``duration`` of business time has passed.

        ``add(t, timedelta(0))`` is ``t`` itself (in this calendar's zone), open or not.
        A deadline that lands on a closing time is that closing time: 16:59 plus one
        business minute on a 09:00-17:00 day is 17:00 the same day.

        Raises:
            CalendarError: ``start`` is not an aware datetime, ``duration`` is not a
                timedelta or is negative (use :meth:`subtract`).

        .. versionadded:: 0.1.0
        """
        # (instant(), _duration() and datetime_at() written out where they pass: a call
        # each costs more than the work; each is called to raise its error.)
        a = instant_us(start, "start")
        if not LOWEST_US <= a < HIGHEST_US:
            self.instant(start, "start")
        d = duration // _ONE_US if duration.__class__ is timedelta else -1
        if d < 0:
            d = self._duration(duration, "duration")
        # (The index's add_each, as its add calls it: the index built on first use.)
        us = (self._engine or self._index).add_each(a, (d,), "duration")[0]
        epoch = self._epoch
        if epoch is not None and MIN_US <= us < MAX_US:
            return epoch + _ONE_US * us
        return self.datetime_at(us)

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """Return the latest instant from which ``duration`` of business time ends at ``end``.

        Mirror of :meth:`add`: 10:00 minus two business hours on 09:00-17:00 days is
        16:00 the business day before.

        Raises:
            CalendarError: ``end`` is not an aware datetime, ``duration`` is not a
                timedelta or is negative.

        .. versionadded:: 0.1.0
        """
        b = self.instant(end, "end")
        d = self._duration(duration, "duration")
        return self.datetime_at(self._index.subtract(b, d, "duration"))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Return the business time from ``start`` to ``end``.

        Negative when ``end`` is before ``start``, like subtracting datetimes:
        ``between(b, a) == -between(a, b)``.

        Raises:
            CalendarError: either argument is not an aware datetime.

        .. versionadded:: 0.1.0
        """
        a = self.instant(start, "start")
        b = self.instant(end, "end")
        return _ONE_US * self._index.between(a, b, "end")

    def next_open(self, at: datetime) -> datetime:
        """Return ``at`` if the calendar is open then, else the next opening instant.

        .. versionadded:: 0.1.0
        """
        us = self.instant(at, "at")
        return self.datetime_at(self._index.next_open(us, "at"))

    def next_close(self, at: datetime) -> datetime | None:
        """Return the end of the open stretch that holds :meth:`next_open` of ``at``.

        Open stretches that touch are one stretch.  ``None`` when the calendar stays
        open for the next 25 years (a 24/7 calendar without holidays).

        .. versionadded:: 0.1.0
        """
        us = self.instant(at, "at")
        found = self._index.next_close(us, "at")
        return None if found is None else to_datetime(found, self._zone)

    def end_of_business_day(self, at: datetime, *, days: int = 1) -> datetime:
        """Return the close of the business day ``days`` business days after ``at``'s date.

        A business day is a local date of this calendar with open time.  ``days=0`` is
        the business day of ``at`` itself, or the next business day if ``at``'s date has
        no open time.  The close of a day is the last instant of that date at which the
        calendar closes, or midnight if it is still open then (an overnight shift).

        Raises:
            CalendarError: ``days`` is not a non-negative integer.

        .. versionadded:: 0.1.0
        """
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise CalendarError.at("days", f"expected a whole number >= 0, got {days!r}")
        us = self.instant(at, "at")
        return to_datetime(self._index.end_of_day(us, days), self._zone)
