"""Business-time arithmetic against a brute-force oracle that walks minute by minute.

The oracle shares nothing with the library but the written semantics: it resolves wall
times by trying every UTC offset the zone uses nearby (and, in a gap, by scanning for
the first minute shown after the wall time), marks open minutes in an array, and counts.
Spans start a few days before a UTC-offset change of awkward zones, so they cross it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.errors import CalendarError

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kathmandu",
    "Pacific/Chatham",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT = 15  # minutes: window boundaries on quarter hours hit 02:00, 02:30, 02:45 gaps
DAY_SLOTS = 24 * 60 // SLOT
WEEK_SLOTS = 7 * DAY_SLOTS
SPAN_DAYS = 15


# --- the oracle --------------------------------------------------------------------------


def local_wall(zone: ZoneInfo, u: int) -> datetime:
    return datetime.fromtimestamp(u, zone).replace(tzinfo=None)


def oracle_resolve(zone: ZoneInfo, wall: datetime, *, closing: bool) -> int:
    base = int(wall.replace(tzinfo=UTC).timestamp())
    offsets = {
        int(datetime.fromtimestamp(base + k * 3 * 3600, zone).utcoffset().total_seconds())
        for k in range(-10, 11)
    }
    candidates = sorted(base - off for off in offsets if local_wall(zone, base - off) == wall)
    if candidates:
        return candidates[-1] if closing else candidates[0]
    lo = min(base - off for off in offsets)
    hi = max(base - off for off in offsets)
    for u in range(lo - lo % 60, hi + 120, 60):
        if local_wall(zone, u) > wall:
            return u
    raise AssertionError("no transition found")  # pragma: no cover


class Oracle:
    """Open minutes of a calendar spec over ``[lo, hi)`` (UTC seconds, minute aligned)."""

    def __init__(self, open_minutes: bytearray, lo: int) -> None:
        self.open = open_minutes
        self.lo = lo

    @classmethod
    def build(cls, spec: dict, lo: int, hi: int) -> Oracle:
        zone = ZoneInfo(spec["zone"])
        minutes = bytearray((hi - lo) // 60)
        first = local_wall(zone, lo).date() - timedelta(days=2)
        days = [first + timedelta(days=n) for n in range((hi - lo) // 86400 + 5)]

        def span(day: date, start_min: int, end_min: int) -> tuple[int, int]:
            midnight = datetime.combine(day, time())
            return (
                oracle_resolve(zone, midnight + timedelta(minutes=start_min), closing=False),
                oracle_resolve(zone, midnight + timedelta(minutes=end_min), closing=True),
            )

        def paint(s: int, e: int, value: int) -> None:
            for u in range(max(s, lo), min(e, hi), 60):
                minutes[(u - lo) // 60] = value

        for day in days:
            for s, e in spec["windows"][day.weekday()]:
                paint(*span(day, s, e), 1)
        for day, window in spec["holidays"]:
            s, e = window or (0, 1440)
            paint(*span(day, s, e), 0)
        for day, (s, e) in spec["extras"]:
            paint(*span(day, s, e), 1)
        return cls(minutes, lo)

    def __and__(self, other: Oracle) -> Oracle:
        return Oracle(
            bytearray(a & b for a, b in zip(self.open, other.open, strict=True)), self.lo
        )

    def __or__(self, other: Oracle) -> Oracle:
        return Oracle(
            bytearray(a | b for a, b in zip(self.open, other.open, strict=True)), self.lo
        )

    def index(self, u: int) -> int:
        return (u - self.lo) // 60

    def between(self, a: int, b: int) -> int:
        return 60 * sum(self.open[self.index(a) : self.index(b)])

    def add(self, a: int, minutes: int) -> int | None:
        if minutes == 0:
            return a
        count = 0
        for i in range(self.index(a), len(self.open)):
            count += self.open[i]
            if count == minutes:
                return self.lo + (i + 1) * 60
        return None

    def next_open(self, a: int) -> int | None:
        for i in range(self.index(a), len(self.open)):
            if self.open[i]:
                return self.lo + i * 60
        return None


# --- strategies --------------------------------------------------------------------------


@cache
def transitions(zone_name: str) -> tuple[int, ...]:
    """UTC seconds of the zone's offset changes (2024-2026, and 1986 for Kathmandu)."""
    zone = ZoneInfo(zone_name)
    years = (1985, 1987) if zone_name == "Asia/Kathmandu" else (2024, 2027)
    u = int(datetime(years[0], 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(years[1], 1, 1, tzinfo=UTC).timestamp())
    found = []
    previous = datetime.fromtimestamp(u, zone).utcoffset()
    while u < end:
        u += 3600
        offset = datetime.fromtimestamp(u, zone).utcoffset()
        if offset != previous:
            t = u - 3600
            while datetime.fromtimestamp(t, zone).utcoffset() == previous:
                t += 60
            found.append(t)
            previous = offset
    return tuple(found)


@st.composite
def specs(draw: st.DrawFn, zone_name: str, first_day: date, hot_day: int = 6) -> dict:
    """Weekly windows (split, overnight, whole-day), holidays and extra openings.

    Boundaries favour the wall times of DST gaps and folds on ``hot_day`` (the weekday
    of the transition the span crosses) and the day before it.
    """
    interesting = sorted(
        {
            d % 7 * DAY_SLOTS + int(h * 60) // SLOT
            for d in (hot_day - 1, hot_day)
            for h in (0, 0.5, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 3.75, 23, 23.5)
        }
    )
    slot = st.one_of(st.integers(0, WEEK_SLOTS - 1), st.sampled_from(interesting))
    points = sorted(set(draw(st.lists(slot, min_size=2, max_size=10))))
    if len(points) % 2:
        points.pop()
    rotation = draw(st.sampled_from([0, 0, DAY_SLOTS, 5 * DAY_SLOTS, 6 * DAY_SLOTS + 40]))
    windows: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for p, q in zip(points[::2], points[1::2], strict=True):
        longest = DAY_SLOTS if p % DAY_SLOTS == 0 else DAY_SLOTS - 1
        length = min(q - p, longest)
        p = (p + rotation) % WEEK_SLOTS
        day, start = divmod(p, DAY_SLOTS)
        if start and length == DAY_SLOTS:
            length -= 1
        windows[day].append((start * SLOT, (start + length) * SLOT))
    holidays = []
    for _ in range(draw(st.integers(0, 2))):
        day = first_day + timedelta(days=draw(st.integers(0, SPAN_DAYS - 3)))
        window = None
        if draw(st.booleans()):
            start = draw(st.integers(0, DAY_SLOTS - 1))
            length = draw(st.integers(1, DAY_SLOTS if start == 0 else DAY_SLOTS - 1))
            window = (start * SLOT, (start + length) * SLOT)
        holidays.append((day, window))
    extras = []
    for _ in range(draw(st.integers(0, 1))):
        day = first_day + timedelta(days=draw(st.integers(0, SPAN_DAYS - 3)))
        start = draw(st.integers(0, DAY_SLOTS - 1))
        length = draw(st.integers(1, DAY_SLOTS if start == 0 else DAY_SLOTS - 1))
        extras.append((day, (start * SLOT, (start + length) * SLOT)))
    return {"zone": zone_name, "windows": windows, "holidays": holidays, "extras": extras}


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def window_text(window: tuple[int, int]) -> str:
    s, e = window
    return f"{clock_text(s)}-{clock_text(e if e <= 1440 else e - 1440)}"


def to_calendar(spec: dict) -> BusinessCalendar:
    hours = {WEEKDAYS[d]: [window_text(w) for w in ws] for d, ws in enumerate(spec["windows"])}
    holidays = [
        day.isoformat()
        if window is None
        else {"date": day.isoformat(), "closed": window_text(window)}
        for day, window in spec["holidays"]
    ]
    extras = [{"date": day.isoformat(), "open": window_text(w)} for day, w in spec["extras"]]
    return BusinessCalendar.from_dict(
        {"time_zone": spec["zone"], "hours": hours, "holidays": holidays, "extra_openings": extras}
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[BusinessCalendar, Oracle, int, int]:
    """A calendar, its oracle over a span crossing a DST change, and the span start."""
    zone_name = draw(st.sampled_from(ZONES))
    anchor = draw(st.sampled_from(transitions(zone_name)))
    lo = anchor - draw(st.integers(1, 6 * 24)) * 3600 - draw(st.integers(0, 59)) * 60
    lo -= 86400
    hi = lo + SPAN_DAYS * 86400
    zone = ZoneInfo(zone_name)
    hot_day = local_wall(zone, anchor).weekday()
    spec = draw(specs(zone_name, local_wall(zone, lo).date(), hot_day))
    assume(any(spec["windows"]) or spec["extras"])
    return to_calendar(spec), Oracle.build(spec, lo, hi), lo + 86400, hi


def instant(calendar: BusinessCalendar, u: int) -> datetime:
    return datetime.fromtimestamp(u, calendar.zone)


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


# --- properties --------------------------------------------------------------------------


@given(case=cases(), data=st.data())
def test_add_matches_the_minute_walk(case, data) -> None:
    calendar, oracle, start, _hi = case
    a = start + data.draw(st.integers(0, 3 * 1440)) * 60
    for minutes in data.draw(st.lists(st.integers(0, 4000), min_size=1, max_size=4)):
        expected = oracle.add(a, minutes)
        if expected is None:
            continue
        assert expected == seconds(calendar.add(instant(calendar, a), timedelta(minutes=minutes)))


@given(case=cases(), data=st.data())
def test_between_matches_the_minute_walk(case, data) -> None:
    calendar, oracle, start, _hi = case
    a = start + data.draw(st.integers(-1440, 6 * 1440)) * 60
    b = start + data.draw(st.integers(-1440, 12 * 1440)) * 60
    expected = oracle.between(min(a, b), max(a, b)) * (1 if a <= b else -1)
    got = calendar.between(instant(calendar, a), instant(calendar, b))
    assert timedelta(seconds=expected) == got


@given(case=cases(), data=st.data())
def test_next_open_and_is_open_match_the_minute_walk(case, data) -> None:
    calendar, oracle, start, _hi = case
    a = start + data.draw(st.integers(-1440, 8 * 1440)) * 60
    assert bool(oracle.open[oracle.index(a)]) == calendar.is_open(instant(calendar, a))
    expected = oracle.next_open(a)
    if expected is not None:
        assert expected == seconds(calendar.next_open(instant(calendar, a)))


@given(case=cases(), data=st.data())
def test_subtract_matches_the_minute_walk(case, data) -> None:
    calendar, oracle, start, _hi = case
    b = start + data.draw(st.integers(2 * 1440, 12 * 1440)) * 60
    minutes = data.draw(st.integers(1, 3000))
    assume(oracle.between(oracle.lo, b) >= minutes * 60)
    got = seconds(calendar.subtract(instant(calendar, b), timedelta(minutes=minutes)))
    # The latest instant from which `minutes` of open time end at b.
    assert minutes * 60 == oracle.between(got, b)
    if got + 60 <= b:
        assert oracle.between(got + 60, b) < minutes * 60 or not oracle.open[oracle.index(got)]


@given(case=cases(), other_zone=st.sampled_from(ZONES), data=st.data())
def test_intersection_and_union_match_the_minute_walk(case, other_zone, data) -> None:
    calendar, oracle, start, hi = case
    lo = oracle.lo
    zone = ZoneInfo(other_zone)
    near = [t for t in transitions(other_zone) if lo <= t < hi]
    hot_day = local_wall(zone, near[0]).weekday() if near else 6
    spec = data.draw(specs(other_zone, local_wall(zone, lo).date(), hot_day))
    assume(any(spec["windows"]))
    other = to_calendar(spec)
    other_oracle = Oracle.build(spec, lo, hi)
    a = start + data.draw(st.integers(0, 2 * 1440)) * 60
    b = start + data.draw(st.integers(2 * 1440, 12 * 1440)) * 60
    both_oracle, either_oracle = oracle & other_oracle, oracle | other_oracle
    either = calendar | other
    try:
        both = calendar & other
    except CalendarError as exc:  # no common open time in any ordinary week
        assert "never open" in str(exc)
        assert both_oracle.between(a, b) == 0 or "Kathmandu" in calendar.time_zone + other_zone
    else:
        assert timedelta(seconds=both_oracle.between(a, b)) == both.between(
            instant(calendar, a), instant(calendar, b)
        )
    assert timedelta(seconds=either_oracle.between(a, b)) == either.between(
        instant(calendar, a), instant(calendar, b)
    )
    minutes = data.draw(st.integers(1, 2000))
    expected = either_oracle.add(a, minutes)
    if expected is not None:
        assert expected == seconds(either.add(instant(calendar, a), timedelta(minutes=minutes)))


@given(case=cases(), data=st.data())
def test_wall_times_in_gaps_and_folds_read_like_the_standard_library(case, data) -> None:
    calendar, oracle, start, hi = case
    zone = calendar.zone
    anchor = next(t for t in transitions(calendar.time_zone) if start - 86400 < t < hi)
    wall = local_wall(zone, anchor) + timedelta(minutes=data.draw(st.integers(-90, 90)))
    moment = wall.replace(tzinfo=zone, fold=data.draw(st.sampled_from([0, 1])))
    u = int(moment.timestamp())  # PEP 495: what the standard library says it means
    minutes = data.draw(st.integers(0, 2000))
    expected = oracle.add(u, minutes)
    assume(expected is not None)
    assert expected == seconds(calendar.add(moment, timedelta(minutes=minutes)))


def test_results_in_a_fold_are_ordered_as_instants_not_wall_times() -> None:
    # What made the property above fail now and then: the regression, pinned.
    zone = ZoneInfo("America/New_York")
    calendar = BusinessCalendar("America/New_York", hours={"mon-sun": ["00:00-24:00"]})
    start = datetime(2026, 11, 1, 1, 10, tzinfo=zone)  # the first 01:10, EDT
    earlier = calendar.add(start, timedelta(minutes=30))  # 01:40 EDT
    later = calendar.add(start, timedelta(minutes=60))  # 01:10 EST, the second 01:10
    assert (earlier.isoformat(), later.isoformat()) == (
        "2026-11-01T01:40:00-04:00",
        "2026-11-01T01:10:00-05:00",
    )
    assert later.fold == 1
    assert earlier.astimezone(UTC) < later.astimezone(UTC)
    assert calendar.between(earlier, later) == timedelta(minutes=30)


def weekly_open_us(calendar: BusinessCalendar) -> int:
    assert calendar.hours is not None
    return sum(w.end - w.start for day in calendar.hours for w in day) * 10**6


@given(case=cases(), offset=st.integers(0, 10**12), data=st.data())
def test_between_inverts_add_and_add_is_monotone(case, offset, data) -> None:
    calendar, _oracle, start, _hi = case
    week = weekly_open_us(calendar)
    assume(week > 0)
    # Up to about two years of open time, at microsecond precision.
    durations = data.draw(st.lists(st.integers(0, 100 * week), min_size=2, max_size=5))
    a = instant(calendar, start) + timedelta(microseconds=offset)
    results = []
    for us in sorted(durations):
        d = timedelta(microseconds=us)
        end = calendar.add(a, d)
        assert d == calendar.between(a, end)
        results.append(end)
    # Compared as instants: two datetimes sharing a zone compare by wall clock, fold
    # ignored (PEP 495), so in the hour a DST fold repeats the later instant can look
    # earlier (01:10 EST after 01:40 EDT). The calendar's answers are instants.
    instants = [r.astimezone(UTC) for r in results]
    assert instants == sorted(instants)


@given(case=cases(), data=st.data())
def test_subtract_inverts_add(case, data) -> None:
    calendar, _oracle, start, _hi = case
    week = weekly_open_us(calendar)
    assume(week > 0)
    d = timedelta(microseconds=data.draw(st.integers(1, 100 * week)))
    a = instant(calendar, start)
    end = calendar.add(a, d)
    back = calendar.subtract(end, d)
    assert back >= a
    assert d == calendar.between(back, end)
    assert calendar.add(back, d) == end


@pytest.mark.parametrize("zone_name", ZONES)
def test_every_zone_has_transitions_to_cross(zone_name) -> None:
    assert transitions(zone_name)


@given(case=cases(), data=st.data())
def test_dateutil_inputs_in_gaps_and_folds_give_the_same_answers(case, data) -> None:
    # python-dateutil 2.9 and 3.0+ disagree on the offset of a nonexistent wall time;
    # the calendar must not, under any of them.
    from dateutil import tz

    calendar, _oracle, start, hi = case
    foreign = tz.gettz(calendar.time_zone)
    assume(foreign is not None and any(calendar.hours))
    anchor = next(t for t in transitions(calendar.time_zone) if start - 86400 < t < hi)
    wall = local_wall(calendar.zone, anchor) + timedelta(minutes=data.draw(st.integers(-90, 90)))
    fold = data.draw(st.sampled_from([0, 1]))
    ours = wall.replace(tzinfo=calendar.zone, fold=fold)
    theirs = wall.replace(tzinfo=foreign, fold=fold)
    d = timedelta(minutes=data.draw(st.integers(0, 2000)))
    assert calendar.add(ours, d) == calendar.add(theirs, d)
    assert calendar.between(ours, ours + d) == calendar.between(theirs, ours + d)
    assert calendar.next_open(ours) == calendar.next_open(theirs)


FIXED_ZONES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT+5", "Etc/GMT-14", "Zulu")


@given(
    zone=st.sampled_from(FIXED_ZONES + ZONES),
    us=st.integers(-5_364_662_400_000_000, 32_503_680_000_000_000 - 1),
)
def test_the_fixed_offset_fast_path_converts_like_astimezone(zone: str, us: int) -> None:
    from cxrecovery.businesstime._time import fixed_epoch, to_datetime

    calendar = BusinessCalendar(zone, hours={"daily": ["09:00-17:00"]})
    assert (fixed_epoch(ZoneInfo(zone)) is not None) == (zone in FIXED_ZONES)
    made = calendar.datetime_at(us)
    expected = to_datetime(us, ZoneInfo(zone))
    assert (made, repr(made), made.fold, made.utcoffset()) == (
        expected,
        repr(expected),
        expected.fold,
        expected.utcoffset(),
    )
