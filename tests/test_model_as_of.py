"""``Case.as_of`` makes its copy without ``Case.__init__`` (and its promises, pauses and
events without theirs): the same case, and the same refusals, as the checked path."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _times import fold_case_times, in_fold, instants_of, recorded_times
from cxrecovery import (
    Case,
    CaseStatus,
    Channel,
    Customer,
    Failure,
    InvalidValueError,
    Pause,
    Promise,
    PromiseStatus,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.model import CaseEvent, CaseEventKind
from cxrecovery.model._case import _expected_later
from cxrecovery.model._events import StatusAt, owner_at, status_at
from cxrecovery.model._values import NOTHING_EXPECTED
from cxrecovery.testing.strategies import cases

CASES = cases()


def _checked_as_of(case: Case, at: datetime) -> Case:
    """``as_of`` as it was written before the unchecked copies: every object made again
    through its ``__init__`` (``attrs.evolve``), every check run."""
    if case.last_event_at() <= at and not _expected_later(case, at):
        return case
    promises = []
    for promise in case.promises:
        if promise.made_at > at:
            continue
        if promise.settled_at is not None and promise.settled_at > at:
            promise = attrs.evolve(
                promise, status=PromiseStatus.PENDING, settled_at=None, settled_by=None
            )
        promises.append(promise)
    pauses = []
    for pause in case.pauses:
        if pause.started_at > at:
            continue
        if pause.ended_at is not None and pause.ended_at > at:
            pause = attrs.evolve(pause, ended_at=None)
        pauses.append(pause)
    events = []
    for event in case.events:
        if event.at > at:
            break
        if event.acknowledged_at is not None and event.acknowledged_at > at:
            event = attrs.evolve(event, acknowledged_by=None, acknowledged_at=None)
        events.append(event)
    now = StatusAt(case.status, case.resolved_at, case.closed_at)
    status, resolved_at, closed_at = status_at(case.events, now, at)
    customer = case.customer
    if _expected_later(case, at):
        customer = attrs.evolve(customer, expectation=NOTHING_EXPECTED)
    return attrs.evolve(
        case,
        customer=customer,
        status=status,
        owner=owner_at(case.events, case.owner, at),
        touchpoints=tuple(tp for tp in case.touchpoints if tp.at <= at),
        promises=tuple(promises),
        pauses=tuple(pauses),
        grants=tuple(g for g in case.grants if g.at <= at),
        events=tuple(events),
        resolved_at=resolved_at,
        closed_at=closed_at,
    )


def _same(case: Case, at: datetime) -> None:
    """``case.as_of(at)`` is what the checked path makes, or refuses what it refuses."""
    try:
        expected = _checked_as_of(case, at)
    except InvalidValueError as error:
        with pytest.raises(InvalidValueError) as caught:
            case.as_of(at)
        assert caught.value.problems == error.problems
        return
    found = case.as_of(at)
    assert found == expected
    assert hash(found) == hash(expected)
    assert repr(found) == repr(expected)
    assert type(found) is Case
    for name in ("touchpoints", "promises", "pauses", "grants", "events"):
        mine, theirs = getattr(found, name), getattr(expected, name)
        assert [type(x) for x in mine] == [type(x) for x in theirs]
        assert [repr(x) for x in mine] == [repr(x) for x in theirs]
    assert pickle.loads(pickle.dumps(found)) == expected
    # Made valid: the checked constructor takes it as it is.
    assert attrs.evolve(found) == found


@given(st.data())
def test_as_of_is_the_checked_copy(data: st.DataObject) -> None:
    case = data.draw(CASES)
    mine = instants_of(case)
    at = data.draw(st.sampled_from(mine)) if data.draw(st.booleans()) else case.opened_at
    at += timedelta(seconds=data.draw(st.sampled_from([-1, 0, 0, 1, 3600])))
    if at < case.opened_at:
        at = case.opened_at
    _same(case, at)


# Zones to draw fold times in (None: New York's, see _times.in_fold).
_ZONES = (UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)), None)


@given(
    st.lists(
        st.tuples(st.integers(0, 12).map(lambda q: q * 10), st.sampled_from(_ZONES)),
        min_size=2,
        max_size=7,
    ),
    st.tuples(st.integers(0, 12).map(lambda q: q * 10), st.sampled_from(_ZONES)),
)
@example([(0, UTC), (30, UTC), (30, None), (60, None)], (35, None))
def test_as_of_in_a_fold_is_the_checked_copy(
    times: list[tuple[int, tzinfo | None]], cut: tuple[int, tzinfo | None]
) -> None:
    opened, touchpoints = fold_case_times(times)
    promises = tuple(
        Promise(
            f"p-{i}",
            "call back",
            when,
            when + timedelta(hours=1),
            status="kept",
            settled_at=when + timedelta(minutes=40),
        )
        for i, when in enumerate(touchpoints[:2])
    )
    case = Case(
        "c-1",
        Customer("u-1"),
        Failure("x", "low", "company", service_usable=True),
        opened,
        touchpoints=tuple(
            Touchpoint(t, Channel.EMAIL, TouchpointKind.CONTACT) for t in touchpoints
        ),
        promises=promises,
        pauses=tuple(
            Pause("waiting", t, ended_at=t + timedelta(minutes=25)) for t in touchpoints[:1]
        ),
    )
    at = in_fold(*cut)
    if at >= opened:
        _same(case, at)


def test_a_pause_ending_after_the_case_closed_is_refused_as_of_before_it_ended() -> None:
    # Valid as a whole: closed at 10:00, the pause ended at 11:00. As of 10:30 the case
    # is closed with a pause going on, which no case may be: the copy is checked again.
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    case = Case(
        "c-2",
        Customer("u-2"),
        Failure("x", "low", "company", service_usable=True),
        t,
        status=CaseStatus.CLOSED,
        resolved_at=t + timedelta(minutes=30),
        closed_at=t + timedelta(hours=1),
        pauses=(Pause("waiting", t + timedelta(minutes=10), ended_at=t + timedelta(hours=2)),),
    )
    with pytest.raises(InvalidValueError, match="a closed case has no open pause"):
        case.as_of(t + timedelta(minutes=90))
    _same(case, t + timedelta(minutes=90))


def test_an_escalation_acknowledged_later_is_unacknowledged_as_the_checked_copy() -> None:
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    event = CaseEvent(
        CaseEventKind.ESCALATED,
        t + timedelta(minutes=5),
        level=1,
        role="supervisor",
        acknowledged_by="sup-1",
        acknowledged_at=t + timedelta(hours=1),
        note="n",
    )
    case = Case(
        "c-3",
        Customer("u-3"),
        Failure("x", "low", "company", service_usable=True),
        t,
        events=(event,),
    )
    _same(case, t + timedelta(minutes=30))
    assert case.as_of(t + timedelta(minutes=30)).events[0].acknowledged_at is None


@given(st.data())
def test_last_event_at_is_kept_outside_the_case_value(data: st.DataObject) -> None:
    """A case keeps its ``last_event_at`` once worked out, in a slot that is no field:
    the same answer (the max of every time it records), and the case's equality, hash,
    repr and pickle as before it was asked; a copy made without ``__init__`` (as of a
    time, unpickled) works it out again."""
    case = data.draw(CASES)
    pickled, shown, hashed = pickle.dumps(case), repr(case), hash(case)
    first = case.last_event_at()
    assert first is max(recorded_times(case))
    assert case.last_event_at() is first
    assert (pickle.dumps(case), repr(case), hash(case)) == (pickled, shown, hashed)
    again = pickle.loads(pickled)
    assert again == case
    assert again.last_event_at() == first
    assert attrs.evolve(case).last_event_at() == first
    at = data.draw(st.sampled_from(recorded_times(case)))
    known = case.as_of(at)
    assert known.last_event_at() == max(recorded_times(known))
    assert pickle.dumps(known) == pickle.dumps(_checked_as_of(case, at))
