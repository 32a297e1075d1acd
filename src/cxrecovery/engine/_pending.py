"""An action decided but not yet explained: the decision's values now, its words later.

A step of the decision settles what an action *is* at once (its kind, owner, due time,
amount, approver…) and leaves what it *says* (its summary, details and reasons) to an
explainer run on first read: a :class:`Pending` holds the one and the call that gives
the other. The explainer only formats what the step decided: it cannot fail and it
decides nothing, so a plan read later is the plan decided then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from cxrecovery.model import Attributes, Channel, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import Action, ActionKind, Approval, Authority, Reason

__all__ = ["Explained", "Explainer", "Pending", "ReasonSpec", "reasons_of"]

# A reason not yet made: its rule, its text and the names of the facts it cites.
ReasonSpec = tuple[str, ...]
# What an action says: its summary, its details and its reasons.
Explained = tuple[str, Attributes, tuple[Reason, ...]]
Explainer = Callable[..., Explained]


class Explaining(Protocol):
    """What an explainer is given: the decision (its context), which makes reasons."""

    def reason(self, rule: str, text: str, *names: str) -> Reason: ...  # pragma: no cover


def reasons_of(d: Explaining, specs: Sequence[ReasonSpec]) -> tuple[Reason, ...]:
    """The reasons ``specs`` stand for (through the decision's reason memo)."""
    reason = d.reason
    return tuple([reason(*spec) for spec in specs])


class Pending:
    """One action of a plan: the decision's values, and the call that explains it.

    Every parameter may be passed by position, in the order of the signature: a step
    that makes one per decision passes them so (keywords, and keyword-only defaults,
    cost more per call)."""

    __slots__ = (
        "amount",
        "approval",
        "args",
        "authority",
        "channel",
        "due",
        "explain",
        "form",
        "kind",
        "level",
        "owner",
        "ratio",
        "tier",
    )

    def __init__(
        self,
        kind: ActionKind,
        explain: Explainer,
        args: tuple[Any, ...],
        owner: str | None = None,
        due: datetime | None = None,
        authority: Authority | None = None,
        approval: Approval | None = None,
        amount: Money | None = None,
        ratio: Decimal | None = None,
        form: CompensationForm | None = None,
        tier: str | None = None,
        level: int | None = None,
        channel: Channel | None = None,
    ) -> None:
        self.kind = kind
        self.explain = explain
        self.args = args
        self.owner = owner
        self.due = due
        self.authority = authority
        self.approval = approval
        self.amount = amount
        self.ratio = ratio
        self.form = form
        self.tier = tier
        self.level = level
        self.channel = channel

    def action(self, d: Explaining, overdue: bool) -> Action:
        """The action, explained."""
        summary, details, reasons = self.explain(d, *self.args)
        return Action(  # positional, in field order: cheaper than by keyword
            self.kind,
            summary,
            self.owner,
            self.due,
            self.authority,
            self.approval,
            self.amount,
            self.ratio,
            self.form,
            self.tier,
            self.level,
            self.channel,
            details,
            reasons,
            overdue=overdue,
        )

    def deferred(self, d: Explaining, overdue: bool) -> Action:
        """The action with the decision's values set and its words (summary, details,
        reasons) made on their first read."""
        return Action._deferred(
            partial(self._explained, d),
            kind=self.kind,
            owner=self.owner,
            due=self.due,
            authority=self.authority,
            approval=self.approval,
            amount=self.amount,
            ratio=self.ratio,
            form=self.form,
            tier=self.tier,
            level=self.level,
            channel=self.channel,
            overdue=overdue,
        )

    def _explained(self, d: Explaining) -> dict[str, object]:
        summary, details, reasons = self.explain(d, *self.args)
        return {"summary": summary, "details": details, "reasons": reasons}
