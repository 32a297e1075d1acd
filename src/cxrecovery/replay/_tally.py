"""What a replay adds up: costs per currency, approvals, escalations, breaches, promises.

A :class:`_Tally` is the mutable accumulator a worker fills for one chunk; tallies merge
by addition, so the total is the same whatever the chunking or the executor. It freezes
into a :class:`Summary`, the public, immutable result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from cxrecovery.engine import decided_as_taken
from cxrecovery.metrics import RatioDistribution
from cxrecovery.model import Case
from cxrecovery.plan import ActionKind, ClockStatus, DecidedAction, RecoveryPlan

__all__ = ["BadLine", "Summary"]

K = TypeVar("K")

_KEEP_BAD_LINES = 100
_ZERO = Decimal(0)
_COMPENSATE, _REPAY = ActionKind.COMPENSATE, ActionKind.REPAY
_MAKE_PROMISE = ActionKind.MAKE_PROMISE
_BREACHES = frozenset({ClockStatus.BREACHED, ClockStatus.MISSED})


@attrs.frozen
class BadLine:
    """An input that could not be replayed: where it was (1-based line) and why.

    ``line`` is the line number in a JSON Lines file, or the item's 1-based position
    in an iterable.

    .. versionadded:: 0.1.0
    """

    line: int
    error: str


def _add_counts(mine: dict[K, int], theirs: Mapping[K, int]) -> None:
    for key, count in theirs.items():
        mine[key] = mine.get(key, 0) + count


def _money_key(group: str, currency: str) -> str:
    return f"{group} {currency}"


@attrs.define
class _Tally:
    cases: int = 0
    decisions: int = 0
    errors: int = 0
    bad_lines: list[BadLine] = attrs.field(factory=list)
    cost: dict[str, Decimal] = attrs.field(factory=dict)
    owed: dict[str, Decimal] = attrs.field(factory=dict)
    cost_by_segment: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)
    cost_by_tier: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)
    tiers: dict[str, int] = attrs.field(factory=dict)
    ratios: RatioDistribution = attrs.field(factory=RatioDistribution)
    # The ratios added since ``ratios`` was last brought up to date (by ``merge`` or
    # ``freeze``): a chunk's, binned at once.
    new_ratios: list[Decimal] = attrs.field(factory=list)
    approvals: dict[str, int] = attrs.field(factory=dict)
    escalations: dict[int, int] = attrs.field(factory=dict)
    escalations_by_month: dict[str, int] = attrs.field(factory=dict)
    breaches: dict[str, int] = attrs.field(factory=dict)
    promises_made: int = 0
    promises_at_risk: int = 0
    timing: Counter[tuple[str, str]] = attrs.field(factory=Counter)

    def bad(self, line: int, error: str) -> None:
        self.errors += 1
        if len(self.bad_lines) < _KEEP_BAD_LINES:
            self.bad_lines.append(BadLine(line, error))

    def add(self, case: Case, plan: RecoveryPlan, risk_horizon: timedelta) -> None:
        """Count ``plan``, decided on ``case``: of the case, only its customer's segment
        and its promises as known at the decision time are read."""
        self.decisions += 1
        at = plan.decided_at
        soon = None  # at + risk_horizon, made when a due time is compared with it
        # In the order the steps took them: only counted and summed (per kind), so the
        # plan's order (by kind) changes nothing.
        for action in decided_as_taken(plan):
            kind = action.kind
            if kind is _COMPENSATE:
                self._compensation(case, action)
            elif kind is _REPAY:
                # Money owed back: its own total, never part of the goodwill cost.
                money = action.amount
                if money is not None:
                    currency = money.currency
                    self.owed[currency] = self.owed.get(currency, _ZERO) + money.amount
            elif kind is _MAKE_PROMISE:
                self.promises_made += 1
                due = action.due
                if due is not None:
                    if soon is None:
                        soon = at + risk_horizon
                    if due <= soon:
                        self.promises_at_risk += 1
        approvals = plan.approvals
        if approvals:
            counts = self.approvals
            for approval in approvals:
                counts[approval.role] = counts.get(approval.role, 0) + 1
        level = plan.escalation_level
        if level > 0:
            self.escalations[level] = self.escalations.get(level, 0) + 1
            # The month as strftime("%Y-%m") writes it (every year handled has 4 digits).
            month = f"{at.year}-{at.month:02d}"
            self.escalations_by_month[month] = self.escalations_by_month.get(month, 0) + 1
        for clock in plan.clocks:
            if clock.status in _BREACHES:
                self.breaches[clock.name] = self.breaches.get(clock.name, 0) + 1
        if case.promises:
            if soon is None:
                soon = at + risk_horizon
            for p in case.promises:
                if p.is_pending and p.made_at <= at and p.due <= soon:
                    self.promises_at_risk += 1

    def _compensation(self, case: Case, action: DecidedAction) -> None:
        tier = action.tier or "-"
        self.tiers[tier] = self.tiers.get(tier, 0) + 1
        money = action.amount
        if money is not None:
            currency, amount = money.currency, money.amount
            self.cost[currency] = self.cost.get(currency, _ZERO) + amount
            key = (case.customer.segment, currency)
            self.cost_by_segment[key] = self.cost_by_segment.get(key, _ZERO) + amount
            tkey = (tier, currency)
            self.cost_by_tier[tkey] = self.cost_by_tier.get(tkey, _ZERO) + amount
        ratio = action.ratio
        if ratio is not None:
            self.new_ratios.append(ratio)

    def timed(self, case: Case, walk: list[tuple[datetime, RecoveryPlan]]) -> None:
        """Compare when the policy first asked for each aspect, on a walk through the
        case, with when the case records it first done."""
        # What each plan of the walk asks for, read once for every aspect.
        asked = [(at, {a.kind for a in decided_as_taken(plan)}) for at, plan in walk]
        for aspect, kind, done in _TIMED:
            history = done(case)
            policy = next((at for at, kinds in asked if kind in kinds), None)
            if history is None and policy is None:
                continue
            if history is None:
                verdict = "policy_only"
            elif policy is None or _utc(policy) > _utc(history):
                verdict = "later"
            elif _utc(policy) < _utc(history):
                verdict = "earlier"
            else:
                verdict = "same"
            self.timing[(aspect, verdict)] += 1

    def merge(self, other: _Tally) -> None:
        self.cases += other.cases
        self.decisions += other.decisions
        self.errors += other.errors
        room = _KEEP_BAD_LINES - len(self.bad_lines)
        self.bad_lines.extend(other.bad_lines[: max(room, 0)])
        for currency, value in other.cost.items():
            self.cost[currency] = self.cost.get(currency, Decimal(0)) + value
        for currency, value in other.owed.items():
            self.owed[currency] = self.owed.get(currency, Decimal(0)) + value
        for mine, theirs in (
            (self.cost_by_segment, other.cost_by_segment),
            (self.cost_by_tier, other.cost_by_tier),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, Decimal(0)) + value
        _add_counts(self.tiers, other.tiers)
        self.ratios = self.all_ratios() + other.all_ratios()
        _add_counts(self.approvals, other.approvals)
        _add_counts(self.escalations, other.escalations)
        _add_counts(self.escalations_by_month, other.escalations_by_month)
        _add_counts(self.breaches, other.breaches)
        self.promises_made += other.promises_made
        self.promises_at_risk += other.promises_at_risk
        self.timing.update(other.timing)

    def all_ratios(self) -> RatioDistribution:
        """Every ratio added, binned (``ratios`` brought up to date)."""
        if self.new_ratios:
            self.ratios = self.ratios + RatioDistribution.of(self.new_ratios)
            self.new_ratios.clear()
        return self.ratios

    def freeze(self, policy_name: str, fingerprint: str) -> Summary:
        return Summary(
            policy_name=policy_name,
            policy_fingerprint=fingerprint,
            cases=self.cases,
            decisions=self.decisions,
            errors=self.errors,
            bad_lines=tuple(self.bad_lines),
            cost=dict(sorted(self.cost.items())),
            cost_by_segment={_money_key(*k): v for k, v in sorted(self.cost_by_segment.items())},
            cost_by_tier={_money_key(*k): v for k, v in sorted(self.cost_by_tier.items())},
            tiers=dict(sorted(self.tiers.items())),
            ratios=self.all_ratios(),
            approvals=dict(sorted(self.approvals.items())),
            escalations=dict(sorted(self.escalations.items())),
            escalations_by_month=dict(sorted(self.escalations_by_month.items())),
            breaches=dict(sorted(self.breaches.items())),
            promises_made=self.promises_made,
            promises_at_risk=self.promises_at_risk,
            timing=_timing(self.timing),
            owed=dict(sorted(self.owed.items())),
        )


@attrs.frozen
class Summary:
    """What one policy did over a replay.

    Money is summed per currency, exactly: ``cost`` maps a currency to a ``Decimal``
    total of the goodwill compensation (``compensate`` actions); ``owed`` totals the
    money owed back (``repay`` actions: a wrong charge, a refund of what was paid for),
    never part of ``cost``; ``cost_by_segment`` and ``cost_by_tier`` map
    ``"<segment> <currency>"`` and ``"<tier> <currency>"``. ``tiers`` counts
    compensation decisions per tier (whether or not the case had a value at stake),
    ``approvals`` plans needing each role's
    approval, ``escalations`` plans per escalation level (above 0),
    ``escalations_by_month`` per decision month, ``breaches`` breached or missed clocks
    per clock. ``promises_made`` counts promises the plans propose; ``promises_at_risk``
    counts pending promises (the case's own and the proposed ones) overdue or due within
    the replay's risk horizon of the decision time. ``errors`` counts inputs that could
    not be replayed; the first hundred are in ``bad_lines``.

    ``timing``, after a walk (``at="walk"``): for ``escalation``, ``compensation`` and
    ``promise``, how many cases the policy asked for it first *earlier* than the case
    records it first done (an escalation taken, a grant, a promise made), at the *same*
    instant, *later* (the case records it done before the policy asked, or the policy
    never asked), or asked for it when the case never records it (``policy_only``).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``timing``, ``owed``.
    """

    policy_name: str
    policy_fingerprint: str
    cases: int
    decisions: int
    errors: int
    bad_lines: tuple[BadLine, ...]
    cost: Mapping[str, Decimal]
    cost_by_segment: Mapping[str, Decimal]
    cost_by_tier: Mapping[str, Decimal]
    tiers: Mapping[str, int]
    ratios: RatioDistribution
    approvals: Mapping[str, int]
    escalations: Mapping[int, int]
    escalations_by_month: Mapping[str, int]
    breaches: Mapping[str, int]
    promises_made: int
    promises_at_risk: int
    timing: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    owed: Mapping[str, Decimal] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (money as decimal strings)."""
        ratios = self.ratios
        return {
            "policy": {"name": self.policy_name, "fingerprint": self.policy_fingerprint},
            "cases": self.cases,
            "decisions": self.decisions,
            "errors": self.errors,
            "bad_lines": [{"line": b.line, "error": b.error} for b in self.bad_lines],
            "cost": {k: str(v) for k, v in self.cost.items()},
            "owed": {k: str(v) for k, v in self.owed.items()},
            "cost_by_segment": {k: str(v) for k, v in self.cost_by_segment.items()},
            "cost_by_tier": {k: str(v) for k, v in self.cost_by_tier.items()},
            "tiers": dict(self.tiers),
            "compensation_ratio": {
                "bins": dict(zip(RatioDistribution.labels(), ratios.counts, strict=True)),
                "above_1_2": ratios.above_1_2,
                "above_1_5": ratios.above_1_5,
                "share_above_1_2": _share(ratios.share_above_1_2.value),
                "share_above_1_5": _share(ratios.share_above_1_5.value),
            },
            "approvals": dict(self.approvals),
            "escalations": {str(k): v for k, v in self.escalations.items()},
            "escalations_by_month": dict(self.escalations_by_month),
            "breaches": dict(self.breaches),
            "promises_made": self.promises_made,
            "promises_at_risk": self.promises_at_risk,
            "timing": {k: dict(v) for k, v in self.timing.items()},
        }


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC)


def _first(times: list[datetime]) -> datetime | None:
    return min(times, key=_utc) if times else None


# The aspects a walk times: the plan's action kind, and when the case records it done.
_TIMED: tuple[tuple[str, ActionKind, Callable[[Case], datetime | None]], ...] = (
    ("escalation", ActionKind.ESCALATE, lambda c: _first([e.at for e in c.escalations()])),
    ("compensation", ActionKind.COMPENSATE, lambda c: _first([g.at for g in c.grants])),
    ("promise", ActionKind.MAKE_PROMISE, lambda c: _first([p.made_at for p in c.promises])),
)
VERDICTS = ("earlier", "same", "later", "policy_only")


def _timing(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    aspects = sorted({aspect for aspect, _ in counts})
    return {a: {v: counts[(a, v)] for v in VERDICTS if counts[(a, v)]} for a in aspects}


def _share(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
