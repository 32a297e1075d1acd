"""Acme's own checks of its recovery policy, with cxrecovery's testing kit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings

from cxrecovery import ActionKind, Case, Engine, Policy
from cxrecovery.policy import load_policy
from cxrecovery.testing.invariants import assert_lint_clean, assert_policy_invariants
from cxrecovery.testing.strategies import cases

HERE = Path(__file__).parent.parent
POLICY = load_policy(HERE / "policy.toml")
ENGINE = Engine(POLICY)


def test_the_linter_finds_nothing(cxrecovery_policy: Policy) -> None:
    assert_lint_clean(cxrecovery_policy)


def test_every_invariant_holds(cxrecovery_policy: Policy) -> None:
    assert_policy_invariants(cxrecovery_policy, max_examples=30)


@settings(max_examples=50, deadline=None)
@given(cases(policy=POLICY))
def test_an_unusable_service_is_never_compensated_below_a_quarter(case: Case) -> None:
    if case.failure.service_usable or case.failure.severity.value != "medium":
        return
    plan = ENGINE.decide(case, at=case.last_event_at() + timedelta(minutes=5))
    for action in plan.actions_of(ActionKind.COMPENSATE):
        value = case.failure.value_at_stake
        if action.amount is not None and value is not None and value:
            assert action.amount.amount >= value.amount / 4 or plan.facts["granted_so_far"]


def test_recorded_plans_do_not_change(cxrecovery_golden) -> None:  # type: ignore[no-untyped-def]
    cxrecovery_golden.check(HERE / "cases")
