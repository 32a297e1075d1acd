"""Business-time behaviour a mutation run showed no test pinned down.

Each test fails on a surviving mutant of ``tools/mutation.py businesstime`` (named in its
docstring; each checked by applying the mutant by hand) and passes on the code.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxrecovery import CalendarError
from cxrecovery.businesstime import (
    BusinessCalendar,
    Clock,
    ClockSpec,
    Pause,
    PauseRule,
    Window,
)
from cxrecovery.businesstime._time import resolve_wall


def _utc_calendar(hours: object) -> BusinessCalendar:
    return BusinessCalendar.from_dict({"time_zone": "UTC", "hours": hours})


def test_a_window_end_of_true_is_refused_not_read_as_one_second() -> None:
    """Mutant 73aaad57: the end check's ``or`` made ``and`` accepts a bool end."""
    with pytest.raises(CalendarError, match=r"^end: expected seconds after midnight, got True"):
        Window(0, True)


def test_a_window_end_that_is_not_a_number_is_a_calendar_error() -> None:
    """Mutant 73aaad57 again: a string end reached the comparisons (a TypeError)."""
    with pytest.raises(CalendarError, match=r"^end: expected seconds after midnight"):
        Window(9 * 3600, "17:00")  # type: ignore[arg-type]


def test_a_weekday_range_wraps_past_sunday() -> None:
    """Mutant 2e08b873: ``fri-mon`` lost Monday when the wrap-around range stopped short."""
    calendar = _utc_calendar({"fri-mon": ["09:00-17:00"]})
    # 2026-01-05 is a Monday; 2026-01-06 a Tuesday.
    assert calendar.is_open(datetime(2026, 1, 5, 10, tzinfo=UTC))
    assert calendar.is_open(datetime(2026, 1, 4, 10, tzinfo=UTC))
    assert calendar.is_open(datetime(2026, 1, 2, 10, tzinfo=UTC))
    assert not calendar.is_open(datetime(2026, 1, 6, 10, tzinfo=UTC))


def test_hours_given_as_one_string_are_one_problem_at_that_day() -> None:
    """Mutant 7e197546: without the ``continue``, each character of the string was read
    as a window too, and reported as a problem of its own."""
    with pytest.raises(CalendarError) as caught:
        _utc_calendar({"mon": "09:00-17:00"})
    paths = [p.path for p in caught.value.problems]
    assert paths == ["hours.mon"], caught.value.problems


def _resolution(target: timedelta) -> ClockSpec:
    return ClockSpec("resolution", target, calendar=_utc_calendar({"daily": ["00:00-24:00"]}))


def test_overlapping_pauses_take_their_union_off_the_clock() -> None:
    """Mutant 76c7b647: merging pauses read the first merged span instead of the last, so a
    pause overlapping the second of two was counted twice."""
    start = datetime(2026, 1, 5, 0, tzinfo=UTC)

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    rules = (PauseRule("waiting", {"resolution"}),)
    pauses = (
        Pause("waiting", at(1), at(2)),
        Pause("waiting", at(3), at(5)),
        Pause("waiting", at(4), at(6)),
    )
    clock = Clock(_resolution(timedelta(hours=10)), start, pause_rules=rules, pauses=pauses)
    # Ten hours on a 24/7 calendar, less the union of the pauses: 1 h + 3 h.
    assert clock.elapsed(at(10)) == timedelta(hours=6)
    # The due time moves by that union too: 10 h of running time from the start.
    assert clock.due_at(at(10)) == at(14)


def test_a_one_microsecond_target_is_due_a_microsecond_after_the_start() -> None:
    """Mutant e3f455dd: the "nothing left to run" shortcut taken for one microsecond."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rules = (PauseRule("waiting", {"resolution"}),)
    pause = Pause("waiting", start + timedelta(hours=1), start + timedelta(hours=2))
    clock = Clock(
        _resolution(timedelta(microseconds=1)), start, pause_rules=rules, pauses=(pause,)
    )
    assert clock.due_at(start + timedelta(hours=3)) == start + timedelta(microseconds=1)


def test_subtracting_nothing_gives_the_end_back_even_when_closed() -> None:
    """Mutant e3cb65fd: without the shortcut for a zero duration, subtracting nothing from
    a closed instant (a Saturday) moved it to the next opening, after the end."""
    calendar = BusinessCalendar.from_dict(
        {"time_zone": "America/New_York", "hours": {"mon-fri": ["09:00-17:00"]}}
    )
    saturday = datetime(2026, 3, 7, 16, tzinfo=UTC)
    assert calendar.subtract(saturday, timedelta(0)) == saturday
    end = calendar.instant(saturday)
    assert calendar.subtract_us(end, 0) == end


def test_three_closures_in_one_window_are_each_taken_out() -> None:
    """Mutant 5e2e5b25: taking closures out of a window skipped every second one."""
    hours = _utc_calendar({"mon": ["09:00-17:00"]})
    closed = _utc_calendar({"mon": ["10:00-11:00", "12:00-13:00", "14:00-15:00"]})
    calendar = hours.minus(closed)
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert calendar.between(monday + timedelta(hours=9), monday + timedelta(hours=17)) == (
        timedelta(hours=5)
    )
    assert not calendar.is_open(monday + timedelta(hours=12, minutes=30))


def test_a_clocks_pause_rules_are_keyword_only() -> None:
    """Mutant 13057c89: ``pause_rules`` taken by position, after the start."""
    rules = (PauseRule("waiting", {"resolution"}),)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with pytest.raises(TypeError):
        Clock(_resolution(timedelta(hours=1)), start, rules)  # type: ignore[call-arg]


def test_a_clock_stopped_the_moment_it_reaches_its_target_was_due_then() -> None:
    """Mutant 8529ad8c: a due time equal to the stop was read as never reached."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rules = (PauseRule("waiting", {"resolution"}),)
    pause = Pause("waiting", start + timedelta(hours=1), start + timedelta(hours=2))
    stop = start + timedelta(hours=4)  # 3 h running + 1 h paused
    clock = Clock(
        _resolution(timedelta(hours=3)),
        start,
        pause_rules=rules,
        pauses=(pause,),
        stopped_at=stop,
    )
    assert clock.due_at(start + timedelta(hours=6)) == stop


def test_a_zero_target_is_due_at_the_start_even_paused_from_it() -> None:
    """Mutant 03ed2c24: a zero target went through the pauses, and one open from the
    start made it never due."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rules = (PauseRule("waiting", {"resolution"}),)
    clock = Clock(
        _resolution(timedelta(0)), start, pause_rules=rules, pauses=(Pause("waiting", start),)
    )
    assert clock.due_at(start + timedelta(hours=1)) == start


def test_a_pause_for_another_reason_listed_first_leaves_the_next_one_counted() -> None:
    """Mutant 00a85c63: after a pause the clock ignores, the pauses that follow were
    dropped too (``continue`` made ``break``)."""
    start = datetime(2026, 1, 5, 0, tzinfo=UTC)

    def at(hours: int) -> datetime:
        return start + timedelta(hours=hours)

    rules = (PauseRule("waiting", {"resolution"}),)
    ignored_first = (Pause("lunch", at(1), at(2)), Pause("waiting", at(3), at(5)))
    clock = Clock(_resolution(timedelta(hours=10)), start, pause_rules=rules, pauses=ignored_first)
    assert clock.elapsed(at(8)) == timedelta(hours=6)
    later_first = (Pause("waiting", at(9), at(10)), Pause("waiting", at(3), at(5)))
    clock = Clock(_resolution(timedelta(hours=10)), start, pause_rules=rules, pauses=later_first)
    assert clock.elapsed(at(8)) == timedelta(hours=6)


def test_a_clock_is_no_longer_paused_at_the_instant_its_pause_ends() -> None:
    """Mutant 73f78a82: a pause was read as holding the clock at its own end too."""
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rules = (PauseRule("waiting", {"resolution"}),)
    end = start + timedelta(hours=2)
    pause = Pause("waiting", start + timedelta(hours=1), end)
    clock = Clock(_resolution(timedelta(hours=8)), start, pause_rules=rules, pauses=(pause,))
    assert clock.is_paused(end - timedelta(microseconds=1))
    assert not clock.is_paused(end)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Sydney"])
def test_a_wall_time_in_a_gap_resolves_to_the_transition_itself(zone: str) -> None:
    """Mutant 9c1c9b46: the search for a gap's transition stopped a second short of it,
    giving an instant up to a second after the transition."""
    tz = ZoneInfo(zone)
    found = 0
    for year in range(1990, 2031):
        for day in range(365):
            midnight = datetime(year, 1, 1) + timedelta(days=day)
            # A spring-forward day: the zone's offset grows between 00:00 and 06:00.
            before = midnight.replace(tzinfo=tz).utcoffset()
            after = (midnight + timedelta(hours=6)).replace(tzinfo=tz).utcoffset()
            if before is None or after is None or after <= before:
                continue
            for minutes in range(1, 360, 7):  # some fall inside the gap
                wall = midnight + timedelta(minutes=minutes)
                if wall.replace(tzinfo=tz, fold=0).utcoffset() == (
                    wall.replace(tzinfo=tz, fold=1).utcoffset()
                ):
                    continue  # not in this zone's gap
                us = resolve_wall(tz, wall, closing=False)
                instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
                tick = timedelta(seconds=1)
                assert instant.astimezone(tz).utcoffset() == after, (wall, instant)
                assert (instant - tick).astimezone(tz).utcoffset() == before, (wall, instant)
                found += 1
    assert found > 100


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"holidays": [5]}, "holidays[0]"),
        ({"extra_openings": [5]}, "extra_openings[0]"),
        ({"hours": {"mon": "09:00-17:00"}}, "hours.mon"),
    ],
)
def test_a_calendar_made_directly_refuses_a_bad_part(fields: dict[str, object], path: str) -> None:
    """Mutant 9445e250 (and its neighbours): a converter that dropped a bad holiday,
    opening or day of hours instead of raising, when the calendar is built directly
    rather than from a document."""
    arguments: dict[str, object] = {"hours": {"mon-fri": ["09:00-17:00"]}, **fields}
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar("UTC", **arguments)
    assert [p.path for p in caught.value.problems] == [path]


def test_an_empty_clock_or_pause_name_is_refused() -> None:
    """Mutant c664ed78: the name check's raise dropped, an empty name accepted."""
    with pytest.raises(CalendarError, match=r"^name: expected a non-empty name, got ''"):
        _resolution_named("")
    with pytest.raises(CalendarError, match=r"^reason: expected a non-empty name, got ''"):
        PauseRule("", {"resolution"})


def _resolution_named(name: str) -> ClockSpec:
    return ClockSpec(name, timedelta(hours=1), calendar=_utc_calendar({"daily": ["00:00-24:00"]}))


def test_a_window_of_times_with_microseconds_is_refused() -> None:
    """Mutant 871e3b2f: ``Window.of`` took a time with microseconds (its raise dropped)."""
    with pytest.raises(CalendarError, match=r"^start: expected a naive time with whole seconds"):
        Window.of(time(9, 0, 0, 5), time(17, 0))


def test_a_calendar_in_a_fixed_offset_east_of_utc_opens_at_its_own_wall_time() -> None:
    """Mutant 10a49573: a day's windows in a zone with one fixed offset were placed by
    adding the offset instead of subtracting it, ten hours off for UTC+05:00."""
    calendar = BusinessCalendar.from_dict(
        {"time_zone": "Etc/GMT-5", "hours": {"mon-fri": ["09:00-17:00"]}}
    )
    zone = ZoneInfo("Etc/GMT-5")  # POSIX sign: five hours east of UTC
    # 2026-01-05 is a Monday.
    assert calendar.is_open(datetime(2026, 1, 5, 9, 30, tzinfo=zone))
    assert calendar.is_open(datetime(2026, 1, 5, 4, 30, tzinfo=UTC))
    assert not calendar.is_open(datetime(2026, 1, 5, 8, 30, tzinfo=zone))
    assert not calendar.is_open(datetime(2026, 1, 5, 17, 30, tzinfo=zone))
    due = calendar.add(datetime(2026, 1, 5, 9, tzinfo=zone), timedelta(hours=9))
    assert due == datetime(2026, 1, 6, 10, tzinfo=zone)
