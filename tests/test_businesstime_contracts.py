"""Business-time contracts a mutation run showed no test pinned (see docs/test-quality.md)."""

from __future__ import annotations

import inspect

import pytest

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.errors import CalendarError

_BAD_PART = {"time_zone": "UTC", "hours": {"mon": ["25:00-26:00"]}}
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
