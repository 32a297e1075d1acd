"""Argument guards and small helpers of business time that a mutation run showed untested.

Each test pins one check: remove or flip it and the test fails (``tools/mutation.py
businesstime``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxrecovery import CalendarError
from cxrecovery.businesstime import (
    BusinessCalendar,
    ClockSpec,
    ClockWarning,
    Holiday,
    clock_times_us,
    in_zone,
    instant_us,
    reach_us,
)
from cxrecovery.businesstime._time import load_zone, local_date, resolve_wall

NEW_YORK = ZoneInfo("America/New_York")


def _calendar(zone: str = "America/New_York") -> BusinessCalendar:
    return BusinessCalendar.from_dict({"time_zone": zone, "hours": {"mon-fri": ["09:00-17:00"]}})


def test_a_naive_datetime_is_refused_by_instant_us() -> None:
    with pytest.raises(CalendarError, match=r"^at: naive datetime '2026-01-05T10:00:00'"):
        instant_us(datetime(2026, 1, 5, 10), "at")


def test_a_zone_name_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(CalendarError, match=r"^time_zone: expected an IANA time zone name"):
        load_zone(5)


def test_a_holiday_name_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(CalendarError, match=r"^name: expected a string, got 5"):
        Holiday(on=date(2026, 12, 25), name=5)  # type: ignore[arg-type]


def test_a_warning_fraction_of_true_is_refused_not_read_as_one() -> None:
    with pytest.raises(CalendarError):
        ClockWarning(fraction=True)  # type: ignore[arg-type]


def test_warnings_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(CalendarError, match=r"^warnings: expected a list of ClockWarning"):
        ClockSpec("resolution", timedelta(hours=8), calendar=_calendar(), warnings=5)  # type: ignore[arg-type]


def test_a_warning_before_a_longer_time_than_the_target_fires_at_once() -> None:
    assert timedelta(0) == ClockWarning(before=timedelta(hours=2)).threshold(timedelta(hours=1))


def test_adding_nothing_on_instants_gives_the_start_back() -> None:
    calendar = _calendar()
    start = instant_us(datetime(2026, 1, 5, 12, tzinfo=NEW_YORK), "start")
    assert start == calendar.add_us(start, 0)


def test_datetimes_at_refuses_an_instant_past_the_supported_years() -> None:
    calendar = _calendar("UTC")
    far = instant_us(datetime(2999, 12, 31, tzinfo=UTC), "far") + 86_400 * 10**6
    with pytest.raises(CalendarError, match=r"^instants\[1\]"):
        calendar.datetimes_at([0, far])


def test_local_date_is_the_date_the_zone_shows() -> None:
    # 03:00 UTC on 6 January is still 5 January in New York
    us = instant_us(datetime(2026, 1, 6, 3, tzinfo=UTC), "at")
    assert date(2026, 1, 5) == local_date(us, NEW_YORK)


def test_an_ordinary_wall_time_resolves_to_its_one_instant() -> None:
    wall = datetime(2026, 1, 5, 9)
    expected = instant_us(datetime(2026, 1, 5, 14, tzinfo=UTC), "at")
    assert expected == resolve_wall(NEW_YORK, wall, closing=False)
    assert expected == resolve_wall(NEW_YORK, wall, closing=True)


def test_in_zone_refuses_a_moment_the_zone_cannot_show() -> None:
    # Year 1 at midnight in UTC is still year 0 in New York: no datetime holds it.
    with pytest.raises(CalendarError, match=r"moment: .* cannot be shown in America/New_York"):
        in_zone(datetime(1, 1, 1, tzinfo=UTC), "America/New_York")
    assert in_zone(datetime(9999, 12, 31, 23, tzinfo=UTC), "America/New_York").hour == 18


_S = 1_700_000_000_000_000  # an instant (2023-11-14)


@pytest.mark.parametrize(
    ("args", "kwargs", "path"),
    [
        (("not a calendar", _S, [1]), {}, "calendar"),
        ((None, _S, None), {}, "thresholds"),
        ((None, _S, ["1"]), {}, "thresholds[0]"),
        ((None, _S, [1, 1.5]), {}, "thresholds[1]"),
        ((None, _S, [True]), {}, "thresholds[0]"),
        ((None, _S, [-1]), {}, "thresholds[0]"),
        ((None, "x", [1]), {}, "start"),
        ((None, _S, [1]), {"at": "x"}, "at"),
        ((None, _S, [1]), {"at": _S, "stopped": 1.0}, "stopped"),
        ((None, _S, [1]), {"at": _S, "max_pause": -1}, "max_pause"),
        ((None, _S, [1]), {"at": _S, "pauses": "zz"}, "pauses[0]"),
        ((None, _S, [1]), {"at": _S, "pauses": [("a", None)]}, "pauses[0][0]"),
        ((None, _S, [1]), {"at": _S, "pauses": [(_S, "b")]}, "pauses[0][1]"),
    ],
)
def test_the_instant_level_clock_functions_refuse_bad_arguments_by_name(
    args: tuple[object, ...], kwargs: dict[str, object], path: str
) -> None:
    """reach_us and clock_times_us name the argument that is wrong (CalendarError), not a
    TypeError or a float answer from deep inside."""
    calendar = BusinessCalendar.always_open("UTC") if args[0] is None else args[0]
    call = (calendar, *args[1:])
    if not kwargs:
        with pytest.raises(CalendarError) as reached:
            reach_us(*call)  # type: ignore[arg-type]
        assert reached.value.problems[0].path == path
        kwargs = {"at": _S}
    with pytest.raises(CalendarError) as timed:
        clock_times_us(*call, **kwargs)  # type: ignore[arg-type]
    assert timed.value.problems[0].path == path
