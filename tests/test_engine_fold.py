"""Times in a DST fold: the engine orders them as instants, not as wall clocks.

Two datetimes that share a zone compare by wall clock with ``fold`` ignored (PEP 495).
A calendar in a zone with DST returns its answers in that zone, so in the hour a fold
repeats, 01:10 EST (the later instant) compares before 01:55 EDT.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cxrecovery as cx
from cxrecovery._validation import aware_arg
from cxrecovery.engine._support import comparable, instant_arg
from cxrecovery.policy import load_policy
from cxrecovery.replay import DueKind, sweep

ALL_DAY = ["00:00-24:00"]
NEW_YORK = "America/New_York"


@pytest.fixture(scope="module")
def engine() -> cx.Engine:
    policy = load_policy(
        {
            "policy": {"name": "new-york", "version": "1", "extends": "default"},
            "calendars": {
                "support": {
                    "time_zone": NEW_YORK,
                    "hours": {"mon-fri": ALL_DAY, "sat-sun": ALL_DAY},
                },
                "always": {"time_zone": NEW_YORK, "hours": {"mon-sun": ALL_DAY}},
            },
        }
    )
    return cx.Engine(policy)


def fold_case(case_id: str = "fold-1") -> cx.Case:
    # Opened at 01:25 EDT on the night New York's clocks go back: the first-response
    # clock's due time and warnings fall on both sides of the fold.
    opened = datetime(2026, 11, 1, 5, 25, tzinfo=UTC)
    failure = cx.Failure(
        "late_delivery",
        cx.Severity.HIGH,
        cx.Fault.COMPANY,
        value_at_stake=cx.Money("80.00", "USD"),
        service_usable=True,
    )
    return cx.Case(case_id, cx.Customer("c-1"), failure, opened, channel=cx.Channel.CHAT)


def test_next_review_is_the_earliest_instant_across_the_fold(engine: cx.Engine) -> None:
    case = fold_case()
    at = case.opened_at + timedelta(minutes=1)
    plan = engine.decide(case, at=at)
    ahead = [
        when
        for clock in plan.clocks
        if clock.status is cx.ClockStatus.RUNNING
        for when in (clock.due_at, *(w.at for w in clock.warnings))
        if when is not None and when > at
    ]
    shown = sorted(t.isoformat() for t in ahead)
    # Both sides of the fold are there: the wall-clock minimum is not the earliest.
    assert "2026-11-01T01:55:00-04:00" in shown
    assert "2026-11-01T01:10:00-05:00" in shown
    earliest = min(ahead, key=lambda t: t.astimezone(UTC))
    assert plan.next_review_at is not None
    assert plan.next_review_at.isoformat() == "2026-11-01T01:55:00-04:00"
    assert plan.next_review_at.astimezone(UTC) == earliest.astimezone(UTC)
    # Just before it the plan is the same; at it, it has changed.
    before = engine.decide(case, at=plan.next_review_at - timedelta(microseconds=1))
    after = engine.decide(case, at=plan.next_review_at)
    assert before.decision() == plan.decision()
    assert after.decision() != plan.decision()


def test_sweep_orders_due_times_as_instants(engine: cx.Engine) -> None:
    # Two cases whose first-response clocks breached on either side of the fold:
    # "edt" at 01:40 EDT (05:40 UTC), "est" at 01:05 EST (06:05 UTC). The earlier
    # instant comes first, though its wall clock reads later.
    base = fold_case()
    edt = attrs.evolve(base, id="edt", opened_at=datetime(2026, 11, 1, 4, 40, tzinfo=UTC))
    est = attrs.evolve(base, id="est", opened_at=datetime(2026, 11, 1, 5, 5, tzinfo=UTC))
    at = datetime(2026, 11, 1, 1, 12, fold=1, tzinfo=ZoneInfo(NEW_YORK))  # 06:12 UTC
    result = sweep(engine, [est, edt], at)
    breaches = [(i.case_id, i.due.isoformat()) for i in result.items if i.kind is DueKind.BREACH]
    assert breaches == [
        ("edt", "2026-11-01T01:40:00-04:00"),
        ("est", "2026-11-01T01:05:00-05:00"),
    ]


@given(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-5)), ZoneInfo(NEW_YORK), ZoneInfo("UTC")]
        ),
    )
)
def test_the_instant_an_engine_is_asked_about_is_the_checked_comparable_one(
    at: datetime,
) -> None:
    # A fixed offset passes as it is (two class tests); any other zone goes the full way.
    if type(at.tzinfo) is timezone:
        assert instant_arg(at) is at
    assert instant_arg(at) == comparable(aware_arg(at, "at"))
    assert instant_arg(at).tzinfo is comparable(aware_arg(at, "at")).tzinfo
    for bad in (at.replace(tzinfo=None), at.isoformat()):
        with pytest.raises(cx.InvalidValueError) as caught:
            instant_arg(bad)
        with pytest.raises(cx.InvalidValueError) as plain:
            aware_arg(bad, "at")
        assert caught.value.problems == plain.value.problems


@given(st.integers(0, 4 * 3600), st.sampled_from([UTC, ZoneInfo(NEW_YORK)]))
def test_an_action_is_overdue_when_its_due_instant_is_past_across_the_fold(
    engine: cx.Engine, seconds: int, zone: tzinfo
) -> None:
    # Decision times through the night the clocks go back (in New York's zone too,
    # either side of the fold): an action is overdue exactly when its due time, as an
    # instant, is before the decision's.
    case = fold_case()
    at = (case.opened_at + timedelta(seconds=seconds)).astimezone(zone)
    plan = engine.decide(case, at=at)
    assert plan.actions
    for action in plan.actions:
        due = action.due
        late = due is not None and due.astimezone(UTC) < at.astimezone(UTC)
        assert action.overdue is late
