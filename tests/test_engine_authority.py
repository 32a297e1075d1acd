"""Empowerment limits: one verdict, written out on demand, the same either way."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import Agent, Engine, default_policy
from cxrecovery.engine.authority import GrantRequest, Ladder, RoleLimits
from cxrecovery.errors import CurrencyMismatchError, MoneyError
from cxrecovery.model import CompensationForm
from cxrecovery.money import Money

POLICY = default_policy()
LADDER = Ladder(POLICY)
FORMS = list(CompensationForm)


@st.composite
def requests(draw: st.DrawFn) -> GrantRequest:
    def money(top: int) -> Money:
        return Money.from_minor(draw(st.integers(min_value=0, max_value=top)), "EUR")

    value = draw(st.none() | st.integers(0, 50_000).map(lambda n: Money.from_minor(n, "EUR")))
    return GrantRequest(
        amount=money(30_000),
        form=draw(st.sampled_from(FORMS)),
        value=value,
        granted_before=money(30_000),
        recent_goodwill=money(60_000),
        period_spent=money(60_000),
        forms_before=draw(st.sets(st.sampled_from(FORMS), max_size=3)),
        owed=draw(st.none() | st.integers(0, 50_000).map(lambda n: Money.from_minor(n, "EUR"))),
    )


@given(requests(), st.sampled_from(list(POLICY.roles)), st.booleans())
def test_passes_is_every_check_ok(request: GrantRequest, role: object, period: bool) -> None:
    """The verdict (passes) and the checks written out (check) never disagree."""
    limits = RoleLimits(role)  # type: ignore[arg-type]
    checks = limits.check(request, with_period=period)
    assert limits.passes(request, with_period=period) == all(c.ok for c in checks)
    failed = limits.check(request, with_period=period, keep_ok=False)
    assert failed == tuple(c for c in checks if not c.ok)


@given(requests(), st.sampled_from(list(POLICY.roles)), st.booleans())
def test_the_written_authorization_is_the_verdict(
    request: GrantRequest, role: object, critical: bool
) -> None:
    line = POLICY.compensation.approval_above_ratio
    verdict = LADDER.verdict(role, request, critical=critical, approval_line=line)  # type: ignore[arg-type]
    auth = LADDER.authorize(role, request, critical=critical, approval_line=line)  # type: ignore[arg-type]
    assert (auth.allowed, auth.approver) == (verdict.allowed, verdict.approver)
    assert (auth.reason == "within the agent's own limits") == verdict.allowed
    assert any(not c.ok for c in auth.checks) == verdict.failed


def test_the_request_keeps_its_totals_as_money() -> None:
    eur = Money("10.00", "EUR")
    request = GrantRequest(
        amount=eur,
        form=CompensationForm.CREDIT,
        value=Money("40.00", "EUR"),
        granted_before=Money("5.00", "EUR"),
        recent_goodwill=Money("1.50", "EUR"),
        period_spent=Money.zero("EUR"),
        owed=Money("40.00", "EUR"),
    )
    assert Money("15.00", "EUR") == request.case_total
    assert Money("11.50", "EUR") == request.customer_total
    assert Money("10.00", "EUR") == request.period_total
    assert Decimal("0.375") == request.case_ratio
    assert Decimal("1.375") == request.line_ratio
    assert frozenset({CompensationForm.CREDIT}) == request.forms_after


def test_a_request_in_two_currencies_is_refused_as_money_refuses_it() -> None:
    with pytest.raises(CurrencyMismatchError, match=re.escape("cannot add 0.00 USD and 1.00 EUR")):
        GrantRequest(
            amount=Money("1.00", "EUR"),
            form=CompensationForm.CREDIT,
            value=None,
            granted_before=Money.zero("USD"),
            recent_goodwill=Money.zero("EUR"),
            period_spent=Money.zero("EUR"),
        )
    with pytest.raises(
        CurrencyMismatchError, match=re.escape("cannot divide 1.00 EUR and 9.00 USD")
    ):
        GrantRequest(
            amount=Money("1.00", "EUR"),
            form=CompensationForm.CREDIT,
            value=Money("9.00", "USD"),
            granted_before=Money.zero("EUR"),
            recent_goodwill=Money.zero("EUR"),
            period_spent=Money.zero("EUR"),
        )
    with pytest.raises(MoneyError, match="too large an amount"):
        GrantRequest(
            amount=Money("999999999999999999", "JPY"),
            form=CompensationForm.CREDIT,
            value=None,
            granted_before=Money("1", "JPY"),
            recent_goodwill=Money.zero("JPY"),
            period_spent=Money.zero("JPY"),
        )


def _typical() -> tuple[object, datetime]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import ab_driver

    case = ab_driver.typical_case()
    return case, ab_driver.after_last_event(case)


def test_a_limit_in_another_currency_than_its_key_fails_in_decide() -> None:
    """Comparing such a limit raises, as Money does; decide() raises it, even when an
    earlier limit of the role failed already, never the plan's approval read later."""
    roles = list(POLICY.roles)
    roles[0] = attrs.evolve(
        roles[0], forms=frozenset(), max_per_period={"EUR": Money("5.00", "USD")}
    )
    engine = Engine(attrs.evolve(POLICY, roles=tuple(roles)))
    case, at = _typical()
    with pytest.raises(
        CurrencyMismatchError, match=re.escape("cannot compare 120.00 EUR and 5.00 USD")
    ):
        engine.decide(case, at=at)  # type: ignore[arg-type]


def test_an_approval_is_written_on_first_read() -> None:
    engine = Engine(POLICY)
    case, at = _typical()
    plan = engine.decide(case, at=at, agent=Agent("a-1", "front_line"))  # type: ignore[arg-type]
    (approval,) = plan.approvals
    with pytest.raises(AttributeError):  # not written yet
        object.__getattribute__(approval, "reason")
    eager = engine.decide(case, at=at, agent=Agent("a-1", "front_line"), explain=True)  # type: ignore[arg-type]
    assert eager.approvals == (approval,)
    assert approval.role == "supervisor"
    assert "roles[front_line].max_per_case: case total 120.00 EUR" in approval.reason
    assert all(not c.ok for c in approval.checks)


@given(requests())
def test_the_totals_are_the_money_arithmetic(request: GrantRequest) -> None:
    """Differential: the totals held as amounts are what adding the Money gives."""
    amount = request.amount
    case_total = request.granted_before + amount
    assert case_total == request.case_total
    assert str(case_total) == str(request.case_total)
    assert str(request.period_spent + amount) == str(request.period_total)
    assert str(request.recent_goodwill + amount) == str(request.customer_total)
    value = request.value
    if value is not None and value:
        assert case_total.ratio_to(value) == request.case_ratio
    else:
        assert request.case_ratio is None


def test_a_mismatched_limit_is_compared_only_when_reached() -> None:
    """passes() compares a limit given in another currency than its key only when the
    checks before it hold (then it raises, as Money does); check() reaches every one."""
    from cxrecovery.policy import RolePolicy

    role = RolePolicy(
        "agent",
        rank=1,
        forms=frozenset({CompensationForm.CREDIT}),
        max_per_case={"EUR": Money("5.00", "USD")},
    )
    limits = RoleLimits(role)

    def request(form: CompensationForm) -> GrantRequest:
        zero = Money.zero("EUR")
        return GrantRequest(
            amount=Money("1.00", "EUR"),
            form=form,
            value=None,
            granted_before=zero,
            recent_goodwill=zero,
            period_spent=zero,
        )

    assert not limits.passes(request(CompensationForm.REFUND))  # the form fails first
    mismatch = re.escape("cannot compare 1.00 EUR and 5.00 USD")
    with pytest.raises(CurrencyMismatchError, match=mismatch):
        limits.passes(request(CompensationForm.CREDIT))
    with pytest.raises(CurrencyMismatchError, match=mismatch):
        limits.check(request(CompensationForm.REFUND))
