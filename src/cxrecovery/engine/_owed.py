"""Money owed: paid back whatever a person decides about goodwill (a wrong charge, the
value of a service not delivered when the remedy is a refund), its own line of the plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from cxrecovery.engine._context import DecisionContext
from cxrecovery.engine._pending import Explained, Pending, ReasonSpec, new_pending, reasons_of
from cxrecovery.model import Attributes, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import ActionKind, Authority

__all__ = ["owed", "repay"]

_ZERO: Final = Decimal(0)
# Enum members looked up once: an enum class's attribute costs a lookup through its
# metaclass on every read.
_REPAY: Final = ActionKind.REPAY
_DO_NOW: Final = Authority.DO_NOW
_REFUND: Final = CompensationForm.REFUND
# Refunds pay back money owed before they count as goodwill.
_REFUND_FORMS: Final = frozenset({CompensationForm.REFUND, CompensationForm.REFUND_KEEP_ITEM})


def owed(d: DecisionContext) -> Money | None:
    """The value at stake, when the remedy gives the money back: then it is owed."""
    action = d.remedy_action
    if action is None or action not in d.policy.compensation.refund_remedies:
        return None  # a remedy that does not give the money back: nothing is owed
    value = d.case.failure.value_at_stake
    # (Money's truth: an amount that is not zero, read directly.)
    return value if value is not None and value.amount else None


def repay(d: DecisionContext, value: Money | None, owed_value: Money | None, owner: str) -> None:
    """Pay back what the company owes: a wrong charge, the value of a service not
    delivered (when the remedy is a refund). Not goodwill: no empowerment limit
    applies; it is its own line, recorded in the plan. Refunds already granted pay
    it first (``d.repaid``)."""
    wrong = d.case.failure.wrongly_charged
    # (Money's truth: an amount that is not zero, read directly.)
    charged = wrong is not None and wrong.amount
    if not charged and owed_value is None:  # nothing owed: the common case
        return
    parts: list[tuple[Money, str, str]] = []
    if charged and wrong is not None:
        parts.append((wrong, "the charge made in error", "failure.wrongly_charged"))
    if owed_value is not None:
        parts.append(
            (
                owed_value,
                f"the {d.remedy_action or 'refund'} of what was paid for",
                f"compensation.refund_remedies[{d.remedy_action}]",
            )
        )
    refunds: dict[str, Decimal] = {}
    for grant in d.case.grants:
        if grant.at <= d.at and grant.form in _REFUND_FORMS and grant.amount:
            cur = grant.amount.currency
            refunds[cur] = refunds.get(cur, _ZERO) + grant.amount.amount
    by_currency: dict[str, list[tuple[Money, str, str]]] = {}
    for part in parts:
        by_currency.setdefault(part[0].currency, []).append(part)
    for currency, items in by_currency.items():
        total = sum((m.amount for m, _, _ in items), _ZERO)
        paid = min(refunds.get(currency, _ZERO), total)
        if value is not None and currency == value.currency:
            d.repaid = paid
        outstanding = Money(total - paid, currency)
        if not outstanding:
            continue
        d.pending.append(
            new_pending(  # every field, in order: see Pending
                Pending,
                (
                    _REPAY,
                    _repay_text,
                    (items, paid, currency, outstanding),
                    d.agent.id if d.agent is not None else owner,
                    None,
                    _DO_NOW,
                    None,
                    outstanding,
                    None,
                    _REFUND,
                    None,
                    None,
                    None,
                ),
            )
        )


def _repay_text(
    d: DecisionContext,
    items: list[tuple[Money, str, str]],
    paid: Decimal,
    currency: str,
    outstanding: Money,
) -> Explained:
    reasons: list[ReasonSpec] = [
        (rule, f"{money} is owed: {what}; money owed is paid back, not granted as goodwill")
        for money, what, rule in items
    ]
    if paid:
        reasons.append(
            ("compensation.repaid", f"{Money(paid, currency)} already refunded", "granted_so_far")
        )
    return (
        f"Pay back {outstanding} owed: "
        + "; ".join(f"{what} ({money})" for money, what, _ in items),
        Attributes._from_sorted((("owed", "; ".join(what for _, what, _ in items)),)),
        reasons_of(d, reasons),
    )
