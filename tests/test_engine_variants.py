"""Variants of the five stories, read as a customer-experience lead would.

Each case in ``examples/variants/`` changes one thing about a story; each test asserts
what a CX lead expects of the plan — who approves, whether goodwill rises or falls,
whether a person is asked, when the promise falls due — never exact amounts or wording.
docs/tutorial-stories.md gives the reasoning for each.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cxrecovery import (
    ActionKind,
    Agent,
    Authority,
    Engine,
    RecoveryPlan,
    default_policy,
    load_case,
)

ROOT = Path(__file__).parent.parent / "examples"
ENGINE = Engine(default_policy())


def plan_of(path: Path, role: str = "front_line") -> RecoveryPlan:
    case = load_case(path)
    return ENGINE.decide(case, at=case.last_event_at(), agent=Agent("agent-1", role))


def variant(name: str, role: str = "front_line") -> RecoveryPlan:
    return plan_of(ROOT / "variants" / f"{name}.json", role)


def story(name: str, role: str = "front_line") -> RecoveryPlan:
    return plan_of(ROOT / "cases" / f"{name}.json", role)


def goodwill(plan: RecoveryPlan) -> Decimal:
    found = plan.action(ActionKind.COMPENSATE)
    return found.ratio if found is not None and found.ratio is not None else Decimal(0)


def test_there_are_at_least_twelve_variants() -> None:
    assert len(list((ROOT / "variants").glob("*.json"))) >= 12


def test_the_customers_own_mistake_is_remade_without_goodwill() -> None:
    plan = variant("coffee-own-mistake")
    assert plan.action(ActionKind.REMEDY) is not None
    assert plan.action(ActionKind.APOLOGIZE) is not None
    assert goodwill(plan) == 0
    assert not plan.approvals
    assert not plan.needs_judgement


def test_the_same_mistake_again_earns_goodwill_the_barista_may_give() -> None:
    plan = variant("coffee-again")
    assert goodwill(plan) > goodwill(story("coffee-order"))
    compensate = plan.action(ActionKind.COMPENSATE)
    assert compensate is not None
    assert compensate.authority is Authority.DO_NOW
    assert "again" in (plan.action(ActionKind.APOLOGIZE) or compensate).summary


def test_a_raised_expectation_is_met_and_a_supervisor_signs_it() -> None:
    plan = variant("coffee-raised-expectation")
    assert goodwill(plan) >= Decimal("1.00")
    assert [a.role for a in plan.approvals] == ["supervisor"]


def test_a_technician_half_an_hour_late_gets_an_apology_and_a_token() -> None:
    plan = variant("roadside-half-hour-late")
    apology = plan.action(ActionKind.APOLOGIZE)
    assert apology is not None
    assert "promise" in apology.summary
    assert plan.action(ActionKind.NOTIFY) is not None
    assert Decimal(0) < goodwill(plan) < Decimal("0.25")
    assert not plan.approvals


def test_a_day_late_gets_more_than_half_an_hour_late() -> None:
    assert goodwill(variant("roadside-a-day-late")) > goodwill(variant("roadside-half-hour-late"))


def test_parts_on_order_are_promised_after_they_arrive_not_before() -> None:
    path = ROOT / "variants" / "laptop-first-visit-parts-on-order.json"
    case = load_case(path)
    plan = plan_of(path)
    promise = plan.action(ActionKind.MAKE_PROMISE)
    assert promise is not None
    assert promise.due is not None
    assert case.remedy_lead_time is not None
    assert promise.due >= case.last_event_at() + case.remedy_lead_time
    # A first-visit repair: the repair is the remedy, no refund on top, nobody to ask.
    assert not plan.actions_of(ActionKind.REPAY)
    assert not plan.approvals


def test_no_value_at_stake_asks_a_person_for_the_amount() -> None:
    plan = variant("laptop-no-value")
    assert plan.needs_judgement
    assert plan.action(ActionKind.COMPENSATE) is None
    judgement = plan.action(ActionKind.NEEDS_JUDGEMENT)
    assert judgement is not None
    assert judgement.owner in {r.name for r in ENGINE.policy.roles}


def test_a_currency_without_limits_goes_to_a_person_not_the_top_role() -> None:
    plan = variant("laptop-priced-in-sek")
    assert plan.needs_judgement
    assert not plan.approvals
    repay = plan.action(ActionKind.REPAY)
    assert repay is not None  # money owed is paid back whatever the currency
    assert repay.authority is Authority.DO_NOW


def test_a_safety_failure_goes_to_the_duty_manager_and_a_person_sizes_it() -> None:
    plan = variant("laptop-battery-swelling")
    assert plan.owner == "duty_manager"
    assert plan.needs_judgement
    assert plan.action(ActionKind.COMPENSATE) is None


def test_a_cover_never_delivered_is_refunded_at_once_as_money_owed() -> None:
    plan = variant("cover-not-delivered")
    repay = plan.action(ActionKind.REPAY)
    assert repay is not None
    assert repay.authority is Authority.DO_NOW
    assert not plan.approvals


def test_one_dropped_call_is_less_than_the_whole_ordeal() -> None:
    once = variant("dropped-call-once")
    assert Decimal(0) < goodwill(once) <= goodwill(story("dropped-call"))
    assert once.escalation_level <= story("dropped-call").escalation_level
    apology = once.action(ActionKind.APOLOGIZE)
    assert apology is not None
    assert "failed fix" not in apology.summary


def test_a_wrong_number_is_helped_without_goodwill() -> None:
    plan = variant("dropped-call-wrong-number")
    assert plan.action(ActionKind.REMEDY) is not None
    assert goodwill(plan) == 0
    apology = plan.action(ActionKind.APOLOGIZE)
    assert apology is not None
    assert "do not blame" in apology.summary


@pytest.mark.parametrize("path", sorted((ROOT / "variants").glob("*.json")), ids=lambda p: p.stem)
def test_every_variant_plan_is_whole(path: Path) -> None:
    for role in ("front_line", "supervisor"):
        plan = plan_of(path, role)
        assert plan.needs_judgement == bool(plan.actions_of(ActionKind.NEEDS_JUDGEMENT))
        for action in plan.actions_of(ActionKind.COMPENSATE):
            assert action.authority is Authority.DO_NOW or action.approval or plan.needs_judgement
        case = load_case(path)
        # Every promise falls after the decision, and after any quote the case gives.
        for promise in plan.actions_of(ActionKind.MAKE_PROMISE):
            assert promise.due is not None
            assert promise.due > case.last_event_at() - timedelta(0)
