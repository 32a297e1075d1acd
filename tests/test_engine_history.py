"""Decisions over time, as properties: a decision sees only what was known at its instant,
and carrying out a plan leaves nothing to do again at that instant."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
from hypothesis import given, note
from hypothesis import strategies as st

from cxrecovery import (
    ActionKind,
    Agent,
    Case,
    CaseStatus,
    Channel,
    CompensationForm,
    Engine,
    Grant,
    Money,
    Promise,
    PromiseStatus,
    Touchpoint,
    TouchpointKind,
    default_policy,
)
from cxrecovery.model import CaseEvent, CaseEventKind
from cxrecovery.plan import record
from cxrecovery.replay import DueKind
from cxrecovery.testing.strategies import cases

POLICY = default_policy()
ENGINE = Engine(POLICY)
ROLES = [r.name for r in POLICY.roles]
CASES = cases()


@st.composite
def instants(draw: st.DrawFn, case: Case) -> datetime:
    """An instant from the case's opening to a while after its last event: often one of
    its own event instants, where as-of views cut."""
    last = case.last_event_at()
    span = int((last - case.opened_at).total_seconds()) + 3 * 86400
    mine = sorted(_instants(case))
    if mine and draw(st.booleans()):
        return draw(st.sampled_from(mine))
    return case.opened_at + timedelta(seconds=draw(st.integers(0, span)))


def _instants(case: Case) -> set[datetime]:
    times = {case.opened_at, *(tp.at for tp in case.touchpoints), *(g.at for g in case.grants)}
    for promise in case.promises:
        times.add(promise.made_at)
        if promise.settled_at is not None:
            times.add(promise.settled_at)
    times.update(e.at for e in case.events)
    return times


@given(st.data())
def test_a_decision_is_the_decision_on_the_case_as_of_its_instant(data: st.DataObject) -> None:
    case = data.draw(CASES)
    at = data.draw(instants(case))
    agent = Agent("a-1", data.draw(st.sampled_from(ROLES)))
    then = case.as_of(at)
    assert then.as_of(at) == then
    assert then.last_event_at() <= at
    assert ENGINE.decide(case, at=at, agent=agent) == ENGINE.decide(then, at=at, agent=agent)
    assert ENGINE.facts(case, at) == ENGINE.facts(then, at)


_LATER_KINDS = st.sampled_from(
    [
        CaseEventKind.APOLOGIZED,
        CaseEventKind.REMEDIED,
        CaseEventKind.FOLLOWED_UP,
        CaseEventKind.ESCALATED,
    ]
)


@given(st.data())
def test_adding_anything_after_the_instant_changes_nothing(data: st.DataObject) -> None:
    case = data.draw(CASES)
    at = data.draw(instants(case))
    after = max(at, case.last_event_at()) + timedelta(seconds=data.draw(st.integers(1, 86400)))
    what = data.draw(st.sampled_from(["event", "touchpoint", "promise", "grant", "settle"]))
    if what == "event":
        kind = data.draw(_LATER_KINDS)
        level = 1 if kind is CaseEventKind.ESCALATED else None
        later = attrs.evolve(case, events=(*case.events, CaseEvent(kind, after, level=level)))
    elif what == "touchpoint":
        touchpoint = Touchpoint(after, Channel.PHONE, TouchpointKind.CONTACT)
        later = attrs.evolve(case, touchpoints=(*case.touchpoints, touchpoint))
    elif what == "promise":
        promise = Promise("later-promise", "later", after, after + timedelta(hours=1))
        later = attrs.evolve(case, promises=(*case.promises, promise))
    elif what == "grant":
        grant = Grant("later-grant", CompensationForm.CREDIT, after, amount=Money("5", "EUR"))
        later = attrs.evolve(case, grants=(*case.grants, grant))
    else:  # settle a promise pending at the instant, later
        pending = [p for p in case.promises if p.is_pending]
        if not pending:
            return
        settled = attrs.evolve(pending[0], status=PromiseStatus.KEPT, settled_at=after)
        later = attrs.evolve(
            case, promises=tuple(settled if p is pending[0] else p for p in case.promises)
        )
    note(f"at={at.isoformat()} added {what} at {after.isoformat()}")
    assert later.as_of(at) == case.as_of(at)
    assert ENGINE.decide(later, at=at) == ENGINE.decide(case, at=at)


def _carry_out(case: Case, at: datetime) -> tuple[Case, frozenset[ActionKind]]:
    plan = ENGINE.decide(case, at=at)
    done = case
    for action in plan.actions:
        done = record(done, action, by="agent-9", at=at)
    return done, frozenset(a.kind for a in plan.actions)


@given(st.data())
def test_carrying_out_a_plan_leaves_nothing_to_do_again_at_that_instant(
    data: st.DataObject,
) -> None:
    case = data.draw(CASES)
    at = max(case.last_event_at(), data.draw(instants(case)))
    if case.as_of(at).status is CaseStatus.CLOSED:
        return
    done, kinds = _carry_out(case, at)
    again = ENGINE.decide(done, at=at)
    note(f"first: {[a.kind.value for a in ENGINE.decide(case, at=at).actions]}")
    note(f"again: {[(a.kind.value, a.due) for a in again.actions]}")
    for action in again.actions:
        if action.kind is ActionKind.NOTIFY:
            # The next update, when it falls due: told now, not told again before then.
            assert action.due is None or action.due > at
            continue
        assert action.kind not in kinds, action.summary
    # Nothing the plan asked for is due again. A promise of the case's own falling due
    # now stays listed: keeping it is the host's work, not an action of the plan (and
    # with no horizon, the promise the plan made, due later, is not listed).
    swept = ENGINE.sweep([done], at, promise_horizon=timedelta(0))
    left = [item for item in swept.items if item.kind is not DueKind.PROMISE_DUE]
    assert left == [], left


def test_the_laptop_repair_loop_closes() -> None:
    from pathlib import Path

    from cxrecovery import load_case

    case = load_case(Path(__file__).parent.parent / "examples" / "cases" / "laptop-repair.json")
    at = case.last_event_at()
    assert ENGINE.sweep([case], at).items  # due: the breach, the escalation, the update
    done, kinds = _carry_out(case, at)
    assert ActionKind.ESCALATE in kinds
    again = ENGINE.decide(done, at=at)
    assert again.action(ActionKind.ESCALATE) is None
    assert again.escalation_level == 1
    assert ENGINE.sweep([done], at, promise_horizon=timedelta(0)).items == ()
