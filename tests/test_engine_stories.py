"""The five stories of the domain brief, decided by the bundled default policy."""

from __future__ import annotations

import pickle
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cxrecovery import (
    ActionKind,
    Agent,
    Authority,
    Case,
    Engine,
    ExpectationBaseline,
    Money,
    RecoveryPlan,
    default_policy,
    load_case,
)

CASES = Path(__file__).parent.parent / "examples" / "cases"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(default_policy())


def story(name: str) -> Case:
    return load_case(CASES / f"{name}.json")


def decide(engine: Engine, name: str, role: str = "front_line", **kw: object) -> RecoveryPlan:
    case = story(name)
    return engine.decide(case, at=case.last_event_at(), agent=Agent("agent-1", role), **kw)  # type: ignore[arg-type]


class TestLaptopRepairAtTheSecondVisit:
    def test_apology_owns_the_failure_and_the_broken_promise(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-repair")
        apology = plan.action(ActionKind.APOLOGIZE)
        assert apology is not None
        assert "we got it wrong" in apology.summary
        assert "the promise we broke" in apology.summary
        assert "the failure and the failed fix" in apology.summary

    def test_replacement_at_once_within_a_supervisors_approval_at_most(
        self, engine: Engine
    ) -> None:
        plan = decide(engine, "laptop-repair")
        remedy = plan.action(ActionKind.REMEDY)
        assert remedy is not None
        assert "replace" in remedy.summary
        # Goodwill on top of the replacement, never a second laptop's worth of money.
        compensate = plan.action(ActionKind.COMPENSATE)
        assert compensate is not None
        assert compensate.amount is not None
        assert compensate.ratio is not None
        assert Decimal(0) < compensate.ratio <= Decimal("0.50")
        if compensate.authority is Authority.NEEDS_APPROVAL:
            assert compensate.approval is not None
            assert compensate.approval.role == "supervisor"

    def test_the_wrong_charge_is_paid_back_on_its_own_line(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-repair")
        repay = plan.action(ActionKind.REPAY)
        assert repay is not None
        assert repay.amount == Money("89.00", "GBP")
        assert repay.authority is Authority.DO_NOW

    def test_the_front_line_is_not_bounced_to_the_top(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-repair")
        assert all(a.role != "duty_manager" for a in plan.approvals)
        assert plan.escalation_level <= 1

    def test_a_supervisor_with_room_acts_now(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-repair", role="supervisor")
        compensate = plan.action(ActionKind.COMPENSATE)
        assert compensate is not None

    def test_the_broken_promise_is_seen(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-repair")
        assert 1 == plan.facts["promises_broken"]
        assert "double_deviation" == plan.facts["history"]


class TestWrongCoffee:
    def test_apology_and_remake_inside_the_front_lines_limits(self, engine: Engine) -> None:
        plan = decide(engine, "coffee-order")
        assert plan.action(ActionKind.APOLOGIZE) is not None
        remedy = plan.action(ActionKind.REMEDY)
        assert remedy is not None
        assert "remake" in remedy.summary
        assert () == plan.approvals
        assert 0 == plan.escalation_level
        for action in plan.actions_of(ActionKind.COMPENSATE):
            assert action.authority is Authority.DO_NOW

    def test_the_remake_is_promised_within_minutes(self, engine: Engine) -> None:
        plan = decide(engine, "coffee-order")
        promise = plan.action(ActionKind.MAKE_PROMISE)
        assert promise is not None
        assert promise.due is not None
        assert promise.due - plan.decided_at <= timedelta(hours=1, minutes=15)

    def test_the_customer_hears_the_promise_when_it_is_made(self, engine: Engine) -> None:
        # Not when the next-update clock falls due (the next business day).
        plan = decide(engine, "coffee-order")
        notify = plan.action(ActionKind.NOTIFY)
        assert notify is not None
        assert notify.due == plan.decided_at
        assert "principles.promise_when_told" in [r.rule for r in notify.reasons]


class TestDroppedCall:
    def test_the_broken_promises_channel_failure_and_effort_are_seen(self, engine: Engine) -> None:
        plan = decide(engine, "dropped-call")
        assert 2 == plan.facts["promises_broken"]
        assert plan.facts["channel_failures"] >= 2  # type: ignore[operator]
        assert "low" != plan.facts["effort"]

    def test_escalation_happens_before_the_customer_gives_up_for_good(
        self, engine: Engine
    ) -> None:
        plan = decide(engine, "dropped-call")
        escalate = plan.action(ActionKind.ESCALATE)
        assert escalate is not None
        assert escalate.level is not None
        assert escalate.level >= 1
        assert escalate.due is not None
        assert escalate.due <= plan.decided_at + timedelta(hours=1)

    def test_a_new_promise_and_an_update_on_the_preferred_channel(self, engine: Engine) -> None:
        plan = decide(engine, "dropped-call")
        assert plan.action(ActionKind.MAKE_PROMISE) is not None
        notify = plan.action(ActionKind.NOTIFY)
        assert notify is not None
        assert notify.channel is not None
        assert "sms" == notify.channel.value


class TestFlatBattery:
    def test_no_compensation_and_staff_recognised(self, engine: Engine) -> None:
        plan = decide(engine, "flat-battery")
        assert () == plan.actions_of(ActionKind.COMPENSATE)
        recognise = plan.actions_of(ActionKind.RECOGNISE)
        assert ["tech-jo"] == [a.details["agent"] for a in recognise]

    def test_the_kept_promise_raises_relationship_health(self, engine: Engine) -> None:
        plan = decide(engine, "flat-battery")
        assert 1 == plan.facts["promises_kept"]
        assert plan.relationship_health in ("stable", "strong")
        assert Decimal(str(plan.facts["relationship_score"])) > 0


class TestLaptopCover:
    def test_the_over_delivery_is_recorded_and_the_baseline_raised(self, engine: Engine) -> None:
        plan = decide(engine, "laptop-cover")
        assert plan.over_delivery
        assert plan.expectation is not None
        assert Decimal("1.00") == plan.expectation.compensation_ratio
        assert plan.expectation.remedy is not None
        assert "refund_keep_item" == plan.expectation.remedy.value
        assert () == plan.actions_of(ActionKind.COMPENSATE)
        _assert_constructed(plan.expectation)


def test_proposing_a_delight_form_shows_the_baseline_it_will_set(engine: Engine) -> None:
    from cxrecovery import load_policy
    from cxrecovery.policy import default_policy as base

    document = dict(base().document)
    tables = dict(document["tables"])
    recovery = dict(tables["recovery"])
    recovery["rules"] = [
        {**row, "then": {**row["then"], "form": "refund_keep_item"}} for row in recovery["rules"]
    ]
    tables["recovery"] = recovery
    document["tables"] = tables
    delighting = Engine(load_policy(document))
    case = story("dropped-call")
    plan = delighting.decide(case, at=case.last_event_at(), agent=Agent("s", "supervisor"))
    compensate = plan.action(ActionKind.COMPENSATE)
    assert compensate is not None
    assert compensate.ratio is not None
    assert plan.over_delivery
    assert plan.expectation is not None
    assert compensate.ratio.quantize(Decimal("0.01")) == plan.expectation.compensation_ratio
    _assert_constructed(plan.expectation)


def _assert_constructed(made: ExpectationBaseline) -> None:
    """The engine makes an expectation without its validators (its values are valid by
    construction): it is the value the constructor makes of them, in every respect."""
    built = ExpectationBaseline(
        compensation_ratio=made.compensation_ratio,
        remedy=made.remedy,
        set_at=made.set_at,
        reason=made.reason,
    )
    assert type(made) is ExpectationBaseline
    assert (built, hash(built), repr(built)) == (made, hash(made), repr(made))
    assert built == pickle.loads(pickle.dumps(made))
