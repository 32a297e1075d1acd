"""A grant asked for: its amount and form, and the totals every limit check compares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

from cxrecovery.errors import InvalidValueError
from cxrecovery.model import Case, CompensationForm
from cxrecovery.money import _ZERO_IN, Money

__all__ = ["GrantRequest", "asked"]


class GrantRequest:
    """What a grant would add, with what is already known of the case and the agent.

    The totals every limit check compares are worked out once, here: every role checked
    for one request reads the same ones. They are held as plain amounts in the grant's
    currency; the money attributes (:attr:`case_total` and the rest) are made from them
    when read.
    """

    __slots__ = (
        "_case",
        "_customer",
        "_forms_after",
        "_granted",
        "_period",
        "_recent",
        "_spent",
        "amount",
        "case_ratio",
        "currency",
        "form",
        "forms_before",
        "line_ratio",
        "value",
    )

    def __init__(
        self,
        *,
        amount: Money,
        form: CompensationForm,
        value: Money | None,
        granted_before: Money,
        recent_goodwill: Money,
        period_spent: Money,
        forms_before: Iterable[CompensationForm] = (),
        owed: Money | None = None,
    ) -> None:
        # The money arithmetic the totals stand for, for its checks (another currency,
        # not Money, too large an amount), in its order.
        case_total = granted_before + amount
        if value is not None and value:
            case_total.ratio_to(value)
            if owed is not None:
                (case_total + owed).ratio_to(value)
        period_spent + amount
        recent_goodwill + amount
        self._fill(
            amount,
            form,
            value,
            granted_before.amount,
            recent_goodwill.amount,
            period_spent.amount,
            frozenset(forms_before),
            owed.amount if owed is not None else None,
        )

    def _fill(
        self,
        amount: Money,
        form: CompensationForm,
        value: Money | None,
        granted: Decimal,
        recent: Decimal,
        spent: Decimal,
        forms_before: frozenset[CompensationForm],
        owed: Decimal | None,
    ) -> None:
        currency = amount.currency
        adding = amount.amount  # held already (Money): nothing added to it leaves it so
        held = _held_amount
        self.amount = amount
        self.currency = currency
        self.form = form
        self.value = value
        self._granted = granted
        self._recent = recent
        self._spent = spent
        self.forms_before = forms_before
        self._forms_after = forms_before | _ONE_FORM[form] if forms_before else _ONE_FORM[form]
        self._case = case = held(granted + adding, currency, adding) if granted else adding
        if value is not None and value.amount:  # Money's truth, read directly
            self.case_ratio: Decimal | None = case / value.amount
            """:attr:`case_total` as a share of the value at stake; None if that is
            unknown or 0."""
            self.line_ratio: Decimal | None = (
                held(case + owed, currency, adding) / value.amount
                if owed is not None
                else self.case_ratio
            )
            """What the approval line compares: :attr:`case_ratio` with the value at
            stake refunded as money owed (``owed``) on top, as the customer receives
            both."""
        else:
            self.case_ratio = self.line_ratio = None
        self._period = held(spent + adding, currency, adding) if spent else adding
        self._customer = held(recent + adding, currency, adding) if recent else adding

    @property
    def granted_before(self) -> Money:
        """What the case received before this grant."""
        return Money._made(self._granted, self.currency)

    @property
    def recent_goodwill(self) -> Money:
        """What the customer received in the goodwill window before this grant."""
        return Money._made(self._recent, self.currency)

    @property
    def period_spent(self) -> Money:
        """What the agent granted in the period before this grant."""
        return Money._made(self._spent, self.currency)

    @property
    def case_total(self) -> Money:
        """What the case would have received in all."""
        return Money._made(self._case, self.currency)

    @property
    def period_total(self) -> Money:
        """What the agent would have granted in the period."""
        return Money._made(self._period, self.currency)

    @property
    def customer_total(self) -> Money:
        """What the customer would have received in the goodwill window."""
        return Money._made(self._customer, self.currency)

    @property
    def forms_after(self) -> frozenset[CompensationForm]:
        """The forms on the case once this one is granted."""
        return self._forms_after


def asked(
    case: Case,
    facts: Mapping[str, object],
    amount: Money,
    form: CompensationForm,
    spent: Money | None,
    granted_before: Decimal | None = None,
    owed: Money | None = None,
) -> GrantRequest:
    """The request to grant ``amount`` on ``case`` with its ``facts``; ``granted_before``
    is the ``granted_so_far`` fact as an amount held in ``amount``'s currency, when the
    caller has it already. The facts' amounts are held as ``Money(fact, currency)`` holds
    them (its errors too); ``spent`` and the value at stake must be in that currency."""
    currency = amount.currency
    if spent is not None and spent.currency != currency:
        raise InvalidValueError.at("spent", f"{spent} is not in {currency}, the grant's currency")
    value = case.failure.value_at_stake
    if value is not None and value.currency != currency:
        raise InvalidValueError.at(
            "amount", f"{amount} is not in {value.currency}, the value at stake's currency"
        )
    like = amount.amount
    if granted_before is None:
        granted_before = _held_amount(facts["granted_so_far"], currency, like)  # type: ignore[arg-type]
    recent = facts["recent_goodwill"]
    grants = case.grants
    request: GrantRequest = _new(GrantRequest)
    # Filled by position, the totals from plain amounts held to the minor unit of
    # ``amount``'s currency: nothing (a zero fact, no spend) is that currency's one
    # zero, as Money holds it.
    _fill(
        request,
        amount,
        form,
        value,
        granted_before,
        _held_amount(recent, currency, like) if recent else _ZERO_IN[currency],  # type: ignore[arg-type]
        spent.amount if spent is not None else _ZERO_IN[currency],
        frozenset([g.form for g in grants]) if grants else _NO_FORMS,
        owed.amount if owed is not None else None,
    )
    return request


# Looked up once (a class attribute costs a lookup).
_held_amount: Final = Money._held_amount
_fill: Final = GrantRequest._fill
_new: Final = object.__new__
_NO_FORMS: Final[frozenset[CompensationForm]] = frozenset()
# Each form on its own, as a set: the forms on a case that had none before.
_ONE_FORM: Final = {form: frozenset({form}) for form in CompensationForm}
