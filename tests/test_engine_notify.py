"""Telling the customer: when the next update is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.engine._notify import _update_due
from cxrecovery.engine._pending import NO_VALUES, DueShown, Explained, Pending, new_pending
from cxrecovery.plan import ActionKind, ClockState, ClockStatus

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
    """The update's due time as the action shows it (see DueShown)."""
    dues = [due for _, due in clocks]
    found = _update_due([state for state, _ in clocks], dues)
    if found is None:
        return None
    due_us, calendar = dues[found]
    assert due_us is not None
    return calendar.datetime_at(due_us)


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
    assert _update_due([state], [(UTC_CAL.instant(due), UTC_CAL)]) == 0


def test_an_action_due_at_an_instant_shows_it_in_its_calendars_zone() -> None:
    utc = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
    fields = (ActionKind.NOTIFY, _no_words, (), None, (PARIS.instant(utc), PARIS))
    shown = new_pending(DueShown, (*fields, *NO_VALUES[1:]))
    assert shown.due == utc
    assert shown.due is not None
    assert str(shown.due.tzinfo) == "Europe/Paris"
    assert shown.kind is ActionKind.NOTIFY
    assert shown.channel is None
    # The same action made with its due time shown already: equal in every field read.
    plain = new_pending(Pending, (*fields[:4], utc, *NO_VALUES[1:]))
    assert [getattr(shown, f) for f in Pending._fields] == [
        getattr(plain, f) for f in Pending._fields
    ]
    # And the action it defers (its words not read) holds the due time shown.
    nobody: Any = None
    deferred, expected = shown.deferred(nobody, True), plain.deferred(nobody, True)
    for field in ("kind", "owner", "due", "authority", "amount", "channel", "overdue"):
        assert getattr(deferred, field) == getattr(expected, field)
    assert deferred.due is not None
    assert str(deferred.due.tzinfo) == "Europe/Paris"


def _no_words(d: object) -> Explained:
    raise AssertionError("not read")


def test_a_follow_up_falls_due_at_the_calendar_s_next_opening_after_the_fix() -> None:
    # Held as an instant and its calendar (DueShown), shown on read: the same time the
    # calendar's next_open gives, alike in a deferred plan and an explained one.
    from cxrecovery import Engine, default_policy, synthetic_cases
    from cxrecovery.formats.durations import parse_duration

    engine = Engine(default_policy())
    calendar = engine.policy.calendars[engine.policy.follow_up_calendar]
    seen = 0
    for case in synthetic_cases(60, seed=7):
        at = case.last_event_at() + timedelta(hours=1)
        plan = engine.decide(case, at=at)
        explained = engine.decide(case, at=at, explain=True)
        follow_ups = plan.actions_of(ActionKind.FOLLOW_UP)
        assert [a.due for a in follow_ups] == [
            a.due for a in explained.actions_of(ActionKind.FOLLOW_UP)
        ]
        if case.resolved_at is None or case.resolved_at > at:
            continue
        for action in follow_ups:
            after = parse_duration(str(action.details["after"]))
            expected = calendar.next_open(case.resolved_at + after)
            assert (expected, expected.tzinfo) == (action.due, action.due.tzinfo)
            seen += 1
    assert seen
