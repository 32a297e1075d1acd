"""Telling the customer: when the next update is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.engine._notify import _update_due
from cxrecovery.plan import ClockState, ClockStatus

HOURS = {"mon-fri": ["09:00-17:00"]}
UTC_CAL = BusinessCalendar("UTC", hours=HOURS)
PARIS = BusinessCalendar("Europe/Paris", hours=HOURS)
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

_Due = tuple[int | None, BusinessCalendar]


def _clock(
    name: str, status: ClockStatus, due: datetime | None, calendar: BusinessCalendar = UTC_CAL
) -> tuple[ClockState, _Due]:
    state = ClockState(name, status, timedelta(hours=4), START, due)
    return state, (None if due is None else calendar.instant(due), calendar)


def _due(*clocks: tuple[ClockState, _Due]) -> datetime | None:
    return _update_due([state for state, _ in clocks], [due for _, due in clocks])


def test_the_update_is_due_at_the_earliest_running_or_breached_update_clock() -> None:
    later = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    earlier = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    clocks = [
        _clock("resolution", ClockStatus.RUNNING, datetime(2026, 5, 4, 10, 0, tzinfo=UTC)),
        _clock("next_update", ClockStatus.RUNNING, later),
        _clock("first_response", ClockStatus.BREACHED, earlier),
    ]
    assert earlier == _due(*clocks)
    assert later == _due(*clocks[:2])
    assert _due(*clocks[:1]) is None
    assert _due(_clock("first_response", ClockStatus.MET, earlier)) is None
    assert _due(_clock("next_update", ClockStatus.RUNNING, None)) is None


def test_of_equal_instants_the_first_update_clock_gives_the_due_time() -> None:
    utc = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    found = _due(
        _clock("first_response", ClockStatus.RUNNING, utc, PARIS),
        _clock("next_update", ClockStatus.RUNNING, utc),
    )
    assert found == utc
    assert found is not None
    assert str(found.tzinfo) == "Europe/Paris"  # shown in the first clock's zone


def test_the_due_time_is_found_without_filling_the_states() -> None:
    def fill() -> dict[str, object]:
        raise AssertionError("the state was filled")

    due = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    state = ClockState._deferred(
        fill,
        name="next_update",
        status=ClockStatus.RUNNING,
        target=timedelta(hours=4),
        started_at=START,
        stopped_at=None,
        calendar="support",
        rule="r",
    )
    assert due == _update_due([state], [(UTC_CAL.instant(due), UTC_CAL)])
