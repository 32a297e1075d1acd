"""Bounded work in business time: long targets, tiny windows, the 25-year horizons."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.errors import CalendarError

HANG_GUARD_S = 5.0  # generous: these finish in milliseconds; speed is in the benchmark
NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_a_target_beyond_the_supported_years_fails_at_once() -> None:
    began = clock.perf_counter()
    office = BusinessCalendar("UTC", hours={"mon-fri": ["09:00-17:00"]})
    with pytest.raises(CalendarError, match="outside the supported years"):
        office.add(START, timedelta(weeks=142857))
    with pytest.raises(CalendarError, match="outside the supported years"):
        office.subtract(START, timedelta(weeks=142857))
    assert clock.perf_counter() - began < HANG_GUARD_S


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_a_tiny_window_and_a_long_target_is_refused_not_walked(zone: str) -> None:
    began = clock.perf_counter()
    tiny = BusinessCalendar(zone, hours={"daily": ["23:59:59-00:00:01"]})
    start = START.astimezone(ZoneInfo(zone))
    with pytest.raises(CalendarError, match="more than 36 years") as caught:
        tiny.add(start, timedelta(days=5))  # 216,000 days of two seconds
    assert [p.path for p in caught.value.problems] == ["duration"]
    with pytest.raises(CalendarError, match="more than 36 years"):
        tiny.subtract(datetime(2990, 1, 1, tzinfo=UTC), timedelta(days=5))
    assert clock.perf_counter() - began < HANG_GUARD_S


def test_a_long_add_within_the_walk_limit_is_exact() -> None:
    tiny = BusinessCalendar("UTC", hours={"daily": ["23:59:59-00:00:01"]})
    due = tiny.add(START, timedelta(hours=4))  # 7,200 windows of two seconds
    assert datetime.combine(START.date() + timedelta(days=7200), time(0, 0, 1), UTC) == due
    assert timedelta(hours=4) == tiny.between(START, due)
    back = tiny.subtract(due, timedelta(hours=4))
    assert timedelta(hours=4) == tiny.between(back, due)
    assert tiny.add(back, timedelta(hours=4)) == due


calendars = st.sampled_from(
    [
        {"mon-fri": ["09:00-17:00"]},
        {"daily": ["23:59:59-00:00:01"]},
        {"mon": ["22:00-06:00"], "thu": ["00:00-24:00"], "sun": ["12:00-12:00:01"]},
        {"sat-sun": ["10:00-14:00", "15:00-16:00"]},
    ]
)


@given(
    calendars,
    st.sampled_from(["UTC", "Etc/GMT+5", "Etc/GMT-14"]),
    st.datetimes(datetime(1900, 1, 1), datetime(2900, 1, 1)),
    st.integers(0, 20 * 365 * 86_400_000_000),
)
def test_whole_chunks_in_closed_form_match_the_walk(
    hours: dict[str, list[str]], zone: str, start: datetime, span_us: int
) -> None:
    """A calendar in fixed offsets without holidays multiplies runs of chunks out; the
    same calendar walked chunk by chunk gives the same answers."""
    fast = BusinessCalendar(zone, hours=hours)
    plain = BusinessCalendar(zone, hours=hours)
    plain._index._uniform = False  # the plain path: every chunk built and walked
    assert fast._index._uniform
    a = start.replace(tzinfo=UTC)
    d = timedelta(microseconds=span_us // 20)  # business time, up to a year of it
    b = a + timedelta(microseconds=span_us)
    try:
        expected = plain.add(a, d)
    except CalendarError as exc:
        with pytest.raises(CalendarError, match=str(exc.problems[0].message)[:30]):
            fast.add(a, d)
    else:
        assert expected == fast.add(a, d)
    assert plain.between(a, b) == fast.between(a, b)
    assert plain.between(b, a) == fast.between(b, a)
    try:
        expected = plain.subtract(b, d)
    except CalendarError as exc:
        with pytest.raises(CalendarError, match=str(exc.problems[0].message)[:30]):
            fast.subtract(b, d)
    else:
        assert expected == fast.subtract(b, d)


# --- the 25-year horizons ----------------------------------------------------------------

HORIZON = timedelta(days=9_132)  # 25 years of 365.2425 days, rounded up to a whole day


@pytest.mark.parametrize(
    ("closed_after", "expected"),
    [
        (timedelta(days=9_000), True),  # 24.6 years: a close, reported
        (HORIZON, True),  # the stretch lasts exactly the horizon: still reported
        (HORIZON + timedelta(days=1), False),  # longer than 25 years: None
    ],
)
def test_next_close_looks_25_years_ahead(closed_after: timedelta, expected: bool) -> None:
    opening = datetime(2026, 1, 1, tzinfo=UTC)
    holiday = (opening + closed_after).date()
    always = BusinessCalendar("UTC", hours={"daily": ["00:00-24:00"]}, holidays=[holiday])
    close = always.next_close(opening)
    if expected:
        assert datetime.combine(holiday, datetime.min.time(), tzinfo=UTC) == close
    else:
        assert close is None


def test_next_close_of_a_24_7_calendar_is_none_and_of_a_stretch_its_end() -> None:
    always = BusinessCalendar.always_open("UTC")
    assert always.next_close(START) is None
    office = BusinessCalendar("UTC", hours={"mon-fri": ["09:00-17:00"]})
    assert datetime(2026, 3, 2, 17, tzinfo=UTC) == office.next_close(START)
    assert date(2026, 3, 2) == office.next_close(START.replace(hour=8)).date()  # type: ignore[union-attr]


def test_the_add_bounds_are_the_chunks_the_index_accepts() -> None:
    """An add checks its target against two instants instead of computing its chunk:
    those are exactly the first and last instants whose chunks the index accepts."""
    from cxrecovery.businesstime import _engine

    def accepted(us: int) -> bool:
        try:
            _engine._check_index((us - _engine._ANCHOR) // _engine._CHUNK_US, "p")
        except CalendarError:
            return False
        return True

    low, high = _engine._ADD_LOW, _engine._ADD_HIGH
    assert [accepted(us) for us in (low - 1, low, high - 1, high)] == [False, True, True, False]


@given(
    calendars,
    st.integers(-200, 800),
    st.lists(
        st.tuples(st.integers(-3 * 7 * 86_400, 3 * 7 * 86_400), st.integers(0, 10**12)),
        min_size=2,
        max_size=6,
    ),
)
def test_answers_do_not_depend_on_the_queries_before(
    hours: dict[str, list[str]], chunk: int, queries: list[tuple[int, int]]
) -> None:
    """The index keeps the chunk it found last, so that the next instant near it is
    found at less cost: a calendar asked many things in turn, on either side of a
    chunk's first week, gives each answer that a new calendar gives."""
    from cxrecovery.businesstime import _engine

    boundary = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=_engine._ANCHOR + chunk * _engine._CHUNK_US
    )

    def answers(
        calendar: BusinessCalendar, a: datetime, b: datetime, d: timedelta
    ) -> list[object]:
        found: list[object] = []
        for ask in (
            lambda: calendar.between(a, b),
            lambda: calendar.add(a, d),
            lambda: calendar.is_open(b),
            lambda: calendar.next_open(b),
        ):
            try:
                found.append(ask())
            except CalendarError as exc:  # refused the same way, or the test fails
                found.append(str(exc))
        return found

    shared = BusinessCalendar("Etc/GMT+5", hours=hours)
    for seconds, span_us in queries:
        a = boundary + timedelta(seconds=seconds)
        b = a + timedelta(microseconds=span_us)
        d = timedelta(microseconds=span_us // 20)
        fresh = BusinessCalendar("Etc/GMT+5", hours=hours)
        assert answers(shared, a, b, d) == answers(fresh, a, b, d)
