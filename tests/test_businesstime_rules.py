"""Holiday recurrence rules: the restricted grammar, no file access, bounded expansion."""

from __future__ import annotations

import builtins
import io
import os
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery.businesstime import BusinessCalendar, Holiday
from cxrecovery.errors import CalendarError, PolicyError
from cxrecovery.policy import load_policy

NY = ZoneInfo("America/New_York")
HANG_GUARD_S = 5.0  # generous: these finish in milliseconds; speed is in the benchmark


def calendar_with(rule: str, zone: str = "America/New_York") -> BusinessCalendar:
    return BusinessCalendar.from_dict(
        {"time_zone": zone, "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": [{"rrule": rule}]}
    )


# --- no file access ----------------------------------------------------------------------


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path opened while the test runs (the opens still happen)."""
    paths: list[str] = []
    real_open, real_os_open, real_io_open = builtins.open, os.open, io.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        paths.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_io_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        paths.append(str(file))
        return real_io_open(file, *args, **kwargs)

    def spy_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        paths.append(str(path))
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_io_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    return paths


def test_a_tzid_path_in_a_rule_is_refused_without_opening_it(opened: list[str]) -> None:
    text = "DTSTART;TZID=/etc/passwd:20260101T000000\nRRULE:FREQ=YEARLY"
    with pytest.raises(CalendarError) as caught:
        calendar_with(text)
    assert [p.path for p in caught.value.problems] == ["holidays[0].rrule"]
    assert "TZID" in str(caught.value)
    assert "passwd" not in " ".join(opened)
    with pytest.raises(CalendarError, match="TZID"):
        Holiday(rule=text)
    assert not any("passwd" in p or "zoneinfo" in p for p in opened)


def test_a_policy_with_a_tzid_rule_is_a_policy_error_naming_the_path(opened: list[str]) -> None:
    policy = {
        "policy": {"name": "acme", "version": "1", "extends": "default"},
        "calendars": {
            "support": {
                "holidays": [{"rrule": "DTSTART;TZID=/etc/passwd:20260101T000000 FREQ=YEARLY"}]
            }
        },
    }
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    assert "calendars.support.holidays[0].rrule" in {p.path for p in caught.value.problems}
    assert not any("passwd" in p for p in opened)


def test_reading_rules_does_not_consult_dateutil(monkeypatch: pytest.MonkeyPatch) -> None:
    import dateutil.rrule
    import dateutil.tz

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("dateutil consulted")

    monkeypatch.setattr(dateutil.tz, "gettz", refuse)
    monkeypatch.setattr(dateutil.tz, "tzfile", refuse)
    monkeypatch.setattr(dateutil.rrule, "rrulestr", refuse)
    cal = calendar_with("DTSTART:20200101\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH")
    assert not cal.is_open(datetime(2027, 11, 25, 10, tzinfo=NY))


# --- the grammar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DTSTART;TZID=America/New_York:20260101T090000 RRULE:FREQ=YEARLY", "TZID"),
        ("DTSTART:20260101T090000Z RRULE:FREQ=YEARLY", "no Z"),
        ("DTSTART:20261301 RRULE:FREQ=YEARLY", "not a valid date"),
        ("DTSTART:10000101 RRULE:FREQ=YEARLY", "outside the years"),
        ("DTSTART:20260101 DTSTART:20270101 RRULE:FREQ=YEARLY", "twice"),
        ("RRULE:FREQ=YEARLY EXDATE:20261225", "EXDATE"),
        ("RRULE:FREQ=YEARLY RRULE:FREQ=MONTHLY", "one RRULE"),
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=SOMETIMES", "FREQ must be"),
        ("BYMONTH=1", "FREQ must be"),
        ("FREQ=YEARLY;BYHOUR=9", "BYHOUR"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER"),
        ("FREQ=YEARLY;BYWEEKNO=1", "BYWEEKNO"),
        ("FREQ=YEARLY;FOO=1", "unknown rule part"),
        ("FREQ=YEARLY;FREQ=MONTHLY", "twice"),
        ("FREQ=YEARLY;COUNT=0", "COUNT"),
        ("FREQ=YEARLY;COUNT=10001", "COUNT"),
        ("FREQ=YEARLY;COUNT=" + "9" * 900, "COUNT"),
        ("FREQ=YEARLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=YEARLY;COUNT=2;UNTIL=20300101", "not both"),
        ("FREQ=YEARLY;UNTIL=2030", "UNTIL"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
        ("FREQ=YEARLY;BYMONTH=-1", "BYMONTH"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "WEEKLY"),
        ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=XX", "BYDAY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "ordinals"),
        ("FREQ=MONTHLY;BYDAY=MO,1TU", "mixes"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS"),
        ("FREQ=YEARLY;WKST=XX", "WKST"),
        ("FREQ=YEARLY;", "NAME=VALUE"),
        ("", "no RRULE"),
        ("FREQ=YEARLY;BYMONTH=" + ",".join(["1"] * 600), "at most"),
    ],
)
def test_rules_outside_the_grammar_are_refused_naming_the_path(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message) as caught:
        calendar_with(text)
    assert {p.path for p in caught.value.problems} == {"holidays[0].rrule"}


def test_a_rule_that_is_not_text_is_refused() -> None:
    with pytest.raises(CalendarError, match="recurrence rule"):
        Holiday(rule=42)  # type: ignore[arg-type]


def test_the_docs_rules_close_the_days_they_name() -> None:
    cal = calendar_with("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH")
    assert not cal.is_open(datetime(2027, 11, 25, 10, tzinfo=NY))
    assert cal.is_open(datetime(2027, 11, 24, 10, tzinfo=NY))
    mlk = Holiday(rule="FREQ=YEARLY;BYMONTH=1;BYDAY=3MO")
    assert [date(2026, 1, 19), date(2027, 1, 18)] == list(
        mlk.dates(date(2026, 1, 1), date(2027, 12, 31))
    )
    last_friday = Holiday(rule="dtstart:20260101 rrule:freq=monthly;byday=fr;bysetpos=-1")
    assert [date(2026, 1, 30), date(2026, 2, 27)] == list(
        last_friday.dates(date(2025, 1, 1), date(2026, 2, 28))
    )
    assert Holiday(rule="FREQ=YEARLY") == Holiday(rule="FREQ=YEARLY")
    assert "FREQ=YEARLY" == Holiday(rule="FREQ=YEARLY").to_data()["rrule"]  # type: ignore[index]


# --- bounded work ------------------------------------------------------------------------


def test_a_holiday_every_day_makes_a_calendar_that_never_opens_and_says_so() -> None:
    began = time.perf_counter()
    cal = calendar_with("FREQ=DAILY", zone="UTC")
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    with pytest.raises(CalendarError, match="no open time for more than 25 years"):
        cal.next_open(start)
    with pytest.raises(CalendarError, match="no open time for more than 25 years"):
        cal.add(start, timedelta(hours=1))
    assert timedelta(0) == cal.between(start, start + timedelta(days=3650))
    assert time.perf_counter() - began < HANG_GUARD_S


def test_a_rule_that_never_matches_costs_only_its_span() -> None:
    began = time.perf_counter()
    cal = calendar_with("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    start = datetime(2026, 3, 2, 10, tzinfo=NY)
    assert datetime(2026, 3, 2, 14, tzinfo=NY) == cal.add(start, timedelta(hours=4))
    counted = calendar_with("DTSTART:18000101 RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3")
    assert datetime(2026, 3, 2, 14, tzinfo=NY) == counted.add(start, timedelta(hours=4))
    assert time.perf_counter() - began < HANG_GUARD_S


# --- the same days as dateutil -----------------------------------------------------------

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def rules(draw: st.DrawFn) -> str:
    """Rules in the grammar that match again and again (dateutil runs on to year 9999
    looking for a match that never comes, so it is not asked about those)."""
    freq = draw(st.sampled_from(["YEARLY", "MONTHLY", "WEEKLY", "DAILY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    start = draw(st.none() | st.datetimes(datetime(1995, 1, 1), datetime(2030, 12, 31)))
    if start is None and freq in ("WEEKLY", "DAILY"):
        start = datetime(1995, 1, 1)  # dateutil walks day by day from 1900 otherwise
    ending = draw(st.sampled_from(["none", "count", "until", "until-time"]))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif ending.startswith("until"):  # a year or more after DTSTART: matches come after
        earliest = date(1901 if start is None else start.year + 1, 1, 1)
        day = draw(st.dates(earliest, date(2045, 12, 31)))
        hour = draw(st.integers(0, 23)) if ending == "until-time" else None
        parts.append(f"UNTIL={day:%Y%m%d}" + ("" if hour is None else f"T{hour:02d}0000"))
    if draw(st.booleans()):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    kind = draw(st.sampled_from(["none", "monthday", "weekday", "nth", "monthday+weekday"]))
    if freq == "WEEKLY" and "monthday" in kind:
        kind = "weekday"
    if freq in ("WEEKLY", "DAILY") and kind == "nth":
        kind = "weekday"
    if "monthday" in kind:
        days = draw(st.lists(st.integers(1, 28), min_size=1, max_size=3, unique=True))
        signs = draw(st.lists(st.sampled_from([1, -1]), min_size=len(days), max_size=len(days)))
        parts.append(
            "BYMONTHDAY=" + ",".join(str(d * s) for d, s in zip(days, signs, strict=True))
        )
    if "weekday" in kind:
        parts.append(
            "BYDAY="
            + ",".join(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True)))
        )
    if kind == "nth":
        top = 4 if (freq == "MONTHLY" or "BYMONTH" in ";".join(parts)) else 52
        ordinals = draw(st.lists(st.integers(1, top), min_size=1, max_size=2))
        parts.append(
            "BYDAY="
            + ",".join(
                f"{draw(st.sampled_from(['', '-']))}{n}{draw(st.sampled_from(DAYS))}"
                for n in ordinals
            )
        )
    if kind != "none" and draw(st.booleans()):
        parts.append(f"BYSETPOS={draw(st.sampled_from([1, -1]))}")  # 2 may never match
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(DAYS))}")
    body = ";".join(draw(st.permutations(parts)))
    if start is None:
        return body
    stamp = f"{start:%Y%m%d}" + draw(st.sampled_from(["", f"T{start:%H%M%S}"]))
    return f"DTSTART:{stamp}\nRRULE:{body}"


@given(rules(), st.dates(date(1998, 1, 1), date(2035, 12, 31)), st.integers(0, 1500))
def test_rules_pick_the_days_dateutil_picks(text: str, first: date, days: int) -> None:
    last = first + timedelta(days=days)
    ours = list(Holiday(rule=text).dates(first, last))
    reference = rrulestr(text, dtstart=datetime(1900, 1, 1), forceset=True)
    before = datetime.combine(last + timedelta(days=1), datetime.min.time())
    theirs = sorted(
        {
            hit.date()
            for hit in reference.between(
                datetime.combine(first, datetime.min.time()), before, inc=True
            )
            if hit.date() <= last
        }
    )
    assert ours == theirs
