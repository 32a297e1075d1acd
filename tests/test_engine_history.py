"""Decisions over time, as properties: a decision sees only what was known at its instant,
and carrying out a plan leaves nothing to do again at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
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


def _late_promise_case(*touchpoints: Touchpoint) -> Case:
    """A small company-fault case: two promises due at the opening and still pending a
    week later, put right at the opening, escalated then."""
    from decimal import Decimal

    from cxrecovery import Customer, ExpectationBaseline, Failure, Fault, Severity

    opened = datetime(2024, 1, 1, tzinfo=UTC)
    return Case(
        id="late-promise",
        customer=Customer(
            id="c-1",
            segment="standard",
            expectation=ExpectationBaseline(compensation_ratio=Decimal("0.00"), reason=""),
        ),
        failure=Failure(
            category="delivery",
            severity=Severity.LOW,
            fault=Fault.COMPANY,
            value_at_stake=Money("0.08", "EUR"),
            service_usable=False,
        ),
        opened_at=opened,
        status=CaseStatus.RESOLVED,
        resolved_at=opened,
        owner="agent-1",
        touchpoints=touchpoints,
        promises=(
            Promise("p-1", "a call back", opened, opened),
            Promise("p-2", "a new date", opened, opened),
        ),
        events=(
            CaseEvent(CaseEventKind.ASSIGNED, opened, owner="agent-1"),
            CaseEvent(CaseEventKind.ESCALATED, opened, level=1),
            CaseEvent(CaseEventKind.ESCALATED, opened + timedelta(days=7), level=1),
        ),
    )


def test_granting_the_goodwill_a_plan_asks_for_does_not_make_it_ask_for_more() -> None:
    # Found by the property above: the grant and the message that carry out the plan
    # were read as news, so the overdue promises looked a week late and the same
    # decision asked for a second credit. The harm is measured to the customer's side
    # of the case; the company's own acts do not grow it.
    case = _late_promise_case()
    at = datetime(2024, 1, 8, tzinfo=UTC)
    first = ENGINE.decide(case, at=at)
    assert first.action(ActionKind.COMPENSATE) is not None
    done, _ = _carry_out(case, at)
    assert done.grants
    assert done.grants[0].amount == first.action(ActionKind.COMPENSATE).amount
    assert ENGINE.decide(done, at=at).action(ActionKind.COMPENSATE) is None


def test_the_customer_chasing_a_late_promise_still_grows_the_goodwill() -> None:
    # The other side of the fix above: the customer's own contact a week on is news,
    # and goodwill for a promise a week late is more than for one just due.
    at = datetime(2024, 1, 8, tzinfo=UTC)
    quiet = ENGINE.decide(_late_promise_case(), at=at, explain=True)
    chased = ENGINE.decide(
        _late_promise_case(Touchpoint(at, Channel.PHONE, TouchpointKind.CONTACT)),
        at=at,
        explain=True,
    )
    quiet_comp = quiet.action(ActionKind.COMPENSATE)
    chased_comp = chased.action(ActionKind.COMPENSATE)
    assert quiet_comp is not None
    assert chased_comp is not None
    assert chased_comp.amount is not None
    assert quiet_comp.amount is not None
    assert chased_comp.amount > quiet_comp.amount
    assert "compensation.harm.lateness" in {r.rule for r in chased_comp.reasons}
    assert "compensation.harm.lateness" not in {r.rule for r in quiet_comp.reasons}


def test_the_laptop_repair_loop_closes() -> None:
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


# --- walking through history -----------------------------------------------------------


def test_a_walk_decides_each_case_at_each_of_its_instants_as_it_was_then() -> None:
    from cxrecovery import load_case
    from cxrecovery.replay import compare, simulate, walk_instants

    folder = Path(__file__).parent.parent / "examples" / "cases"
    stories = [load_case(p) for p in sorted(folder.glob("*.json"))]
    battery = next(c for c in stories if c.id == "case-roadside-4471")
    instants = walk_instants(battery)
    assert instants[0] == battery.opened_at
    assert battery.resolved_at in instants
    assert list(instants) == sorted(set(instants))
    summary = simulate(POLICY, stories, at="walk")
    assert summary.decisions == sum(len(walk_instants(c)) for c in stories)
    # The timing, worked out by hand from the decisions on the cases as they were.
    expected: dict[str, dict[str, int]] = {}
    for case in stories:
        plans = [(t, ENGINE.decide(case.as_of(t), at=t)) for t in walk_instants(case)]
        for aspect, kind, done in (
            ("promise", ActionKind.MAKE_PROMISE, [p.made_at for p in case.promises]),
            ("compensation", ActionKind.COMPENSATE, [g.at for g in case.grants]),
            ("escalation", ActionKind.ESCALATE, [e.at for e in case.escalations()]),
        ):
            asked = [t for t, plan in plans if plan.action(kind) is not None]
            if not asked and not done:
                continue
            if not done:
                verdict = "policy_only"
            elif not asked or asked[0] > min(done):
                verdict = "later"
            else:
                verdict = "earlier" if asked[0] < min(done) else "same"
            counts = expected.setdefault(aspect, {})
            counts[verdict] = counts.get(verdict, 0) + 1
    assert summary.timing == expected
    assert summary.timing["promise"]["earlier"] >= 1  # the flat battery: asked at once
    assert summary.to_dict()["timing"] == expected
    both = compare(POLICY, POLICY, stories, at="walk")
    assert both.a.timing == both.b.timing == expected
    assert both.changed == 0


def test_a_walk_is_asked_for_by_name() -> None:
    from cxrecovery import InvalidValueError
    from cxrecovery.replay import simulate

    with pytest.raises(InvalidValueError) as caught:
        simulate(POLICY, [], at="walks")  # type: ignore[arg-type]
    assert caught.value.problems[0].path == "at"


def test_the_cli_walks_with_walk(tmp_path: Path) -> None:
    import io
    import json

    from cxrecovery.cli import main

    folder = Path(__file__).parent.parent / "examples" / "cases"
    lines = [json.dumps(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    assert 0 == main(["simulate", str(cases), "--walk"], out=out)
    assert "promise: policy earlier than history" in out.getvalue()
    out = io.StringIO()
    assert 0 == main(["simulate", str(cases), "--walk", "--json"], out=out)
    assert json.loads(out.getvalue())["timing"]["promise"]["earlier"] >= 1
    out = io.StringIO()
    assert 0 == main(["simulate", str(cases)], out=out)
    assert "policy earlier" not in out.getvalue()
