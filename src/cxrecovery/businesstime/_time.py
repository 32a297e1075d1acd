"""Instants as integer microseconds in UTC, and exact wall-time resolution.

Every computation in :mod:`cxrecovery.businesstime` runs on integers: an instant is the
number of microseconds since 1970-01-01 00:00 UTC.  Wall times (a window opening at
09:00 local) are turned into instants here, with explicit rules for the two places where
a wall time is not one instant:

* a wall time inside a spring-forward *gap* does not exist; a window boundary there
  maps to the transition instant (the moment the clock jumps);
* a wall time inside a fall-back *fold* happens twice; a boundary that opens something
  takes the first occurrence and a boundary that closes something takes the second.

The offset that a ``tzinfo`` reports for a nonexistent wall time differs between
libraries (python-dateutil 2.9 reports the offset after the transition, 3.0 and later
the one before, like the standard library), so it is never used as an answer: gaps are
found by round trip and their transition instant by bisection over real instants.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from cxrecovery.errors import CalendarError, UnknownTimeZoneError

__all__ = [
    "DAY_US",
    "HIGHEST_US",
    "LOWEST_US",
    "MAX_US",
    "MIN_US",
    "SECOND_US",
    "WEEK_US",
    "check_duration",
    "check_instant",
    "check_start",
    "duration_us",
    "fixed_epoch",
    "fixed_offset_us",
    "in_zone",
    "instant_us",
    "load_zone",
    "local_date",
    "resolve_wall",
    "to_datetime",
]

SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US
WEEK_US = 7 * DAY_US

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
_TRUSTED_TZINFO = (zoneinfo.ZoneInfo, timezone)
_EXACT_TZINFO = frozenset(_TRUSTED_TZINFO)
# The instants the index covers (years 1800 to 2999), and those a calendar computes
# from (years 1801 to 2998: a margin inside the index).
MIN_US = (datetime(1800, 1, 1) - _EPOCH_NAIVE) // _ONE_US
MAX_US = (datetime(3000, 1, 1) - _EPOCH_NAIVE) // _ONE_US
LOWEST_US = MIN_US + WEEK_US * 80
HIGHEST_US = MAX_US - WEEK_US * 80


@lru_cache(maxsize=256)
def _load_zone_cached(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def load_zone(name: object, path: str = "time_zone") -> zoneinfo.ZoneInfo:
    """Return the :class:`zoneinfo.ZoneInfo` for an IANA name.

    Raises:
        UnknownTimeZoneError: ``name`` is not a zone the IANA database knows.
        CalendarError: ``name`` is not a string.
    """
    if not isinstance(name, str):
        raise CalendarError.at(path, f"expected an IANA time zone name, got {name!r}")
    try:
        return _load_zone_cached(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZoneError.at(
            path, f"unknown time zone {name!r}; expected an IANA name like 'Europe/Paris'"
        ) from None


def to_datetime(us: int, zone: tzinfo) -> datetime:
    """Return the aware datetime for instant ``us`` in ``zone``."""
    return (_EPOCH + _ONE_US * us).astimezone(zone)


# IANA names of zones whose UTC offset never changes (UTC itself and its aliases, and
# the Etc/GMT+N family), matched by name: a ZoneInfo does not say whether it has
# transitions.
_FIXED_ZONE = re.compile(
    r"(Etc/)?(UTC|UCT|Universal|Zulu|GMT|GMT[+-]?0|Greenwich)|Etc/GMT[+-]\d{1,2}"
)


def fixed_epoch(zone: zoneinfo.ZoneInfo) -> datetime | None:
    """The epoch shown in ``zone`` when ``zone`` has one UTC offset for all time.

    In such a zone, adding a timedelta to an aware datetime (wall-time arithmetic) is
    the same as adding it in UTC, so ``fixed_epoch(zone) + timedelta(microseconds=us)``
    equals ``to_datetime(us, zone)`` field for field (fold 0 included), several times
    faster: no conversion through ``astimezone``. ``None`` for any other zone.
    """
    if not _FIXED_ZONE.fullmatch(str(zone.key)):
        return None
    epoch = _EPOCH.astimezone(zone)
    # Defensive: a zone database where such a name has transitions takes the slow path.
    for year in (1801, 1900, 1970, 2000, 2100, 2998):
        if datetime(year, 6, 1, tzinfo=zone).utcoffset() != epoch.utcoffset():
            return None
        if datetime(year, 1, 1, tzinfo=zone).utcoffset() != epoch.utcoffset():
            return None
    return epoch


@lru_cache(maxsize=256)
def fixed_offset_us(zone: zoneinfo.ZoneInfo) -> int | None:
    """The one UTC offset of ``zone`` in microseconds, if it never changes (else ``None``)."""
    epoch = fixed_epoch(zone)
    offset = None if epoch is None else epoch.utcoffset()
    return None if offset is None else offset // _ONE_US


def _wall_us(wall: datetime) -> int:
    """Wall time (naive) as microseconds since the naive epoch."""
    return (wall - _EPOCH_NAIVE) // _ONE_US


def _local_wall_us(us: int, zone: tzinfo) -> int:
    """The wall time that ``zone`` shows at instant ``us``, as naive microseconds."""
    local = (_EPOCH + _ONE_US * us).astimezone(zone)
    return _wall_us(local.replace(tzinfo=None))


def _transition_in(zone: tzinfo, wall_us: int, lo: int, hi: int) -> int:
    """First instant in ``(lo, hi]`` whose wall time is later than ``wall_us``.

    ``lo`` must show a wall time before ``wall_us`` and ``hi`` one after it; in between
    the wall time only moves forward (the bracket holds a single gap), so bisection over
    whole seconds finds the transition (transitions fall on whole seconds).
    """
    lo_s = lo // SECOND_US
    hi_s = -(-hi // SECOND_US)
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if _local_wall_us(mid * SECOND_US, zone) > wall_us:
            hi_s = mid
        else:
            lo_s = mid
    return hi_s * SECOND_US


def resolve_wall(zone: zoneinfo.ZoneInfo, wall: datetime, *, closing: bool) -> int:
    """Return the instant at which ``zone`` shows the naive wall time ``wall``.

    Args:
        zone: the zone the wall time is read in.
        wall: a naive datetime.
        closing: ``True`` for a boundary that closes something (the end of a window or
            of a closure): in a fold it takes the second occurrence.  Opening
            boundaries take the first.  In a gap both map to the transition instant.
    """
    first = _wall_to_us_with_offset(wall, zone, fold=0)
    second = _wall_to_us_with_offset(wall, zone, fold=1)
    if first == second:
        return first
    if first < second:  # fold: the wall time happens twice
        return second if closing else first
    # gap: stdlib zoneinfo gives fold=0 the offset before the transition, which puts
    # `first` after the transition and `second` before it; bisect between them.
    return _transition_in(zone, _wall_us(wall), second, first)


def _wall_to_us_with_offset(wall: datetime, zone: zoneinfo.ZoneInfo, *, fold: int) -> int:
    offset = wall.replace(tzinfo=zone, fold=fold).utcoffset()
    assert offset is not None  # a ZoneInfo always answers
    return _wall_us(wall) - offset // _ONE_US


def instant_us(value: object, path: str) -> int:
    """Turn a timezone-aware datetime into microseconds since the epoch, in UTC.

    A wall time that does not exist in the value's zone (inside a spring-forward gap)
    is read as :pep:`495` and the standard library read it, whatever ``tzinfo`` library
    the value comes from: ``fold=0`` uses the offset before the transition, ``fold=1``
    the offset after it.

    Raises:
        CalendarError: ``value`` is not a datetime, or is naive.
    """
    if value.__class__ is datetime and value.tzinfo.__class__ in _EXACT_TZINFO:
        # The common case, checked exactly (no subclass can change how it answers): a
        # zone or fixed offset always gives an offset, read by aware subtraction in C.
        # The timedelta's fields make the microseconds at less cost than ``// _ONE_US``.
        span = value - _EPOCH
        return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    if not isinstance(value, datetime):
        raise CalendarError.at(path, f"expected a timezone-aware datetime, got {value!r}")
    tz = value.tzinfo
    if tz is None:
        raise CalendarError.at(
            path, f"naive datetime {value.isoformat()!r}; give a tzinfo or an offset"
        )
    try:
        offset = value.utcoffset()
    except Exception as exc:  # a host's tzinfo may fail in any way
        raise CalendarError.at(
            path, f"the tzinfo of {value!r} gave no UTC offset ({exc})"
        ) from None
    if offset is None:
        raise CalendarError.at(
            path, f"naive datetime {value.isoformat()!r}; give a tzinfo or an offset"
        )
    if isinstance(tz, _TRUSTED_TZINFO):
        # Aware subtraction reads the same utcoffset() (fold included), in C: the wall
        # time less the offset, several times faster than taking the wall time apart.
        return (value - _EPOCH) // _ONE_US
    us = _wall_us(value.replace(tzinfo=None)) - offset // _ONE_US
    return _normalise_foreign(value, tz, us)


def _normalise_foreign(value: datetime, tz: tzinfo, us: int) -> int:
    """Check a third-party tzinfo's answer by round trip; re-resolve nonexistent times."""
    wall = _wall_us(value.replace(tzinfo=None))
    if _local_wall_us(us, tz) == wall:
        return us
    # Nonexistent wall time: find the transition from real instants only.
    transition = _transition_in(tz, wall, wall - 2 * DAY_US, wall + 2 * DAY_US)
    before = wall - (_local_wall_us(transition - SECOND_US, tz) - (transition - SECOND_US))
    after = wall - (_local_wall_us(transition, tz) - transition)
    return after if value.fold else before


def duration_us(value: object, path: str) -> int:
    """Turn a :class:`~datetime.timedelta` into integer microseconds.

    Raises:
        CalendarError: ``value`` is not a timedelta.
    """
    if value.__class__ is timedelta:
        # Exactly a timedelta (no subclass can change its fields): its fields make the
        # microseconds at less cost than ``// _ONE_US``, as in :func:`instant_us`.
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if not isinstance(value, timedelta):
        raise CalendarError.at(path, f"expected a timedelta, got {value!r}")
    return value // _ONE_US


def local_date(us: int, zone: tzinfo) -> date:
    """The calendar date that ``zone`` shows at instant ``us``."""
    return to_datetime(us, zone).date()


def check_instant(value: object, path: str) -> None:
    """Raise unless ``value`` is an ``int`` instant within the years 1800 to 2999."""
    if value.__class__ is not int or not MIN_US <= value < MAX_US:
        raise CalendarError.at(
            path,
            f"expected an instant in microseconds within the years 1800 to 2999, got {value!r}",
        )


def check_start(value: object, path: str) -> None:
    """Raise unless ``value`` is an ``int`` instant a calendar computes from (1801-2998)."""
    if value.__class__ is not int or not LOWEST_US <= value < HIGHEST_US:
        raise CalendarError.at(
            path,
            f"expected an instant in microseconds within the years 1801 to 2998, got {value!r}",
        )


def check_duration(value: object, path: str) -> int:
    """``value`` if it is an ``int`` business duration of zero or more, else raise."""
    if value.__class__ is not int or value < 0:
        raise CalendarError.at(
            path, f"expected a business duration in microseconds, zero or more, got {value!r}"
        )
    return value


def in_zone(moment: datetime, time_zone: str) -> datetime:
    """Return ``moment`` as it reads in ``time_zone`` (a customer's own zone).

    Deadlines are computed on the team's calendar; this renders one for the customer.

    Raises:
        CalendarError: ``moment`` is not an aware datetime, or it falls outside the years
            1 to 9999 in ``time_zone``.
        UnknownTimeZoneError: ``time_zone`` is not an IANA zone.

    .. versionadded:: 0.1.0
    """
    zone = load_zone(time_zone, "time_zone")
    try:
        return to_datetime(instant_us(moment, "moment"), zone)
    except OverflowError:
        raise CalendarError.at(
            "moment",
            f"{moment.isoformat()} cannot be shown in {time_zone}: it falls outside the "
            "years 1 to 9999 there",
        ) from None
