"""Compensation: goodwill sized by the policy, money owed paid back (:mod:`._owed`), and
who may grant it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import partial
from typing import Final

from cxrecovery._validation import settable_maker
from cxrecovery.engine._context import NOTHING_REPAID, DecisionContext
from cxrecovery.engine._grant import asked
from cxrecovery.engine._harm import harm_shares
from cxrecovery.engine._owed import owed, repay
from cxrecovery.engine._pending import Explained, Pending, ReasonSpec, new_pending, reasons_of
from cxrecovery.engine._support import _duration_text
from cxrecovery.engine.authority import GrantRequest, Ladder, Verdict
from cxrecovery.engine.goodwill import Step
from cxrecovery.model import (
    Attributes,
    CaseEventKind,
    CompensationForm,
    ExpectationBaseline,
    Fault,
)
from cxrecovery.money import _ZERO_IN, Money, _settable
from cxrecovery.plan import (
    ActionKind,
    Approval,
    Authority,
    Authorization,
)
from cxrecovery.policy import RolePolicy, Tier

__all__ = ["compensate", "owed", "repay"]

_CENT: Final = Decimal("0.01")
# Money's arithmetic on plain amounts, looked up once (a class attribute costs a lookup).
_held_amount: Final = Money._held_amount
_scaled_amount: Final = Money._scaled_amount
# Money made of an amount held to its currency's minor unit already (Money._made's
# work, one call fewer); each currency's one zero.
_money: Final = _settable
# Enum members looked up once: an enum class's attribute costs a lookup through its
# metaclass on every read.
_COMPENSATE: Final = ActionKind.COMPENSATE
_DO_NOW: Final = Authority.DO_NOW
_NEEDS_APPROVAL: Final = Authority.NEEDS_APPROVAL
_BASIS_POINT: Final = Decimal("0.0001")
_ZERO: Final = Decimal(0)
# What a decision has repaid until money owed is paid back: the context's own zero.
_NOTHING_REPAID: Final = NOTHING_REPAID
_CUSTOMER: Final = Fault.CUSTOMER
_ONE: Final = Decimal(1)
_NOT_OVER: Final[tuple[bool, ExpectationBaseline | None]] = (False, None)
# The facts each goodwill step reads, as its reason cites them.
_STEP_FACTS: Final[dict[str, tuple[str, ...]]] = {
    "principles.customers_own_fault": ("fault",),
    "compensation.fault_step": ("fault", "history"),
    "compensation.effort_point": ("effort",),
    "compensation.harm.lateness": ("promises_broken",),
    "compensation.harm.downtime": ("service_usable",),
}
# An expectation made of values its validators accept, as the decision makes them (a
# non-negative ratio quantized to cents, a form or None, an aware instant, a text):
# ExpectationBaseline's own __init__ checks them again at about 17 k instructions.
_expectation: Final = settable_maker(ExpectationBaseline, "set by a decision")
_PREFER_IMMEDIATE: Final = Attributes(
    {"prefer": "immediate credit or refund over a delayed voucher"}
)
_PREFER_REASON: Final = (
    "compensation.prefer_immediate",
    "immediate compensation beats a delayed voucher (Roschk & Gelbrich 2014)",
)


def compensate(
    d: DecisionContext, recovery: Mapping[str, object], rule: str, owner: str
) -> tuple[Money | None, bool, ExpectationBaseline | None]:
    """Goodwill as the recovery row sizes it, money owed paid back, and who may grant
    it: the amount granted (if any), whether the case over-delivers, and the
    customer's raised expectation when it does."""
    case = d.case
    facts = d.facts
    engine = d.engine
    value = case.failure.value_at_stake
    owed_value = owed(d)
    # The row's tier and the goodwill's form (a credit on top of a remedy that is one).
    row_tier, form = engine._goodwill.row(recovery)
    tier, ratio, refunded, why = _size(d, row_tier, rule, owed_value)
    repay(d, value, owed_value, owner)
    # Refunds already granted pay back money owed first; the rest was goodwill.
    granted = facts["granted_so_far"]
    if granted.__class__ is not Decimal:
        granted = Decimal(granted)  # type: ignore[arg-type]
    repaid = d.repaid
    if repaid is not _NOTHING_REPAID:  # less nothing: granted as it is
        granted -= repaid
    # Nothing granted before and no grant on the case: nothing goes beyond the goodwill.
    over, expectation = (
        _over_delivered(d, value, granted, ratio, tier) if granted or case.grants else _NOT_OVER
    )
    if value is None or not value.amount or not ratio or facts["critical"]:
        _unsized(d, value, ratio, tier, form, rule, why)
        return None, over, expectation
    # The reasons the amount adds to the goodwill's (a floor, a ceiling, a grant).
    reasons: list[ReasonSpec] = []
    found = _amount(d, value, tier, ratio, refunded, granted, reasons)
    if found is None:
        return None, over, expectation
    amount, already = found
    # The request's case total is what was granted, read as ``already`` was, plus this.
    request = asked(case, facts, amount, form, d.spent, already, owed_value)
    comp = d.policy.compensation
    # By position: not critical (a critical case has no amount), the approval line.
    verdict = engine._ladder.verdict(d.role, request, False, comp.approval_above_ratio)
    authority, who, approval = _authority(d, request, verdict, amount, form, tier)
    # (already + amount).ratio_to(value), as the request worked it out for its checks.
    share = request.case_ratio
    if share is None:  # pragma: no cover - the value at stake is not zero here
        share = request.case_total.ratio_to(value)
    if form in comp.delight_forms:
        # Granting it will raise what this customer expects next time: say so now.
        over = True
        baseline = case.customer.expectation
        # By position (see _expectation): ratio, remedy, set_at, reason.
        expectation = _expectation(
            max(share, baseline.compensation_ratio).quantize(_CENT),
            form,
            d.at,
            f"if granted on case {case.id}, the customer will expect this again",
        )
    agent = d.agent
    d.pending.append(
        new_pending(  # every field, in order: see Pending
            Pending,
            (
                _COMPENSATE,
                _compensation_text,
                (form, amount, share, value, who, approval, why, reasons or _NO_REASONS),
                agent.id
                if (agent is not None and verdict.allowed)
                else (verdict.approver or owner),
                None,
                authority,
                approval,
                amount,
                share.quantize(_BASIS_POINT),
                form,
                tier.name,
                None,
                None,
            ),
        )
    )
    return amount, over, expectation


# No reason added to the goodwill's: the one empty tuple, not a list kept per action.
_NO_REASONS: Final[tuple[ReasonSpec, ...]] = ()


def _compensation_text(
    d: DecisionContext,
    form: CompensationForm,
    amount: Money,
    share: Decimal,
    value: Money,
    who: str | None,
    approval: Approval | None,
    why: _Why,
    reasons: Sequence[ReasonSpec],
) -> Explained:
    if who is None:  # the acting role may grant it, or the approval names who approves
        who = (
            f"{d.role.name} may grant it now"
            if approval is None
            else f"needs approval by {approval.role}"
        )
    return (
        f"Compensate: {form.value.replace('_', ' ')} of {amount} ({share:.2f} of {value}); {who}",
        _PREFER_IMMEDIATE,
        (*reasons_of(d, [*_size_reasons(d, why), *reasons]), d.reason(*_PREFER_REASON)),
    )


# Why the goodwill is what it is, kept as the values its reasons are written from (on
# first read): the row's rule, the row's tier, the goodwill's steps, how late and how
# long without the service (the steps reached), and whether the customer's raised
# expectation set it.
_Why = tuple[str, str, tuple[Step, ...], timedelta | None, timedelta | None, bool]


def _size(
    d: DecisionContext, tier: Tier, rule: str, owed_value: Money | None
) -> tuple[Tier, Decimal, Decimal, _Why]:
    """The tier and the share of the value at stake the goodwill comes to (the policy's
    steps, then the customer's raised expectation), the share refunded as money owed,
    and why (see :func:`_size_reasons`)."""
    comp = d.policy.compensation
    facts = d.facts
    # A remedy that gives the money back pays the value at stake as money owed; any
    # other remedy restores the service (so does a case already put right).
    remedy_action = d.remedy_action
    restored = not (remedy_action is not None and remedy_action in comp.refund_remedies)
    row_tier = tier.name
    refunded = _ONE if owed_value is not None else _ZERO
    fault = facts["fault"]
    lateness, late_by, downtime, down_for = harm_shares(d)
    # The tier used, the share, the harm and the steps (their texts written on first read).
    tier, ratio, _, steps = d.engine._goodwill.sized(
        tier,
        fault,
        facts["history"],
        facts["effort"],
        lateness,
        downtime,
        restored,
        refunded,
    )
    baseline = d.case.customer.expectation.compensation_ratio
    # (Nothing refunded: the share alone, as adding zero compares.)
    due = ratio if refunded is _ZERO else ratio + refunded
    expected = baseline > due and fault != _CUSTOMER
    if expected:
        # What they got last time is what they expect now, a tier-0 row included
        # (Rust & Oliver 2000); unless the failure was their own doing.
        ratio = min(baseline - refunded, comp.hard_cap_ratio - refunded)
    return tier, ratio, refunded, (rule, row_tier, steps, late_by, down_for, expected)


def _size_reasons(d: DecisionContext, why: _Why) -> list[ReasonSpec]:
    """The reasons for each step that sized the goodwill, written from ``why``."""
    rule, row_tier, steps, late_by, down_for, expected = why
    reasons: list[ReasonSpec] = [
        (
            rule,
            f"severity and history call for tier {row_tier}",
            "severity",
            "history",
            "service_usable",
        )
    ]
    for step_rule, text in d.engine._goodwill.said(steps):
        names = _STEP_FACTS.get(step_rule, ())
        if step_rule == "compensation.harm.lateness" and late_by is not None:
            text = f"{text} (late by {_duration_text(late_by)} or more)"
        elif step_rule == "compensation.harm.downtime" and down_for is not None:
            text = f"{text} (without it for {_duration_text(down_for)} or more)"
        reasons.append((step_rule, text, *names))
    if expected:
        reasons.append(
            (
                "customer.expectation",
                "meet the customer's raised expectation",
                "expectation_ratio",
            )
        )
    return reasons


def _over_delivered(
    d: DecisionContext, value: Money | None, granted: Decimal, ratio: Decimal, tier: Tier
) -> tuple[bool, ExpectationBaseline | None]:
    """Whether what was granted already goes beyond the goodwill due (or delighted),
    and the expectation that sets for next time."""
    if value is None or not value.amount:
        return False, None
    grants = d.case.grants
    if grants:
        forms = d.policy.compensation.delight_forms
        delight = [g for g in grants if g.at <= d.at and g.form in forms]
    elif not granted:  # nothing granted, nothing delighted: a share of 0 goes beyond
        return False, None  # nothing (the goodwill due and its tier's top are not negative)
    else:
        delight = []
    granted_ratio = granted / value.amount
    # Above the goodwill due and the tier's top (above the higher of the two).
    if not ((granted_ratio > ratio and granted_ratio > tier.max) or delight):
        return False, None
    baseline = d.case.customer.expectation
    new_ratio = max(granted_ratio, baseline.compensation_ratio)
    remedy = delight[-1].form if delight else baseline.remedy
    return True, _expectation(  # by position: see compensate
        new_ratio.quantize(_CENT),
        remedy,
        max(g.at for g in d.case.grants if g.at <= d.at),
        f"over-delivered on case {d.case.id}: the customer will expect this again",
    )


def _unsized(
    d: DecisionContext,
    value: Money | None,
    ratio: Decimal,
    tier: Tier,
    form: CompensationForm,
    rule: str,
    why: _Why,
) -> None:
    """No amount the policy can grant (no value at stake, a zero share, a critical
    case): a person decides it where the policy would pay (the goodwill's reasons,
    ``why``, written out then)."""
    critical = d.facts["critical"]
    if (value is None or not value.amount) and ratio > 0 and not critical:
        # The row pays, but there is nothing to size it on: a person decides the
        # amount, never a silent omission.
        d.judge(
            f"compensation: tier {tier.name} ({tier.min}-{tier.max} of the value at "
            "stake) applies, but the case gives no value at stake; decide the amount",
            d.deciding_role(form),
            (
                *_size_reasons(d, why),
                (
                    "principles.no_silent_gaps",
                    "the policy cannot size it: a person decides",
                    "value_at_stake",
                ),
            ),
            tier=tier.name,
            form=form,
        )
    elif critical and d.is_open and not d.case.done(CaseEventKind.COMPENSATED):
        d.judge(
            "compensation for a critical failure: its human owner decides it",
            d.deciding_role(form),
            (
                (
                    rule,
                    "critical failures are out of scope for automated amounts",
                    "critical",
                ),
            ),
            tier=tier.name,
        )


def _amount(
    d: DecisionContext,
    value: Money,
    tier: Tier,
    ratio: Decimal,
    refunded: Decimal,
    granted: Decimal,
    reasons: list[ReasonSpec],
) -> tuple[Money, Decimal] | None:
    """The amount to grant now (the share, within the tier's floor and ceiling and the
    hard cap, less what was granted already) and what was, held in the value's
    currency; None when nothing is left."""
    # Plain amounts held to the currency's minor unit, as Money holds them (with its
    # errors); Money is made for the amount the plan keeps.
    currency = value.currency
    worth = value.amount
    # Rounded down: a share that lands on a limit stays on it, never a cent over.
    target = _scaled_amount(worth, currency, ratio, ROUND_FLOOR)
    floor = tier.floor.get(currency) if tier.floor else None
    ceiling = tier.ceiling.get(currency) if tier.ceiling else None
    if floor is not None and _money(target, currency) < floor:
        target = floor.amount
        reasons.append((f"compensation.tiers[{tier.name}].floor", f"at least {floor}"))
    if ceiling is not None and _money(target, currency) > ceiling:
        target = ceiling.amount
        reasons.append((f"compensation.tiers[{tier.name}].ceiling", f"at most {ceiling}"))
    # Never a cent over the hard cap, the value refunded as money owed included (the
    # engine's, worked out once, with its adjusted exponent).
    cap_ratio, cap_digits = d.engine._goodwill.caps[refunded is not _ZERO]
    cap: Decimal | None
    if (
        floor is None
        and ceiling is None
        and ratio <= cap_ratio
        and worth >= _ZERO
        and worth.adjusted() + cap_digits < 16
    ):
        # The target is the value's share, within the cap's share (the worth not
        # negative, the product at most 17 digits before the point: Money holds 18):
        # the cap does not bind unless something was granted already, and working it
        # out raises nothing.
        cap = None
    else:
        cap = _scaled_amount(worth, currency, cap_ratio, ROUND_FLOOR)
    # Nothing granted: the currency's one zero, as Money holds it.
    already = _held_amount(granted, currency, worth) if granted else _ZERO_IN[currency]
    headroom: Decimal | None
    if already:
        if cap is None:
            cap = _scaled_amount(worth, currency, cap_ratio, ROUND_FLOOR)
        amount = _held_amount(target - already, currency, target)
        headroom = _held_amount(cap - already, currency, cap)
    else:  # less nothing: each is held already
        amount, headroom = target, cap
    if headroom is not None and amount > headroom:
        amount = headroom
    if amount <= _ZERO:  # nothing, or less than nothing, is left to grant
        if already:
            reasons.append(
                (
                    "compensation.granted",
                    f"{already} {currency} already granted covers it",
                    "granted_so_far",
                )
            )
        return None
    if already:
        reasons.append(
            (
                "compensation.granted",
                f"{already} {currency} already granted on this case",
                "granted_so_far",
            )
        )
    return _money(amount, currency), already


def _authority(
    d: DecisionContext,
    request: GrantRequest,
    verdict: Verdict,
    amount: Money,
    form: CompensationForm,
    tier: Tier,
) -> tuple[Authority, str | None, Approval | None]:
    """Who may grant ``amount``: the acting role now, an approver (an approval asked
    for, its reason and failed checks written on first read), or no role at all (a
    person decides); and what the action says of it when no role may (the other two
    are said on first read, see ``_compensation_text``)."""
    if verdict.allowed:
        return _DO_NOW, None, None
    ladder = d.engine._ladder
    line = d.policy.compensation.approval_above_ratio
    approver = verdict.approver
    if approver is not None:
        approval = (
            _approval(approver, _written(ladder, d.role, request, verdict, line))
            if d.explain
            else _deferred_approval(
                partial(_approval_text, ladder, d.role, request, verdict, line), approver
            )
        )
        d.approvals.append(approval)
        return _NEEDS_APPROVAL, None, approval
    reason = _written(ladder, d.role, request, verdict, line).reason
    accepted = ladder.accepts(amount.currency)
    d.judge(
        f"compensation of {amount} as {form.value.replace('_', ' ')}: {reason}",
        d.deciding_role(form, above=True)
        if not accepted
        else max(d.policy.roles, key=lambda r: r.rank).name,
        (
            (
                "principles.no_silent_gaps",
                "no role's limits cover it: a person decides, never a missing limit",
            ),
        ),
        amount=amount,
        form=form,
        tier=tier.name,
    )
    return Authority.NEEDS_APPROVAL, f"no role may grant it: {reason}", None


# An approval with its role set, its reason and checks written on first read.
_deferred_approval: Final = Approval._deferring("role")


def _approval(approver: str, auth: Authorization) -> Approval:
    return Approval(approver, auth.reason, auth.checks)


def _written(
    ladder: Ladder, role: RolePolicy, request: GrantRequest, verdict: Verdict, line: Decimal
) -> Authorization:
    """The authorization ``verdict`` stands for, with only its failed checks (all an
    approval shows)."""
    return ladder.written(role, request, verdict, approval_line=line, all_checks=False)


def _approval_text(
    ladder: Ladder, role: RolePolicy, request: GrantRequest, verdict: Verdict, line: Decimal
) -> dict[str, object]:
    """An approval's reason and checks, written out from the verdict on first read."""
    auth = _written(ladder, role, request, verdict, line)
    return {"reason": auth.reason, "checks": auth.checks}
