"""Telling the customer: when the next update is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cxrecovery.engine._notify import _update_due
from cxrecovery.engine._support import fixed_epochs
from cxrecovery.plan import ClockState, ClockStatus
from cxrecovery.policy import default_policy

EPOCHS = fixed_epochs(default_policy())
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _clock(name: str, status: ClockStatus, due: datetime | None) -> ClockState:
    return ClockState(name, status, timedelta(hours=4), START, due)


def test_the_update_is_due_at_the_earliest_running_or_breached_update_clock() -> None:
    later = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    earlier = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    clocks = [
        _clock("resolution", ClockStatus.RUNNING, datetime(2026, 5, 4, 10, 0, tzinfo=UTC)),
        _clock("next_update", ClockStatus.RUNNING, later),
        _clock("first_response", ClockStatus.BREACHED, earlier),
    ]
    assert earlier == _update_due(clocks, EPOCHS)
    assert later == _update_due(clocks[:2], EPOCHS)
    assert _update_due(clocks[:1], EPOCHS) is None
    met = [_clock("first_response", ClockStatus.MET, earlier)]
    assert _update_due(met, EPOCHS) is None


def test_of_equal_instants_the_first_update_clock_gives_the_due_time() -> None:
    utc = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    shown = utc.astimezone(timezone(timedelta(hours=2)))
    clocks = [
        _clock("first_response", ClockStatus.RUNNING, shown),
        _clock("next_update", ClockStatus.RUNNING, utc),
    ]
    found = _update_due(clocks, EPOCHS)
    assert found is not None
    assert found.tzinfo == shown.tzinfo
