"""Business-time contracts a mutation run showed no test pinned (see docs/test-quality.md)."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from cxrecovery.businesstime import BusinessCalendar, Clock, ClockSpec
from cxrecovery.errors import CalendarError

_BAD_PART = {"time_zone": "UTC", "hours": {"mon": ["25:00-26:00"]}}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GOOD_PART = {"time_zone": "UTC", "hours": {"tue": ["09:00-10:00"]}}


def test_only_the_time_zone_is_positional() -> None:
    parameters = list(inspect.signature(BusinessCalendar).parameters.values())
    assert "time_zone" == parameters[0].name
    assert inspect.Parameter.POSITIONAL_OR_KEYWORD == parameters[0].kind
    assert {inspect.Parameter.KEYWORD_ONLY} == {p.kind for p in parameters[1:]}
    assert {
        "hours",
        "holidays",
        "extra_openings",
        "all_of",
        "any_of",
        "none_of",
    } == {p.name for p in parameters[1:]}


@pytest.mark.parametrize("key", ["all_of", "any_of"])
def test_a_bad_part_of_a_combined_calendar_is_reported_at_its_path(key: str) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict({"time_zone": "UTC", key: [_BAD_PART, _GOOD_PART]})
    assert [f"{key}[0].hours.mon[0]"] == [p.path for p in info.value.problems]
    assert "expected a window like '09:00-17:00'" in info.value.problems[0].message


def test_a_bad_excluded_calendar_is_reported_at_its_path() -> None:
    data = {"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "none_of": [_BAD_PART]}
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict(data)
    assert ["none_of[0].hours.mon[0]"] == [p.path for p in info.value.problems]


@pytest.mark.parametrize("part", ["UTC", 3, ["mon"]])
def test_a_part_that_is_not_a_calendar_is_refused_at_its_path(part: object) -> None:
    with pytest.raises(CalendarError) as info:
        BusinessCalendar.from_dict({"time_zone": "UTC", "any_of": [_GOOD_PART, part]})
    (problem,) = info.value.problems
    assert "any_of[1]" == problem.path
    assert "expected a calendar mapping" in problem.message


class _AfterOffsetInGaps(tzinfo):
    """A host's tzinfo that, like python-dateutil 2.9, reports the offset *after* the
    transition for a wall time inside a spring-forward gap (it flips ``fold``)."""

    def __init__(self, key: str) -> None:
        self.zone = ZoneInfo(key)

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        assert dt is not None
        return self.zone.utcoffset(dt.replace(tzinfo=None, fold=1 - dt.fold))

    def dst(self, dt: datetime | None) -> timedelta | None:
        assert dt is not None
        return self.zone.dst(dt.replace(tzinfo=None, fold=1 - dt.fold))

    def tzname(self, dt: datetime | None) -> str | None:
        return "host"


@pytest.mark.parametrize("fold", [0, 1])
def test_a_wall_time_in_a_gap_reads_as_pep_495_whatever_the_tzinfo(fold: int) -> None:
    always = BusinessCalendar.from_dict(
        {"time_zone": "UTC", "hours": {day: ["00:00-24:00"] for day in _DAYS}}
    )
    host = datetime(2026, 3, 8, 2, 30, fold=fold, tzinfo=_AfterOffsetInGaps("America/New_York"))
    stdlib = datetime(2026, 3, 8, 2, 30, fold=fold, tzinfo=ZoneInfo("America/New_York"))
    assert host.utcoffset() != stdlib.utcoffset()  # the host's tzinfo does answer otherwise
    assert timedelta(0) == always.between(host, stdlib)
    assert timedelta(0) == always.between(stdlib, host)


@pytest.mark.parametrize(("key", "day"), [(0, "mon"), (6, "sun")])
def test_a_weekday_may_be_its_number_from_monday(key: int, day: str) -> None:
    calendar = BusinessCalendar.from_dict({"time_zone": "UTC", "hours": {key: ["09:00-10:00"]}})
    assert {day: ["09:00-10:00"]} == calendar.to_dict()["hours"]


@pytest.mark.parametrize("key", [7, -1, True])
def test_a_weekday_number_outside_the_week_is_refused(key: object) -> None:
    with pytest.raises(CalendarError, match=f"hours.{key}: unknown weekday"):
        BusinessCalendar.from_dict({"time_zone": "UTC", "hours": {key: ["09:00-10:00"]}})


def test_a_clock_cannot_stop_before_it_starts() -> None:
    office = BusinessCalendar.from_dict(
        {"time_zone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}}
    )
    spec = ClockSpec("resolution", timedelta(hours=8), calendar=office)
    start = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("UTC"))
    with pytest.raises(CalendarError, match=r"stopped_at: .* is before started_at"):
        Clock(spec, start, stopped_at=start - timedelta(microseconds=1))
    assert start == Clock(spec, start, stopped_at=start).stopped_at
