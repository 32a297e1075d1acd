"""Compare two policies over the same history: what each costs, and which cases change."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from cxrecovery.model import Case
from cxrecovery.plan import ActionKind, RecoveryPlan, decided_actions
from cxrecovery.policy import Policy
from cxrecovery.replay._replay import CaseSource, DecisionTimes, OnError, _drive
from cxrecovery.replay._tally import Summary

__all__ = ["CaseChange", "Comparison", "compare", "plan_digest"]


@attrs.frozen
class CaseChange:
    """A case whose plan differs between the two policies, and how.

    ``changes`` reads ``"compensation: T2 22.50 GBP credit -> T3 45.00 GBP credit"``,
    one line per aspect of the plan that changed.

    .. versionadded:: 0.1.0
    """

    case_id: str
    at: str
    changes: tuple[str, ...]


def plan_digest(plan: RecoveryPlan) -> dict[str, str]:
    """What a plan decides, aspect by aspect, as comparable text.

    The aspects: compensation (tier, amount, form), approvals, escalation level, owner,
    the kinds of action, the remedy, the promise proposed (its due time), customer
    updates, follow-ups and every clock's status and due time. The policy's name and
    the reasons' wording are left out: two policies that decide alike digest alike.

    .. versionadded:: 0.1.0
    """
    digest: dict[str, str] = {}
    compensate = plan.action(ActionKind.COMPENSATE)
    if compensate is None:
        digest["compensation"] = "none"
    else:
        amount = compensate.amount or "no amount"
        digest["compensation"] = f"{compensate.tier} {amount} {compensate.form or ''}".strip()
    digest["approvals"] = ", ".join(a.role for a in plan.approvals) or "none"
    digest["escalation"] = f"level {plan.escalation_level}"
    digest["owner"] = plan.owner
    digest["actions"] = " ".join(a.kind.value for a in plan.actions)
    remedy = plan.action(ActionKind.REMEDY)
    digest["remedy"] = "none" if remedy is None else str(sorted(remedy.details.items()))
    for kind, name in (
        (ActionKind.MAKE_PROMISE, "promise"),
        (ActionKind.NOTIFY, "updates"),
        (ActionKind.FOLLOW_UP, "follow_ups"),
    ):
        digest[name] = (
            ", ".join(
                f"{a.due.isoformat() if a.due else 'no time'}"
                + (f" by {a.channel}" if a.channel else "")
                for a in plan.actions_of(kind)
            )
            or "none"
        )
    for clock in plan.clocks:
        due = clock.due_at.isoformat() if clock.due_at else "no due time"
        digest[f"clock {clock.name}"] = f"{clock.status} {due}"
    return digest


def _decision_key(plan: RecoveryPlan) -> tuple[object, ...]:
    """What :func:`plan_digest` reads of a plan, as values rather than text.

    Each part is a value whose equality implies that of the text the digest makes of it
    (an instant with its UTC offset, a decimal with its digits and exponent, a detail
    with its type), so two plans with equal keys digest alike, and a replay builds the
    digests' text only for plans whose keys differ. It reads the decision, never the
    wording: a plan whose wording is deferred is not made to work it out.
    """
    compensation: object = None
    remedy: object = None
    timed = []
    actions = decided_actions(plan)
    for action in actions:
        kind = action.kind
        if kind is ActionKind.COMPENSATE and compensation is None:
            amount = action.amount
            money = None if amount is None else (amount.currency, amount.amount.as_tuple())
            compensation = (action.tier, money, action.form)
        elif kind is ActionKind.REMEDY and remedy is None:
            remedy = tuple((k, _exact(v)) for k, v in action.details.items())
        elif kind in _TIMED_KINDS:
            timed.append((kind, _when(action.due), action.channel))
    return (
        compensation,
        remedy,
        tuple(a.role for a in plan.approvals),
        plan.escalation_level,
        plan.owner,
        tuple(a.kind for a in actions),
        tuple(timed),
        tuple((c.name, c.status, _when(c.due_at)) for c in plan.clocks),
    )


_TIMED_KINDS = frozenset({ActionKind.MAKE_PROMISE, ActionKind.NOTIFY, ActionKind.FOLLOW_UP})


def _when(at: datetime | None) -> object:
    return None if at is None else (at, at.utcoffset())


def _exact(value: object) -> object:
    # A string, a whole number or a truth value is its own text; anything else is
    # compared by its text (rare in a remedy's details, which are words).
    if type(value) in (str, int, bool) or value is None:
        return (type(value), value)
    return (object, repr(value))


def _diff(case: Case, a: RecoveryPlan, b: RecoveryPlan) -> tuple[str, ...]:
    del case
    if _decision_key(a) == _decision_key(b):
        return ()
    left, right = plan_digest(a), plan_digest(b)
    return tuple(
        f"{key}: {left.get(key, 'absent')} -> {right.get(key, 'absent')}"
        for key in sorted(left.keys() | right.keys())
        if left.get(key) != right.get(key)
    )


@attrs.frozen
class Comparison:
    """Two policies over the same cases: each one's :class:`Summary`, and the changes.

    ``changed`` counts decisions whose plan differs; ``changes`` lists the first
    ``keep_changes`` of them, in input order.

    .. versionadded:: 0.1.0
    """

    a: Summary
    b: Summary
    changed: int
    changes: tuple[CaseChange, ...]

    @property
    def cost_difference(self) -> dict[str, Decimal]:
        """``b``'s compensation cost minus ``a``'s, per currency."""
        currencies = sorted(self.a.cost.keys() | self.b.cost.keys())
        return {
            c: self.b.cost.get(c, Decimal(0)) - self.a.cost.get(c, Decimal(0)) for c in currencies
        }

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data."""
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "cost_difference": {k: str(v) for k, v in self.cost_difference.items()},
            "changed": self.changed,
            "changes": [
                {"case": c.case_id, "at": c.at, "changes": list(c.changes)} for c in self.changes
            ],
        }


def compare(
    policy_a: Policy,
    policy_b: Policy,
    cases: CaseSource,
    *,
    at: DecisionTimes = None,
    executor: Executor | None = None,
    chunk_size: int = 500,
    on_error: OnError = "skip",
    risk_horizon: timedelta = timedelta(hours=24),
    progress: Callable[[int], None] | None = None,
    keep_changes: int = 1000,
) -> Comparison:
    """Replay ``cases`` under two policies side by side and report the difference.

    Each case is decided under both policies at the same decision times (arguments as
    for :func:`simulate`); a case whose plans digest differently
    (:func:`plan_digest`) is a change. Reads the input once.

    .. versionadded:: 0.1.0
    """
    result = _drive(
        (policy_a, policy_b),
        cases,
        at=at,
        executor=executor,
        chunk_size=chunk_size,
        on_error=on_error,
        risk_horizon=risk_horizon,
        progress=progress,
        differ=_diff,
        keep_changes=keep_changes,
    )
    return Comparison(
        result.tallies[0].freeze(policy_a.name, policy_a.fingerprint),
        result.tallies[1].freeze(policy_b.name, policy_b.fingerprint),
        result.changed,
        tuple(CaseChange(case_id, at_, what) for case_id, at_, what in result.changes),
    )
