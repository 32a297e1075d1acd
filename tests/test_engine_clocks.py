"""The engine's clocks: one computation for every clock, paused or not."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

import cxrecovery as cx
from _deferral import is_set
from cxrecovery.engine._clocks import met_by
from cxrecovery.engine._history import changed_at, latest
from cxrecovery.testing.strategies import cases as cx_cases

NEW_YORK = "America/New_York"

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "cases" / "coffee-order.json"


def _policy(pauses: list[str]) -> cx.Policy:
    clock: dict[str, Any] = {
        "calendar": "support",
        "start": "opened",
        "stop": "first_response",
        "pauses": pauses,
        "warnings": ["50%", "75%"],
        "escalate": {"breach": 1},
        "targets": {
            "hit_policy": "first",
            "inputs": ["severity"],
            "outputs": {"target": "string"},
            "rules": [{"id": "all", "then": {"target": "PT8H"}}],
        },
    }
    return cx.load_policy(
        {
            "policy": {"name": "p", "version": "1", "extends": "default"},
            "clocks": {"first_response": clock},
        }
    )


def _case(pauses: list[dict[str, str]]) -> cx.Case:
    doc = json.loads(EXAMPLE.read_text())
    doc["opened_at"] = "2026-06-09T09:00:00+00:00"
    doc["touchpoints"] = [
        {"at": "2026-06-09T09:00:00+00:00", "channel": "email", "kind": "contact"},
        {
            "at": "2026-06-09T12:00:00+00:00",
            "channel": "email",
            "kind": "contact",
            "direction": "outbound",
            "agent": "a",
        },
    ]
    doc["pauses"] = pauses
    return cx.load_case(doc)


def _first_response(policy: cx.Policy, case: cx.Case) -> cx.ClockState:
    plan = cx.Engine(policy).decide(case, at=datetime(2026, 6, 9, 13, tzinfo=UTC))
    return next(c for c in plan.clocks if c.name == "first_response")


def test_a_stopped_clock_shows_its_due_and_warning_times_whether_or_not_it_pauses() -> None:
    pause = {
        "reason": "waiting_on_customer",
        "started_at": "2026-06-09T10:00:00+00:00",
        "ended_at": "2026-06-09T11:00:00+00:00",
    }
    # Met at 12:00: the clock's due time and warnings stay in the plan.
    plain = _first_response(_policy([]), _case([pause]))
    assert plain.status is cx.ClockStatus.MET
    assert plain.due_at == datetime(2026, 6, 9, 17, tzinfo=UTC)
    assert [w.at for w in plain.warnings] == [
        datetime(2026, 6, 9, 13, tzinfo=UTC),
        datetime(2026, 6, 9, 15, tzinfo=UTC),
    ]
    # The same clock paused for an hour by the customer: each time an hour later (before,
    # a paused clock that stopped lost its due time and its warnings).
    paused = _first_response(_policy(["waiting_on_customer"]), _case([pause]))
    assert paused.status is cx.ClockStatus.MET
    assert paused.due_at == datetime(2026, 6, 10, 10, tzinfo=UTC)  # 17:00 is closing time
    assert [w.at for w in paused.warnings] == [
        datetime(2026, 6, 9, 14, tzinfo=UTC),
        datetime(2026, 6, 9, 16, tzinfo=UTC),
    ]
    assert paused.stopped_at == plain.stopped_at


def test_a_clock_paused_at_the_decision_time_says_so_and_has_no_due_time() -> None:
    pause = {"reason": "waiting_on_customer", "started_at": "2026-06-09T10:00:00+00:00"}
    case = attrs.evolve(_case([pause]), touchpoints=_case([]).touchpoints[:1])  # no answer
    plan = cx.Engine(_policy(["waiting_on_customer"])).decide(
        case, at=datetime(2026, 6, 9, 11, tzinfo=UTC)
    )
    clock = next(c for c in plan.clocks if c.name == "first_response")
    assert clock.status is cx.ClockStatus.PAUSED
    assert clock.due_at is None  # a pause without end and no cap: never due
    assert clock.warnings == ()  # 50 % (4 h) and 75 % lie past the pause too
    # Without the pause the same clock runs: due at 17:00, warnings at 13:00 and 15:00.
    running = cx.Engine(_policy([])).decide(case, at=datetime(2026, 6, 9, 11, tzinfo=UTC))
    plain = next(c for c in running.clocks if c.name == "first_response")
    assert plain.status is cx.ClockStatus.RUNNING
    assert plain.due_at == datetime(2026, 6, 9, 17, tzinfo=UTC)
    assert len(plain.warnings) == 2


# --- the latest of several times -------------------------------------------------------

_ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)), ZoneInfo(NEW_YORK)]
# Around the night New York's clocks go back (a fold) and a whole day more.
_BASE = datetime(2026, 10, 31, 20, tzinfo=UTC)
_times = st.builds(
    lambda s, zone, fold: (_BASE + timedelta(seconds=s)).astimezone(zone).replace(fold=fold),
    # often the fold's two hours (05:00 to 07:00 UTC) and an hour either side
    st.one_of(st.integers(0, 30 * 3600), st.integers(8 * 3600, 12 * 3600)),
    st.sampled_from([*_ZONES, ZoneInfo(NEW_YORK), ZoneInfo(NEW_YORK)]),
    st.integers(0, 1),
)


def _instant(when: datetime) -> datetime:
    return when.astimezone(UTC)


@given(st.lists(_times, min_size=1, max_size=8))
def test_latest_is_the_first_of_the_latest_instants(times: list[datetime]) -> None:
    """``latest`` answers as ``max(times, key=instant)`` whatever the zones: the same
    object, so the first of equal instants; DST zones compare as instants, not walls."""
    assert latest(times) is max(times, key=_instant)


def test_latest_of_equal_instants_in_fixed_offsets_is_the_first() -> None:
    one = datetime(2026, 6, 1, 12, tzinfo=UTC)
    other = one.astimezone(timezone(timedelta(hours=2)))
    assert latest([one, other]) is one
    assert latest([other, one]) is other


def test_latest_across_a_dst_fold_is_the_later_instant_not_the_later_wall_time() -> None:
    zone = ZoneInfo(NEW_YORK)
    edt = datetime(2026, 11, 1, 1, 30, tzinfo=zone)  # 05:30 UTC, before the clocks go back
    est = datetime(2026, 11, 1, 1, 10, tzinfo=zone, fold=1)  # 06:10 UTC, after
    assert latest([edt, est]) is est
    assert latest([est, edt]) is est


def _plain_changed_at(case: cx.Case, at: datetime, own_acts: bool) -> datetime:
    """The rule as written: every time at or before ``at``, in order, and the first of
    the latest instants."""
    times = [case.opened_at]
    times += [
        tp.at
        for tp in case.touchpoints
        if tp.at <= at and (own_acts or tp.direction is not cx.Direction.OUTBOUND)
    ]
    for p in case.promises:
        if own_acts and p.made_at <= at:
            times.append(p.made_at)
        if p.settled_at is not None and p.settled_at <= at:
            times.append(p.settled_at)
        elif p.status is cx.PromiseStatus.PENDING and p.due < at:
            times.append(p.due)
    if own_acts:
        times += [g.at for g in case.grants if g.at <= at]
    return max(times, key=_instant)


def _promise(
    i: int, one: datetime, two: datetime, status: cx.PromiseStatus, late: bool
) -> cx.Promise:
    """A promise made at the earlier of two times, due at the later, settled (unless
    pending) at one of them."""
    made, due = sorted((one, two), key=_instant)
    if due < made:  # the same zone's wall clock in a fold: in UTC
        made, due = made.astimezone(UTC), due.astimezone(UTC)
    settled = None if status is cx.PromiseStatus.PENDING else (due if late else made)
    return cx.Promise(f"p{i}", "x", made, due, status=status, settled_at=settled)


@given(
    touchpoints=st.lists(st.tuples(_times, st.booleans()), max_size=6),
    promises=st.lists(
        st.tuples(_times, _times, st.sampled_from(list(cx.PromiseStatus)), st.booleans()),
        max_size=3,
    ),
    grants=st.lists(_times, max_size=2),
    at=_times,
    own_acts=st.booleans(),
)
def test_changed_at_is_the_latest_time_known_at_the_instant(
    touchpoints: list[tuple[datetime, bool]],
    promises: list[tuple[datetime, datetime, cx.PromiseStatus, bool]],
    grants: list[datetime],
    at: datetime,
    own_acts: bool,
) -> None:
    """One pass over the case's times gives the same object as the rule written out
    (:func:`_plain_changed_at`), whatever the zones and folds; ``at`` is a fixed offset,
    as the engine's decision time is."""
    at = at.astimezone(timezone(at.utcoffset() or timedelta(0)))
    opened = _BASE - timedelta(hours=1)
    points = sorted(touchpoints, key=lambda t: _instant(t[0]))
    if any(b[0] < a[0] for a, b in pairwise(points)):
        points = [(t.astimezone(UTC), out) for t, out in points]  # wall order breaks in a fold
    case = cx.Case(
        "c",
        cx.Customer("k"),
        cx.Failure("late_delivery", cx.Severity.LOW, cx.Fault.COMPANY, service_usable=True),
        opened,
        touchpoints=[
            cx.Touchpoint(
                t,
                cx.Channel.EMAIL,
                cx.TouchpointKind.CONTACT,
                direction=cx.Direction.OUTBOUND if out else cx.Direction.INBOUND,
            )
            for t, out in points
        ],
        promises=[_promise(i, *p) for i, p in enumerate(promises)],
        grants=[cx.Grant(f"g{i}", "voucher", g) for i, g in enumerate(grants)],
    )
    assert changed_at(case, at, own_acts=own_acts) is _plain_changed_at(case, at, own_acts)


def test_changed_at_across_a_dst_fold_is_the_later_instant_not_the_later_wall_time() -> None:
    zone = ZoneInfo(NEW_YORK)
    est = datetime(2026, 11, 1, 1, 10, tzinfo=zone, fold=1)  # 06:10 UTC, after
    edt = datetime(2026, 11, 1, 1, 30, tzinfo=zone)  # 05:30 UTC, before the clocks go back
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    case = cx.Case(
        "c",
        cx.Customer("k"),
        cx.Failure("late_delivery", cx.Severity.LOW, cx.Fault.COMPANY, service_usable=True),
        _BASE,
        touchpoints=[cx.Touchpoint(est, cx.Channel.EMAIL, cx.TouchpointKind.CONTACT)],
        promises=[cx.Promise("p", "x", edt, at)],  # made after by wall clock, before in time
    )
    assert changed_at(case, at, own_acts=True) is est


# --- the clocks' share of the decision's two halves ----------------------------------------

ENGINE = cx.Engine(cx.default_policy())
ROLES = [r.name for r in ENGINE.policy.roles]
CASES = EXAMPLE.parent
# A clock state's fields shown in its calendar's zone, on first read.
SHOWN = ("due_at", "warnings")


def _eager(state: cx.ClockState) -> cx.ClockState:
    """The state made in one go, by its constructor, from the values it reads."""
    return cx.ClockState(**{f.name: getattr(state, f.name) for f in attrs.fields(cx.ClockState)})


@st.composite
def _decisions(draw: st.DrawFn) -> tuple[cx.Case, datetime, cx.Agent]:
    case = draw(cx_cases())
    offset = draw(st.integers(min_value=0, max_value=10 * 24 * 3600))
    role = draw(st.sampled_from(ROLES))
    return case, case.last_event_at() + timedelta(seconds=offset), cx.Agent("a-1", role)


@given(_decisions())
def test_a_clock_state_shows_its_times_on_first_read_as_one_made_in_one_go(
    found: tuple[cx.Case, datetime, cx.Agent],
) -> None:
    """Differential: each clock state of a plan, its due time and warnings left to its
    first read, reads as the state made by the constructor from the same values (==,
    hash, repr, pickle, JSON), and the plan's clocks and next review are the eager
    plan's. (A stopped clock's times are read by nothing the decision does.)"""
    case, at, agent = found
    eager = ENGINE.decide(case, at=at, agent=agent, explain=True)
    made = [_eager(s) for s in ENGINE.decide(case, at=at, agent=agent).clocks]
    for read in (hash, repr, pickle.dumps):  # each reads a fresh state through
        states = ENGINE.decide(case, at=at, agent=agent).clocks
        stopped = [s for s in states if s.stopped_at is not None]
        assert not any(is_set(s, name) for s in stopped for name in SHOWN)
        assert [read(s) for s in states] == [read(s) for s in made]
        assert all(is_set(s, name) for s in states for name in SHOWN)
        assert list(states) == made
    plan = ENGINE.decide(case, at=at, agent=agent)
    assert json.dumps([attrs.asdict(s) for s in plan.clocks], default=str) == json.dumps(
        [attrs.asdict(s) for s in eager.clocks], default=str
    )
    assert plan.next_review_at == eager.next_review_at
    if not case.as_of(at).pauses:  # then each time is an addition from the start
        policy = ENGINE.policy
        for state in ENGINE.decide(case, at=at, agent=agent).clocks:
            calendar = policy.calendars[state.calendar]
            (clock,) = [c for c in policy.clocks if c.name == state.name]
            add = calendar.add
            assert state.due_at == add(state.started_at, state.target)
            assert [(w.name, w.at) for w in state.warnings] == [
                (w.name, add(state.started_at, w.threshold(state.target))) for w in clock.warnings
            ]
            assert state.due_at.tzinfo is calendar.zone


def test_an_escalation_is_worded_on_first_read_as_an_eager_plan_words_it() -> None:
    """The escalate action's summary and reasons (each row of the escalation table and
    each clock level behind it) wait for their first read, and then say what an
    explained plan says."""
    case = cx.load_case(CASES / "dropped-call.json")
    at = case.last_event_at() + timedelta(hours=30)
    eager = ENGINE.decide(case, at=at, explain=True)
    (told,) = [a for a in eager.actions if a.kind is cx.ActionKind.ESCALATE]
    assert told.level == 2
    assert told.summary == (
        "Escalate to level 2 (Service manager): manager acts by 2026-05-13T13:00:00-05:00"
    )
    # Each escalation row behind it, then each clock's level, in the clocks' order.
    assert [(r.rule, r.text) for r in told.reasons][-4:] == [
        ("clocks", "level 1: resolution clock passed 75% of its target"),
        ("clocks", "level 1: resolution clock breached its PT8H target"),
        ("clocks", "level 1: next_update clock breached its PT8H target"),
        ("clocks", "level 1: limbo clock breached its PT16H target"),
    ]
    assert told.reasons[1].rule == "tables.escalation[second-broken-promise]"
    assert told.reasons[1].text == "level 2: a second promise was broken"
    plan = ENGINE.decide(case, at=at)
    (action,) = [a for a in plan.actions if a.kind is cx.ActionKind.ESCALATE]
    assert (action.kind, action.owner, action.due, action.level) == (
        told.kind,
        told.owner,
        told.due,
        told.level,
    )
    assert not any(is_set(action, name) for name in ("summary", "details", "reasons"))
    assert (action.summary, action.details, action.reasons) == (
        told.summary,
        told.details,
        told.reasons,
    )
    assert action == told


# --- a stopped clock's verdict, read off its due time ------------------------------------

_MINUTE_US = 60 * 10**6


@st.composite
def _calendars(draw: st.DrawFn) -> cx.BusinessCalendar:
    """Weekly hours (a window a day or none, on quarter hours, some to midnight) in a
    fixed zone or one with DST, perhaps with a holiday and a half-day closure."""
    zone = draw(st.sampled_from(["UTC", NEW_YORK, "Europe/London"]))
    hours: dict[str, list[str]] = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if draw(st.booleans()):
            start = draw(st.integers(0, 95)) * 15
            end = draw(st.integers(start // 15 + 1, 96)) * 15
            hours[day] = [f"{start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}"]
    if not hours:
        hours["mon"] = ["09:00-17:00"]
    holidays: list[object] = []
    if draw(st.booleans()):
        holidays.append(f"2026-03-{draw(st.integers(2, 30)):02}")
    if draw(st.booleans()):
        holidays.append({"date": "2026-03-20", "closed": "12:00-24:00"})
    return cx.BusinessCalendar(zone, hours=hours, holidays=holidays)


@given(
    _calendars(),
    st.integers(0, 30 * 1440),  # the start: minutes into March 2026 (DST begins in it)
    st.one_of(st.none(), st.integers(0, 3 * 7 * 1440)),  # target minutes (None: to a close)
    st.integers(-60, 3 * 1440),  # the stop, in minutes from the due time
    st.sampled_from([0, 1, -1, 29_999_999]),  # microseconds off the whole minute
)
def test_a_stopped_clock_met_its_target_as_its_due_time_tells(
    calendar: cx.BusinessCalendar, start: int, target: int | None, stop: int, off: int
) -> None:
    """``met_by`` (the engine's verdict on a stopped clock no pause touches, read off its
    due time) agrees with the plain rule: business time from the start to the stop no
    more than the target. The target is whole minutes, or the open time up to the next
    closing time (a due time at a closing time, the stop often in the closed time after
    it); the offsets step a microsecond off."""
    start_us = calendar.instant(datetime(2026, 3, 1, tzinfo=UTC)) + start * _MINUTE_US
    if target is None:
        close = calendar.next_close(calendar.datetime_at(start_us))
        assert close is not None  # every calendar here closes weekly
        target_us = calendar.between_us(start_us, calendar.instant(close))
    else:
        target_us = target * _MINUTE_US
    target_us = max(0, target_us + off)
    due_us = calendar.add_us(start_us, target_us)
    stop_us = max(start_us, due_us + stop * _MINUTE_US)
    plain = calendar.between_us(start_us, stop_us) <= target_us
    assert met_by(calendar, due_us, stop_us) is plain
    assert met_by(calendar, due_us, due_us) is True  # stopped when due: on time
