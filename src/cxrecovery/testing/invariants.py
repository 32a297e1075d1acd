"""Invariants every recovery policy should hold, usable in any test suite.

Each ``assert_*`` function checks one property and raises
:class:`PolicyInvariantError` (an :class:`AssertionError`, so pytest shows it as a test
failure) with what went wrong.  :func:`assert_policy_invariants` runs the linter, then
every engine property on cases drawn with :func:`~cxrecovery.testing.strategies.cases`.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxrecovery.analysis import FindingSeverity, check_policy
from cxrecovery.engine import Engine
from cxrecovery.engine.authority import GrantRequest, check_role
from cxrecovery.formats.durations import parse_duration
from cxrecovery.model import Agent, Case, Severity
from cxrecovery.money import Money
from cxrecovery.plan import ActionKind, Authority, RecoveryPlan
from cxrecovery.policy import Policy
from cxrecovery.testing.strategies import cases

__all__ = [
    "PolicyInvariantError",
    "assert_authority_respected",
    "assert_cap_held",
    "assert_deterministic",
    "assert_lint_clean",
    "assert_monotone_compensation",
    "assert_policy_invariants",
    "assert_promises_reachable",
]


class PolicyInvariantError(AssertionError):
    """A policy broke an invariant; the message says which, on what.

    .. versionadded:: 0.1.0
    """


def _fail(what: str, case: Case, at: datetime) -> PolicyInvariantError:
    return PolicyInvariantError(f"{what} (case {case.id!r} at {at.isoformat()})")


def assert_lint_clean(policy: Policy, *, allow: Sequence[str] = (), warnings: bool = True) -> None:
    """The linter finds nothing in ``policy`` (but the codes in ``allow``).

    Args:
        allow: finding codes to accept (``"table.subsumed"``).
        warnings: whether warnings fail too, or only errors.
    """
    report = check_policy(policy)
    left = [
        f
        for f in report.findings
        if f.code not in allow and (warnings or f.severity is FindingSeverity.ERROR)
    ]
    if left:
        raise PolicyInvariantError("the linter found:\n" + "\n".join(str(f) for f in left))


def assert_deterministic(
    engine: Engine, case: Case, *, at: datetime, agent: Agent | None = None
) -> RecoveryPlan:
    """Deciding twice gives the same plan, to the byte; returns the plan."""
    first = engine.decide(case, at=at, agent=agent)
    second = engine.decide(case, at=at, agent=agent)
    if first != second or first.to_json() != second.to_json():
        raise _fail("two decisions on the same input differ", case, at)
    return first


def assert_authority_respected(
    engine: Engine, case: Case, *, at: datetime, agent: Agent | None = None
) -> None:
    """No grant exceeds the acting role's limits without naming the lowest approver."""
    plan = engine.decide(case, at=at, agent=agent)
    policy = engine.policy
    role = policy.role(plan.role)
    value = case.failure.value_at_stake
    if role is None or value is None:
        return
    for action in plan.actions_of(ActionKind.COMPENSATE):
        if action.amount is None or action.form is None:
            continue
        request = GrantRequest(
            amount=action.amount,
            form=action.form,
            value=value,
            granted_before=Money(str(plan.facts["granted_so_far"]), value.currency),
            recent_goodwill=Money(str(plan.facts["recent_goodwill"]), value.currency),
            period_spent=Money.zero(value.currency),
            forms_before=[g.form for g in case.grants],
        )
        own = all(c.ok for c in check_role(role, request))
        total = (request.granted_before + action.amount).ratio_to(value)
        line = policy.compensation.approval_above_ratio
        if action.authority is Authority.DO_NOW and (not own or total > line):
            raise _fail(f"{action.summary} is done at once beyond {role.name}'s limits", case, at)
        if action.authority is Authority.NEEDS_APPROVAL and action.approval is not None:
            approver = policy.role(action.approval.role)
            top = max(r.rank for r in policy.roles)
            # Above the approval line, the top of the ladder signs off its own grant.
            if approver is None or (
                approver.rank <= role.rank and not (approver is role and role.rank == top)
            ):
                raise _fail(f"{action.summary} names no higher approver", case, at)
            for lower in policy.roles:
                if role.rank < lower.rank < approver.rank and all(
                    c.ok for c in check_role(lower, request, with_period=False)
                ):
                    raise _fail(f"{lower.name} could have approved {action.summary}", case, at)


def _total_ratio(plan: RecoveryPlan, case: Case) -> Decimal | None:
    value = case.failure.value_at_stake
    if value is None or not value:
        return None
    granted = Decimal(str(plan.facts["granted_so_far"]))
    proposed = sum(
        (a.amount.amount for a in plan.actions_of(ActionKind.COMPENSATE) if a.amount),
        Decimal(0),
    )
    return (granted + proposed) / value.amount


def assert_cap_held(
    engine: Engine, case: Case, *, at: datetime, agent: Agent | None = None
) -> None:
    """Compensation proposed never takes the case above the hard cap."""
    plan = engine.decide(case, at=at, agent=agent)
    value = case.failure.value_at_stake
    cap = engine.policy.compensation.hard_cap_ratio
    granted = Decimal(str(plan.facts["granted_so_far"]))
    for action in plan.actions_of(ActionKind.COMPENSATE):
        amount = action.amount
        if (
            amount is not None
            and value is not None
            and granted + amount.amount > value.amount * cap
        ):
            raise _fail(f"{action.summary} is above the hard cap {cap}", case, at)


def assert_monotone_compensation(engine: Engine, case: Case, *, at: datetime) -> None:
    """With all else equal, compensation never falls as severity rises (low to high;
    critical goes to a human)."""
    ratios: list[tuple[Severity, Decimal]] = []
    for severity in (Severity.LOW, Severity.MEDIUM, Severity.HIGH):
        variant = attrs.evolve(case, failure=attrs.evolve(case.failure, severity=severity))
        ratio = _total_ratio(engine.decide(variant, at=at), variant)
        if ratio is None:
            return
        if ratios and ratio < ratios[-1][1]:
            before, low = ratios[-1]
            raise _fail(
                f"compensation falls from {low:.2f} to {ratio:.2f} as severity rises from "
                f"{before} to {severity}",
                case,
                at,
            )
        ratios.append((severity, ratio))


def assert_promises_reachable(
    engine: Engine, case: Case, *, at: datetime, agent: Agent | None = None
) -> None:
    """Every promise the plan makes is due after the decision, on an open calendar."""
    plan = engine.decide(case, at=at, agent=agent)
    for action in plan.actions_of(ActionKind.MAKE_PROMISE):
        calendar = engine.policy.calendars.get(str(action.details.get("calendar")))
        if action.due is None or calendar is None or action.due < plan.decided_at:
            raise _fail(f"{action.summary} has no reachable due time", case, at)
        needed = parse_duration(str(action.details["business_time"]))
        if calendar.between(plan.decided_at, action.due) != needed:
            raise _fail(f"{action.summary} is not {needed} of business time away", case, at)


def assert_policy_invariants(
    policy: Policy,
    *,
    max_examples: int = 50,
    allow: Sequence[str] = (),
    lint: bool = True,
) -> None:
    """Run the linter, then every engine invariant on cases drawn for ``policy``.

    Args:
        policy: the policy under test.
        max_examples: how many cases hypothesis draws.
        allow: finding codes the linter may report.
        lint: whether to run the linter first.

    Raises:
        PolicyInvariantError: an invariant failed (hypothesis shrinks the case first).

    .. versionadded:: 0.1.0
    """
    if lint:
        assert_lint_clean(policy, allow=allow)
    engine = Engine(policy)
    roles = [r.name for r in policy.roles]

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(cases(policy=policy), st.sampled_from(roles), st.integers(0, 30 * 86400))
    def run(case: Case, role: str, offset: int) -> None:
        at = case.last_event_at() + timedelta(seconds=offset)
        agent = Agent("invariants", role)
        assert_deterministic(engine, case, at=at, agent=agent)
        assert_authority_respected(engine, case, at=at, agent=agent)
        assert_cap_held(engine, case, at=at, agent=agent)
        assert_monotone_compensation(engine, case, at=at)
        assert_promises_reachable(engine, case, at=at, agent=agent)

    run()
