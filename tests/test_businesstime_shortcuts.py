"""The index's shortcuts, against the plain path: a calendar open throughout a chunk,
and an add from the start the add before located.

Within a chunk of the index where the calendar is open at every microsecond (a 24/7
calendar away from its holidays), open time is real time: ``add`` is ``a + d`` and
``between`` is ``b - a``. The engine takes that shortcut when the start lies in the chunk
it found last; the plain path (binary searches over the chunk's intervals) must give the
same answers, and the same errors, in every zone (DST gaps and folds, fixed offsets),
with holidays and partial closures, around chunk boundaries and the supported years'
ends, to the microsecond. An add from the start the add before it located reads that
start's place in the index off the earlier add instead of locating it again: its answers
must be the plain path's too, whatever was asked in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from hypothesis import event, given
from hypothesis import strategies as st

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.businesstime._engine import _ADD_HIGH, _ANCHOR, _CHUNK_US, _NO_CHUNK, Engine
from cxrecovery.businesstime._time import DAY_US, HIGHEST_US, LOWEST_US, WEEK_US
from cxrecovery.errors import CalendarError

ZONES = ("UTC", "Etc/GMT+5", "America/New_York", "Europe/London", "Australia/Lord_Howe")
HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PlainEngine(Engine):
    """The same index with the shortcuts never taken: the shortcut needs the start in the
    chunk found last, and this engine forgets that chunk before each question (and the
    start an add located last, so that every add locates its start)."""

    def add_each(self, a: int, durations: Iterable[int], path: str) -> list[int]:
        self._last_chunk = _NO_CHUNK
        self._last_start = (-1, _NO_CHUNK, 0, 0)
        return super().add_each(a, durations, path)

    def between(self, a: int, b: int, path: str) -> int:
        self._last_chunk = _NO_CHUNK
        return super().between(a, b, path)


def us_of(day: date) -> int:
    return (datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH) // timedelta(
        microseconds=1
    )


@st.composite
def calendars(draw: st.DrawFn) -> tuple[BusinessCalendar, int]:
    """A calendar open around the clock on most or all days, in a zone with or without
    DST, perhaps with holidays and partial closures; and an instant near which to ask."""
    zone = draw(st.sampled_from(ZONES))
    day = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    if draw(st.booleans()):  # the ends of the supported years
        day = draw(st.sampled_from([date(1801, 3, 1), date(2998, 10, 20), date(2998, 12, 1)]))
    hours: dict[str, list[str]] = {}
    always = draw(st.booleans())  # else a day may be closed for a while, or all day
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if always:
            hours[name] = ["00:00-24:00"]
            continue
        hours[name] = draw(
            st.sampled_from(
                [["00:00-24:00"]] * 6 + [["00:00-12:00", "12:00-24:00"], ["01:30-24:00"], []]
            )
        )
    holidays: list[object] = []
    for _ in range(draw(st.integers(0, 2))):
        when = (day + timedelta(days=draw(st.integers(-10, 10)))).isoformat()
        if draw(st.booleans()):
            holidays.append(when)
        else:
            holidays.append(
                {
                    "date": when,
                    "closed": draw(st.sampled_from(["02:00-02:15", "02:00-03:00", "13:00-24:00"])),
                }
            )
    if not any(hours.values()):
        hours["mon"] = ["00:00-24:00"]
    calendar = BusinessCalendar.from_dict(
        {"time_zone": zone, "hours": hours, "holidays": holidays}
    )
    return calendar, us_of(day)


def near(data: st.DataObject, around: int) -> int:
    """An instant near ``around``, or near a chunk's edge, within the years computed."""
    base = data.draw(
        st.sampled_from(
            [
                around,
                _ANCHOR + (around - _ANCHOR) // _CHUNK_US * _CHUNK_US,  # its chunk's start
                _ANCHOR + ((around - _ANCHOR) // _CHUNK_US + 1) * _CHUNK_US,  # the next's
            ]
        )
    )
    us = base + data.draw(st.one_of(st.integers(-3, 3), st.integers(-2 * WEEK_US, 2 * WEEK_US)))
    return min(max(us, LOWEST_US), HIGHEST_US - 1)


def answer(method: Callable[..., object], *args: object) -> object:
    """What ``method(*args)`` returns, or the error it raises, as a value to compare."""
    try:
        return method(*args)
    except CalendarError as exc:
        return ("error", str(exc))


def alike(fast: Engine, plain: Engine, name: str, *args: object) -> None:
    assert answer(getattr(fast, name), *args) == answer(getattr(plain, name), *args)


@given(found=calendars(), data=st.data())
def test_adds_and_measures_like_the_plain_path(found, data) -> None:
    calendar, around = found
    fast, plain = Engine(calendar), PlainEngine(calendar)
    for _ in range(data.draw(st.integers(1, 4))):
        # The chunk found last decides whether the shortcut is tried: ask about one first.
        primer = near(data, around)
        fast.is_open(primer, "at")
        plain.is_open(primer, "at")
        a = near(data, around)
        edge = _ANCHOR + ((a - _ANCHOR) // _CHUNK_US + 1) * _CHUNK_US - a  # to the next chunk
        durations = data.draw(
            st.lists(
                st.one_of(
                    st.integers(0, 3 * WEEK_US),
                    st.sampled_from([0, 1, HOUR_US, DAY_US, edge - 1, edge, edge + 1]),
                    st.integers(0, _ADD_HIGH - a + 2),
                ),
                min_size=1,
                max_size=4,
            )
        )
        durations = [max(d, 0) for d in durations]
        event("open throughout" if fast._last_chunk.full else "not open throughout")
        alike(fast, plain, "add_each", a, durations, "target")
        b = near(data, a)
        alike(fast, plain, "between", a, b, "end")
        alike(fast, plain, "between", b, a, "end")


def test_a_chunk_counts_as_open_throughout_only_when_it_is() -> None:
    always = Engine(BusinessCalendar.always_open("Europe/London"))
    a = us_of(date(2026, 5, 4))
    assert always.add_each(a, [HOUR_US], "target") == [a + HOUR_US]
    assert always._last_chunk.full
    christmas = Engine(
        BusinessCalendar.from_dict(
            {"time_zone": "UTC", "hours": {"daily": ["00:00-24:00"]}, "holidays": ["2026-12-25"]}
        )
    )
    eve = us_of(date(2026, 12, 24))
    # A day off in the chunk: the plain path counts it.
    assert christmas.add_each(eve, [2 * DAY_US], "target") == [eve + 3 * DAY_US]
    assert not christmas._last_chunk.full
    assert christmas.between(eve, eve + 3 * DAY_US, "end") == 2 * DAY_US


@st.composite
def weekly(draw: st.DrawFn) -> tuple[BusinessCalendar, int]:
    """A calendar with weekly hours (closed at night and at weekends), in a zone with or
    without DST, perhaps with holidays; and an instant near which to ask."""
    zone = draw(st.sampled_from(ZONES))
    day = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    hours = draw(
        st.sampled_from(
            [
                {"mon-fri": ["09:00-17:00"]},
                {"mon-fri": ["08:00-12:00", "13:00-18:30"], "sat": ["10:00-14:00"]},
                {"daily": ["01:30-02:30"]},
            ]
        )
    )
    holidays = [
        (day + timedelta(days=draw(st.integers(-10, 10)))).isoformat()
        for _ in range(draw(st.integers(0, 2)))
    ]
    calendar = BusinessCalendar.from_dict(
        {"time_zone": zone, "hours": hours, "holidays": holidays}
    )
    return calendar, us_of(day)


@given(found=st.one_of(weekly(), calendars()), data=st.data())
def test_adds_from_a_start_located_before_like_the_plain_path(found, data) -> None:
    calendar, around = found
    fast, plain = Engine(calendar), PlainEngine(calendar)
    starts = [near(data, around) for _ in range(data.draw(st.integers(1, 3)))]
    for _ in range(data.draw(st.integers(2, 6))):
        a = data.draw(st.sampled_from(starts))  # often the start of the add before
        if data.draw(st.booleans()):  # another question moves the chunk found last
            elsewhere = near(data, around)
            fast.is_open(elsewhere, "at")
            plain.is_open(elsewhere, "at")
        durations = data.draw(
            st.lists(
                st.one_of(st.integers(0, 3 * WEEK_US), st.sampled_from([0, 1, HOUR_US])),
                min_size=1,
                max_size=3,
            )
        )
        event("same start" if fast._last_start[0] == a else "another start")
        alike(fast, plain, "add_each", a, durations, "target")
