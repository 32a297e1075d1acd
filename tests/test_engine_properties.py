"""Properties every plan of the default policy holds, on generated cases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from cxrecovery import (
    ActionKind,
    Agent,
    Authority,
    Case,
    Engine,
    Failure,
    Severity,
    default_policy,
)
from cxrecovery.engine.authority import GrantRequest, check_role
from cxrecovery.formats.durations import parse_duration
from cxrecovery.money import Money
from cxrecovery.testing.strategies import cases

POLICY = default_policy()
ENGINE = Engine(POLICY)
ROLES = [r.name for r in POLICY.roles]
ACCEPTED = {c for r in POLICY.roles for c in r.max_per_case}
ANY_CASE = cases()


def decide_late(case: Case, offset: int, role: str) -> object:
    at = case.last_event_at() + timedelta(seconds=offset)
    return ENGINE.decide(case, at=at, agent=Agent("a-1", role))


@st.composite
def decisions(draw: st.DrawFn, of: st.SearchStrategy[Case] = ANY_CASE) -> tuple[Case, object, str]:
    case = draw(of)
    role = draw(st.sampled_from(ROLES))
    offset = draw(st.integers(0, 30 * 86400))
    at = case.last_event_at() + timedelta(seconds=offset)
    return case, at, role


@given(decisions())
def test_plans_are_deterministic_to_the_byte(decision: tuple[Case, object, str]) -> None:
    case, at, role = decision
    first = ENGINE.decide(case, at=at, agent=Agent("a-1", role))  # type: ignore[arg-type]
    second = ENGINE.decide(case, at=at, agent=Agent("a-1", role))  # type: ignore[arg-type]
    assert first == second
    assert first.to_json() == second.to_json()


@given(decisions())
def test_no_grant_exceeds_the_agents_limits_without_the_lowest_approver(
    decision: tuple[Case, object, str],
) -> None:
    case, at, role_name = decision
    plan = ENGINE.decide(case, at=at, agent=Agent("a-1", role_name))  # type: ignore[arg-type]
    role = POLICY.role(role_name)
    assert role is not None
    value = case.failure.value_at_stake
    for action in plan.actions_of(ActionKind.COMPENSATE):
        if action.amount is None:
            assert action.authority is Authority.NEEDS_APPROVAL
            continue
        assert action.form is not None
        assert value is not None
        facts = plan.facts
        request = GrantRequest(
            amount=action.amount,
            form=action.form,
            value=value,
            granted_before=Money(str(facts["granted_so_far"]), value.currency),
            recent_goodwill=Money(str(facts["recent_goodwill"]), value.currency),
            period_spent=Money.zero(value.currency),
            forms_before=[g.form for g in case.grants],
        )
        own = check_role(role, request)
        line = POLICY.compensation.approval_above_ratio
        total = (request.granted_before + action.amount).ratio_to(value)
        if action.authority is Authority.DO_NOW:
            assert all(c.ok for c in own)
            assert total <= line
            continue
        assert action.authority is Authority.NEEDS_APPROVAL
        if value.currency not in ACCEPTED:
            # No role has limits in it: nobody's missing limit approves; a person decides.
            assert action.approval is None
            assert plan.needs_judgement
            continue
        assert not all(c.ok for c in own) or total > line
        if action.approval is None:
            continue  # no role may grant it: the plan says so instead of naming one
        approver = POLICY.role(action.approval.role)
        assert approver is not None
        top = max(r.rank for r in POLICY.roles)
        # Above the approval line with nobody ranking higher, the top role signs it off.
        assert approver.rank > role.rank or (approver is role and role.rank == top)
        assert all(c.ok for c in check_role(approver, request, with_period=False))
        for lower in POLICY.roles:
            if role.rank < lower.rank < approver.rank:
                lower_ok = all(c.ok for c in check_role(lower, request, with_period=False))
                assert not lower_ok, f"{lower.name} could have approved"


@given(decisions())
def test_compensation_never_exceeds_the_hard_cap(decision: tuple[Case, object, str]) -> None:
    case, at, role = decision
    plan = ENGINE.decide(case, at=at, agent=Agent("a-1", role))  # type: ignore[arg-type]
    value = case.failure.value_at_stake
    for action in plan.actions_of(ActionKind.COMPENSATE):
        if action.amount is None:
            continue
        assert value is not None
        granted = Decimal(str(plan.facts["granted_so_far"]))
        assert granted + action.amount.amount <= value.amount * POLICY.compensation.hard_cap_ratio


def _total_ratio(case: Case, at: object) -> Decimal:
    plan = ENGINE.decide(case, at=at)  # type: ignore[arg-type]
    value = case.failure.value_at_stake
    assert value is not None
    granted = Decimal(str(plan.facts["granted_so_far"]))
    proposed = sum(
        (a.amount.amount for a in plan.actions_of(ActionKind.COMPENSATE) if a.amount),
        Decimal(0),
    )
    return (granted + proposed) / value.amount


@given(decisions(cases(policy=POLICY)))  # the value at stake is always known
def test_compensation_never_falls_as_severity_rises(decision: tuple[Case, object, str]) -> None:
    case, at, _ = decision
    assert case.failure.value_at_stake  # neither None nor zero
    ratios = []
    for severity in (Severity.LOW, Severity.MEDIUM, Severity.HIGH):
        failure: Failure = attrs.evolve(case.failure, severity=severity)
        ratios.append(_total_ratio(attrs.evolve(case, failure=failure), at))
    note(repr(ratios))
    assert ratios == sorted(ratios)


@pytest.mark.slow
@given(decisions())
def test_every_promise_is_reachable_on_its_calendar(decision: tuple[Case, object, str]) -> None:
    case, at, role = decision
    plan = ENGINE.decide(case, at=at, agent=Agent("a-1", role))  # type: ignore[arg-type]
    for action in plan.actions_of(ActionKind.MAKE_PROMISE):
        assert action.due is not None
        calendar = POLICY.calendars[str(action.details["calendar"])]
        needed = parse_duration(str(action.details["business_time"]))
        assert needed == calendar.between(plan.decided_at, action.due)
        assert action.due >= plan.decided_at


@given(decisions())
def test_next_review_at_is_when_the_plan_changes(decision: tuple[Case, object, str]) -> None:
    case, at, role = decision
    agent = Agent("a-1", role)
    plan = ENGINE.decide(case, at=at, agent=agent)  # type: ignore[arg-type]
    review = plan.next_review_at
    if review is None:
        later = ENGINE.decide(case, at=at + timedelta(days=400), agent=agent)  # type: ignore[operator]
        assert plan.decision() == later.decision()
        return
    assert review > at  # type: ignore[operator]
    before = ENGINE.decide(case, at=review - timedelta(microseconds=1), agent=agent)
    assert plan.decision() == before.decision()
    after = ENGINE.decide(case, at=review, agent=agent)
    assert plan.decision() != after.decision()


@pytest.mark.parametrize("name", ["laptop-repair", "dropped-call", "coffee-order"])
def test_next_review_at_on_the_stories(name: str) -> None:
    from pathlib import Path

    from cxrecovery import load_case

    case = load_case(Path(__file__).parent.parent / "examples" / "cases" / f"{name}.json")
    plan = ENGINE.decide(case, at=case.last_event_at())
    assert plan.next_review_at is not None
    before = ENGINE.decide(case, at=plan.next_review_at - timedelta(microseconds=1))
    after = ENGINE.decide(case, at=plan.next_review_at)
    assert plan.decision() == before.decision()
    assert plan.decision() != after.decision()


def test_role_limits_compare_amounts_in_the_limits_currency() -> None:
    from cxrecovery.engine.authority import RoleLimits
    from cxrecovery.model import CompensationForm
    from cxrecovery.policy import RolePolicy

    role = RolePolicy(
        "agent",
        rank=1,
        forms=frozenset({CompensationForm.CREDIT}),
        max_per_case={"EUR": Money("20.00", "EUR")},
    )
    limits = RoleLimits(role)

    def request(amount: str, currency: str = "EUR") -> GrantRequest:
        zero = Money.zero(currency)
        return GrantRequest(
            amount=Money(amount, currency),
            form=CompensationForm.CREDIT,
            value=None,
            granted_before=zero,
            recent_goodwill=zero,
            period_spent=zero,
        )

    assert limits.passes(request("20.00"))
    assert not limits.passes(request("20.01"))
    (check,) = [c for c in limits.check(request("20.01")) if c.rule.endswith("max_per_case")]
    assert (False, "at most 20.00 EUR") == (check.ok, check.limit)
    assert not limits.passes(request("1.00", "USD"))  # no limit in USD: nothing passes
