"""Business calendars: semantics at the edges, plain data, combinations, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cxrecovery.businesstime as bt
from cxrecovery.businesstime import (
    BusinessCalendar,
    ExtraOpening,
    Holiday,
    Window,
    country_holidays,
    in_zone,
)
from cxrecovery.errors import CalendarError, InvalidValueError, UnknownTimeZoneError

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar(
        "America/New_York",
        hours={"mon-fri": ["09:00-17:00"]},
        holidays=["2026-12-25", {"date": "2026-12-24", "closed": "13:00-24:00"}],
    )


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NY, fold=fold)


def test_public_names_are_listed() -> None:
    assert sorted(bt.__all__) == bt.__all__
    for name in bt.__all__:
        assert hasattr(bt, name)


# --- boundaries --------------------------------------------------------------------------


def test_a_deadline_landing_on_closing_time_is_that_closing_time(office) -> None:
    assert ny(2026, 3, 2, 17) == office.add(ny(2026, 3, 2, 16, 59), MIN)


def test_one_more_minute_rolls_to_the_next_opening(office) -> None:
    assert ny(2026, 3, 3, 9, 1) == office.add(ny(2026, 3, 2, 16, 59), 2 * MIN)


def test_a_clock_started_outside_hours_begins_at_the_next_opening(office) -> None:
    assert ny(2026, 3, 9, 13) == office.add(ny(2026, 3, 7, 12), 4 * H)  # Saturday


def test_adding_nothing_returns_the_start_even_when_closed(office) -> None:
    start = ny(2026, 3, 7, 12)
    assert start == office.add(start, timedelta(0))


def test_subtract_mirrors_add(office) -> None:
    assert ny(2026, 3, 2, 16) == office.subtract(ny(2026, 3, 3, 10), 2 * H)
    assert ny(2026, 3, 2, 16) == office.subtract(ny(2026, 3, 3, 9), H)


def test_between_is_negative_when_the_end_comes_first(office) -> None:
    a, b = ny(2026, 3, 2, 10), ny(2026, 3, 3, 10)
    assert 8 * H == office.between(a, b)
    assert -8 * H == office.between(b, a)


def test_windows_are_half_open(office) -> None:
    assert office.is_open(ny(2026, 3, 2, 9))
    assert not office.is_open(ny(2026, 3, 2, 17))
    assert ny(2026, 3, 3, 9) == office.next_open(ny(2026, 3, 2, 17))
    assert ny(2026, 3, 2, 17) == office.next_close(ny(2026, 3, 2, 9))


def test_holidays_and_partial_closures_are_closed(office) -> None:
    assert ny(2026, 12, 24, 13) == office.next_close(ny(2026, 12, 24, 10))
    assert ny(2026, 12, 28, 9) == office.next_open(ny(2026, 12, 24, 13))
    assert ny(2026, 12, 28, 10) == office.add(ny(2026, 12, 24, 12), 2 * H)


def test_two_thousand_business_hours_is_250_business_days() -> None:
    plain = BusinessCalendar("America/New_York", hours={"mon-fri": ["09:00-17:00"]})
    start = ny(2025, 3, 3, 10, 30)
    end = plain.add(start, 2000 * H)
    assert ny(2026, 2, 16, 10, 30) == end  # 250 weekdays = 50 weeks later
    assert 2000 * H == plain.between(start, end)


def test_results_are_in_the_calendar_zone(office) -> None:
    start = datetime(2026, 3, 2, 14, tzinfo=UTC)
    result = office.add(start, H)
    assert result.tzinfo is office.zone
    assert ny(2026, 3, 2, 10) == result


def test_microseconds_are_kept(office) -> None:
    start = ny(2026, 3, 2, 10, 0, 0, 1)
    d = timedelta(hours=3, microseconds=7)
    assert ny(2026, 3, 2, 13, 0, 0, 8) == office.add(start, d)
    assert d == office.between(start, office.add(start, d))


# --- DST ---------------------------------------------------------------------------------


def test_an_overnight_shift_is_seven_hours_on_the_spring_night() -> None:
    nights = BusinessCalendar("America/New_York", hours={"sat": ["22:00-06:00"]})
    assert 7 * H == nights.between(ny(2026, 3, 7, 12), ny(2026, 3, 8, 12))
    assert 8 * H == nights.between(ny(2026, 3, 14, 12), ny(2026, 3, 15, 12))


def test_an_overnight_shift_is_nine_hours_on_the_autumn_night() -> None:
    nights = BusinessCalendar("America/New_York", hours={"sat": ["22:00-06:00"]})
    assert 9 * H == nights.between(ny(2026, 10, 31, 12), ny(2026, 11, 1, 12))


def test_a_window_opening_inside_a_gap_opens_when_the_clock_jumps() -> None:
    # 2026-03-08: New York clocks jump from 02:00 to 03:00.
    early = BusinessCalendar("America/New_York", hours={"sun": ["02:30-04:00"]})
    assert ny(2026, 3, 8, 3) == early.next_open(ny(2026, 3, 8, 0))
    assert H == early.between(ny(2026, 3, 8, 0), ny(2026, 3, 8, 12))


def test_a_window_ending_in_a_fold_ends_at_its_second_occurrence() -> None:
    # 2026-11-01: New York clocks fall back from 02:00 to 01:00.
    early = BusinessCalendar("America/New_York", hours={"sun": ["00:00-01:30"]})
    assert ny(2026, 11, 1, 1, 30, fold=1) == early.next_close(ny(2026, 11, 1, 0))
    assert timedelta(hours=2, minutes=30) == early.between(ny(2026, 11, 1), ny(2026, 11, 2))


def test_santiago_midnight_gap_opens_at_one() -> None:
    # 2024-09-08: Santiago clocks jump from 24:00 (Saturday) to 01:00 (Sunday).
    cal = BusinessCalendar("America/Santiago", hours={"sun": ["00:30-02:30"]})
    zone = ZoneInfo("America/Santiago")
    opened = cal.next_open(datetime(2024, 9, 7, 12, tzinfo=zone))
    assert datetime(2024, 9, 8, 1, tzinfo=zone) == opened
    assert timedelta(hours=1, minutes=30) == cal.between(opened, opened + 5 * H)


def test_lord_howe_half_hour_shift() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    cal = BusinessCalendar("Australia/Lord_Howe", hours={"daily": ["00:00-24:00"]})
    # 2026-04-05 02:00 (+11) falls back to 01:30 (+10:30): that day lasts 24.5 h.
    day = cal.between(datetime(2026, 4, 5, tzinfo=zone), datetime(2026, 4, 6, tzinfo=zone))
    assert timedelta(hours=24, minutes=30) == day


# --- end of business day -----------------------------------------------------------------


def test_end_of_business_day_skips_weekends_and_holidays(office) -> None:
    assert ny(2026, 12, 24, 13) == office.end_of_business_day(ny(2026, 12, 23, 10))
    assert ny(2026, 12, 28, 17) == office.end_of_business_day(ny(2026, 12, 23, 10), days=2)
    assert ny(2026, 12, 23, 17) == office.end_of_business_day(ny(2026, 12, 23, 20), days=0)
    assert ny(2026, 3, 9, 17) == office.end_of_business_day(ny(2026, 3, 7, 10), days=0)


def test_end_of_business_day_of_an_overnight_shift_is_midnight() -> None:
    nights = BusinessCalendar("America/New_York", hours={"mon-fri": ["22:00-06:00"]})
    assert ny(2026, 3, 4) == nights.end_of_business_day(ny(2026, 3, 2, 23))


# --- holidays ----------------------------------------------------------------------------


def test_yearly_and_rrule_holidays_recur() -> None:
    cal = BusinessCalendar.from_dict(
        {
            "time_zone": "America/New_York",
            "hours": {"mon-fri": ["09:00-17:00"]},
            "holidays": [
                {"yearly": "07-04", "name": "Independence Day"},
                {"rrule": "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", "name": "Thanksgiving"},
            ],
        }
    )
    assert not cal.is_open(ny(2030, 7, 4, 10))
    assert not cal.is_open(ny(2027, 11, 25, 10))
    assert cal.is_open(ny(2027, 11, 24, 10))


def test_extra_openings_win_over_holidays() -> None:
    cal = BusinessCalendar(
        "America/New_York",
        hours={"mon-fri": ["09:00-17:00"]},
        holidays=["2026-12-28"],
        extra_openings=[{"date": "2026-12-28", "open": "10:00-12:00"}],
    )
    assert 2 * H == cal.between(ny(2026, 12, 28), ny(2026, 12, 29))


def test_country_holidays_come_from_the_holidays_package() -> None:
    pytest.importorskip("holidays")
    closures = country_holidays("US", years=[2026])
    assert Holiday(date(2026, 7, 4), name="Independence Day") in closures
    cal = BusinessCalendar(
        "America/New_York", hours={"mon-fri": ["09:00-17:00"]}, holidays=closures
    )
    assert not cal.is_open(ny(2026, 12, 25, 10))
    assert cal == BusinessCalendar.from_dict(cal.to_dict())


def test_country_holidays_without_the_package_is_a_calendar_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(CalendarError, match="not installed"):
        country_holidays("US", years=[2026])


# --- combinations ------------------------------------------------------------------------


def test_intersection_of_team_and_contract_hours_across_zones() -> None:
    team = BusinessCalendar("Europe/London", hours={"mon-fri": ["08:00-16:00"]})
    contract = BusinessCalendar("America/New_York", hours={"mon-fri": ["09:00-17:00"]})
    both = team & contract
    # 2026-03-02: London UTC+0, New York UTC-5: 14:00-16:00 UTC is common.
    assert 2 * H == both.between(ny(2026, 3, 2), ny(2026, 3, 3))
    # 2026-03-09: New York already on UTC-4, London not yet: 13:00-16:00 UTC.
    assert 3 * H == both.between(ny(2026, 3, 9), ny(2026, 3, 10))
    assert both.zone == team.zone


def test_union_and_minus() -> None:
    early = BusinessCalendar("America/New_York", hours={"mon-fri": ["08:00-12:00"]})
    late = BusinessCalendar("America/New_York", hours={"mon-fri": ["11:00-18:00"]})
    lunch = BusinessCalendar("America/New_York", hours={"mon-fri": ["12:00-13:00"]})
    day = (early | late) - lunch
    assert 9 * H == day.between(ny(2026, 3, 2), ny(2026, 3, 3))
    closed = day.minus("2026-03-02", Holiday(date(2026, 3, 3), closed="08:00-10:00"))
    assert 7 * H == closed.between(ny(2026, 3, 3), ny(2026, 3, 4))
    assert timedelta(0) == closed.between(ny(2026, 3, 2), ny(2026, 3, 3))


def test_a_combination_that_is_never_open_is_refused() -> None:
    tokyo = BusinessCalendar("Asia/Tokyo", hours={"mon-fri": ["09:00-17:00"]})
    new_york = BusinessCalendar("America/New_York", hours={"mon-fri": ["09:00-17:00"]})
    with pytest.raises(CalendarError, match="never open"):
        tokyo & new_york


def test_calendars_that_meet_only_in_the_fall_back_fold_share_that_hour() -> None:
    # A closing inside the fold takes its second occurrence, an opening its first, so a
    # shift ending Sunday 01:00 and one starting Sunday 01:00 overlap for the repeated hour
    # on New York's fall-back night (2024-11-03) and nowhere else in the year.
    saturday_night = BusinessCalendar(
        "America/New_York", hours={"mon": ["00:00-00:15"], "sat": ["01:15-01:00"]}
    ).minus("2024-11-02")
    sunday_early = BusinessCalendar(
        "America/New_York",
        hours={"mon": ["00:15-00:30", "00:45-00:30"], "sun": ["01:00-01:15"]},
    )
    both = saturday_night & sunday_early
    fold_start = datetime(2024, 11, 3, 5, tzinfo=UTC)  # 01:00 EDT, the first 01:00
    assert both.between(fold_start, fold_start + 2 * 24 * H) == H
    assert both.is_open(fold_start + 59 * timedelta(minutes=1))
    assert not both.is_open(fold_start + H)  # 01:00 EST, the second 01:00
    assert both.between(datetime(2024, 11, 4, tzinfo=UTC), datetime(2025, 11, 1, tzinfo=UTC)) == (
        timedelta(0)
    )


def test_a_24_7_calendar_never_closes() -> None:
    always = BusinessCalendar.always_open("UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert always.next_close(start) is None
    assert start + 2000 * H == always.add(start, 2000 * H)


# --- plain data --------------------------------------------------------------------------


def test_plain_data_round_trip(office) -> None:
    data = {
        "time_zone": "America/New_York",
        "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["22:00-06:00"]},
        "holidays": [
            "2026-12-25",
            {"date": "2026-12-24", "closed": "13:00-24:00"},
            {"yearly": "01-01", "name": "New Year"},
            {"rrule": "FREQ=YEARLY;BYMONTH=1;BYDAY=3MO"},
        ],
        "extra_openings": [{"date": "2026-12-27", "open": "10:00-14:00"}],
    }
    cal = BusinessCalendar.from_dict(data)
    assert data == cal.to_dict()
    combined = (cal & office) | office.minus(cal)
    assert combined == BusinessCalendar.from_dict(combined.to_dict())


windows = st.builds(
    lambda s, length: (
        f"{s // 60:02d}:{s % 60:02d}-"
        f"{(s + length) % 1440 // 60:02d}:{(s + length) % 1440 % 60:02d}"
    ),
    st.integers(0, 1439),
    st.integers(1, 1439),
)


@given(st.dictionaries(st.sampled_from(["mon", "tue", "wed", "sat", "sun"]), windows, min_size=1))
def test_to_dict_and_from_dict_round_trip(day_windows) -> None:
    data = {"time_zone": "Europe/Paris", "hours": {k: [v] for k, v in day_windows.items()}}
    try:
        cal = BusinessCalendar.from_dict(data)
    except CalendarError as exc:  # windows spilling into the next day may overlap
        assert "overlaps" in str(exc)
        return
    assert cal == BusinessCalendar.from_dict(cal.to_dict())
    assert cal.to_dict() == BusinessCalendar.from_dict(cal.to_dict()).to_dict()


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(
            {
                "time_zone": "Mars/Olympus",
                "hours": {"mon": ["09:00-17:00", "25:00-26:00"], "funday": ["09:00-10:00"]},
                "holidays": ["2026-13-01", {"date": "2026-12-24", "closed": "13:00-13:00"}],
                "extra_openings": [{"date": "2026-12-27"}],
                "colour": "blue",
            }
        )
    paths = {p.path for p in info.value.problems}
    assert {
        "time_zone",
        "hours.mon[1]",
        "hours.funday",
        "holidays[0]",
        "holidays[1].closed",
        "extra_openings[0].open",
        "colour",
    } == paths
    assert "'Mars/Olympus'" in str(info.value)


# --- bad input ---------------------------------------------------------------------------


def test_unknown_zone() -> None:
    with pytest.raises(UnknownTimeZoneError, match="'Mars/Olympus'"):
        BusinessCalendar("Mars/Olympus", hours={"mon": ["09:00-17:00"]})
    with pytest.raises(UnknownTimeZoneError):
        in_zone(ny(2026, 3, 2, 10), "Nowhere/Special")


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": ["09:00-17:00", "16:00-18:00"]}, "overlaps"),
        ({"mon": ["09:00-17:00", "09:00-17:00"]}, "given twice"),
        ({"sun": ["22:00-06:00"], "mon": ["05:00-07:00"]}, "overlaps"),
        ({"mon": ["09:00-09:00"]}, "zero-length"),
        ({"mon": ["17:00"]}, "expected a window"),
        ({"mon": "09:00-17:00"}, "expected a list"),
        ({}, "never open"),
    ],
)
def test_bad_weekly_hours(hours, message) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar("UTC", hours=hours)


def test_inverted_and_overlong_windows_are_refused() -> None:
    with pytest.raises(CalendarError, match="end"):
        Window(17 * 3600, 9 * 3600)
    with pytest.raises(CalendarError, match="24 h"):
        Window(3600, 3600 + 86_400)
    with pytest.raises(CalendarError):
        Window.of(time(9), time(9))


@pytest.mark.parametrize("bad", ["2026-03-02T10:00", datetime(2026, 3, 2, 10), 1234, None])
def test_bad_instants_name_the_argument(office, bad) -> None:
    with pytest.raises(CalendarError, match="start"):
        office.add(bad, H)
    with pytest.raises(CalendarError, match="end"):
        office.between(ny(2026, 3, 2, 10), bad)
    with pytest.raises(CalendarError, match="at"):
        office.is_open(bad)
    with pytest.raises(CalendarError, match="moment"):
        in_zone(bad, "Europe/Paris")


@pytest.mark.parametrize("bad", [-H, 3, "4h", None])
def test_bad_durations_name_the_argument(office, bad) -> None:
    with pytest.raises(CalendarError, match="duration"):
        office.add(ny(2026, 3, 2, 10), bad)
    with pytest.raises(CalendarError, match="duration"):
        office.subtract(ny(2026, 3, 2, 10), bad)


def test_bad_days(office) -> None:
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(CalendarError, match="days"):
            office.end_of_business_day(ny(2026, 3, 2, 10), days=bad)


def test_bad_holidays_and_openings() -> None:
    with pytest.raises(CalendarError, match="exactly one"):
        Holiday()
    with pytest.raises(CalendarError, match="rule"):
        Holiday(rule="FREQ=SOMETIMES")
    with pytest.raises(CalendarError, match="yearly"):
        Holiday(yearly=(2, 30))
    with pytest.raises(CalendarError, match="on"):
        ExtraOpening("2026-01-01", "10:00-12:00")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="closures"):
        BusinessCalendar.always_open("UTC").minus(42)  # type: ignore[arg-type]


def test_errors_are_value_errors() -> None:
    assert issubclass(CalendarError, InvalidValueError)
    assert issubclass(CalendarError, ValueError)


def test_a_calendar_that_runs_dry_raises_instead_of_looping() -> None:
    once = BusinessCalendar(
        "UTC",
        hours={},
        extra_openings=[ExtraOpening(date(2026, 1, 5), Window.parse("10:00-11:00"))],
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert datetime(2026, 1, 5, 10, 30, tzinfo=UTC) == once.add(start, timedelta(minutes=30))
    with pytest.raises(CalendarError, match="25 years"):
        once.add(start, 2 * H)


def test_in_zone_renders_for_the_customer(office) -> None:
    due = office.add(ny(2026, 3, 2, 16), 2 * H)
    paris = in_zone(due, "Europe/Paris")
    assert paris == due
    assert (datetime(2026, 3, 3, 16), "Europe/Paris") == (
        paris.replace(tzinfo=None),
        str(paris.tzinfo),
    )


# --- the instant-level API ---------------------------------------------------------------


def utc(*moments: datetime | None) -> datetime | tuple[datetime | None, ...] | None:
    """The moments as UTC datetimes (one alone, or a tuple), so that equality is of instants."""
    shown = tuple(None if m is None else m.astimezone(UTC) for m in moments)
    return shown[0] if len(shown) == 1 else shown


@given(
    st.sampled_from(["America/New_York", "UTC", "Australia/Lord_Howe"]),
    st.datetimes(datetime(1990, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC)),
    st.lists(st.integers(0, 3000 * 3_600_000_000), min_size=1, max_size=4),
)
@example("Australia/Lord_Howe", datetime(2013, 4, 6, 14, 30, tzinfo=UTC), [0])  # a repeated hour
def test_the_instant_api_gives_the_datetime_api_answers(
    zone: str, start: datetime, durations: list[int]
) -> None:
    cal = BusinessCalendar(zone, hours={"mon-fri": ["09:00-12:00", "13:00-17:00"]})
    a = cal.instant(start)
    # Compared as UTC instants: Python never equates a local time in a repeated hour (Lord
    # Howe's half-hour fall-back) with a time in another zone, nor tells two folds of one
    # wall time apart within a zone (PEP 495).
    assert utc(cal.datetime_at(a)) == start
    assert str(cal.datetime_at(a).tzinfo) == zone
    found = cal.add_each_us(a, durations)
    assert found == [cal.add_us(a, d) for d in durations]
    shown = cal.datetimes_at(found)
    assert utc(*shown) == utc(*(cal.add(start, timedelta(microseconds=d)) for d in durations))
    assert utc(*(cal.datetime_at(us) for us in found)) == utc(*shown)
    for d, us, when in zip(durations, found, shown, strict=True):
        assert cal.between_us(a, us) == cal.between(start, when) // timedelta(microseconds=1)
        assert cal.between_us(us, a) == -cal.between_us(a, us)
        assert utc(cal.datetime_at(cal.subtract_us(us, d))) == utc(
            cal.subtract(when, timedelta(microseconds=d))
        )
    assert utc(cal.datetime_at(cal.next_open_us(a))) == utc(cal.next_open(start))
    assert cal.fixed_offset == (zone == "UTC")


def test_the_instant_api_names_bad_arguments() -> None:
    cal = BusinessCalendar("UTC", hours={"mon-fri": ["09:00-17:00"]})
    a = cal.instant(datetime(2026, 3, 2, 10, tzinfo=UTC))
    with pytest.raises(CalendarError, match="opened_at"):
        cal.instant(datetime(2026, 3, 2, 10), "opened_at")  # naive
    with pytest.raises(CalendarError, match=r"start: .*outside the supported years"):
        cal.instant(datetime(1700, 1, 1, tzinfo=UTC), "start")
    for bad in (1.5, True, "1", None, 10**30, -(10**30)):
        with pytest.raises(CalendarError, match="start"):
            cal.add_us(bad, 1)  # type: ignore[arg-type]
        with pytest.raises(CalendarError, match="instant"):
            cal.datetime_at(bad)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="instants\\[1\\]"):
        cal.datetimes_at([a, 2.5])  # type: ignore[list-item]
    for bad in (-1, 1.5, False, "1"):
        with pytest.raises(CalendarError, match="duration"):
            cal.add_us(a, bad)  # type: ignore[arg-type]
        with pytest.raises(CalendarError, match="duration"):
            cal.subtract_us(a, bad)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="durations\\[1\\]"):
        cal.add_each_us(a, [1, -1])
    with pytest.raises(CalendarError, match="end"):
        cal.between_us(a, 1.0)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="at"):
        cal.next_open_us("now")  # type: ignore[arg-type]
    assert bt.instant_us(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), "at") == 1_000_000
    assert bt.duration_us(timedelta(seconds=1), "target") == 1_000_000
