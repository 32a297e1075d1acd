"""An action decided but not yet explained: the decision's values now, its words later.

A step of the decision settles what an action *is* at once (its kind, owner, due time,
amount, approver…) and leaves what it *says* (its summary, details and reasons) to an
explainer run on first read: a :class:`Pending` holds the one and the call that gives
the other. The explainer only formats what the step decided: it cannot fail and it
decides nothing, so a plan read later is the plan decided then.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, Final, NamedTuple, Protocol

from cxrecovery.model import Attributes, Channel, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import Action, ActionKind, Approval, Authority, Reason

__all__ = [
    "NOTHING_GRANTED",
    "NO_VALUES",
    "Explained",
    "Explainer",
    "Pending",
    "ReasonSpec",
    "new_pending",
    "reasons_of",
]

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


# A deferred action's maker, by position: its decision's values (its words on first read).
_DEFERRED_ACTION: Final = Action._deferring(
    "kind",
    "owner",
    "due",
    "authority",
    "approval",
    "amount",
    "ratio",
    "form",
    "tier",
    "level",
    "channel",
    "overdue",
)


class Pending(NamedTuple):
    """One action of a plan: the decision's values, and the call that explains it.

    A tuple: a step that makes one per decision makes it with :data:`new_pending`, from
    the tuple of all its fields in order (the generated constructor, with its defaults
    and keywords, costs more per call)."""

    kind: ActionKind
    explain: Explainer
    args: tuple[Any, ...]
    owner: str | None = None
    due: datetime | None = None
    authority: Authority | None = None
    approval: Approval | None = None
    amount: Money | None = None
    ratio: Decimal | None = None
    form: CompensationForm | None = None
    tier: str | None = None
    level: int | None = None
    channel: Channel | None = None

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
        # By position: the kind, the fields after the explainer's arguments (owner to
        # channel, in Action's order), then overdue.
        return _DEFERRED_ACTION(partial(self._explained, d), self[0], *self[3:13], overdue)

    def _explained(self, d: Explaining) -> dict[str, object]:
        summary, details, reasons = self.explain(d, *self.args)
        return {"summary": summary, "details": details, "reasons": reasons}


class DueShown(Pending):
    """A pending action whose due time is held as an instant and the calendar it is
    shown in (its ``due`` field holds the two), shown in the calendar's zone on each
    read: a decision that is not read never converts it. The instant is one a calendar
    shows (a clock's due time), so showing it cannot fail."""

    __slots__ = ()

    @property
    def due(self) -> datetime | None:
        us, calendar = _due_field(self)
        shown: datetime = calendar.datetime_at(us)
        return shown

    def deferred(self, d: Explaining, overdue: bool) -> Action:
        """:meth:`Pending.deferred`, with the due time shown."""
        return _DEFERRED_ACTION(
            partial(self._explained, d), self[0], self[3], self.due, *self[5:13], overdue
        )


# The ``due`` field as it is held (a DueShown's instant and calendar).
_due_field: Final = operator.itemgetter(4)


# ``Pending._make(fields)``: the tuple of all thirteen fields, in order, made a Pending
# (as ``Pending._make`` does, without its length check and its call).
new_pending: Final = tuple.__new__
# What an action that grants nothing holds between its due time and its channel: no
# authority, approval, amount, ratio, form, tier or level.
NOTHING_GRANTED: Final = (None,) * 7
# What an action without an amount, an approval or a channel holds after its owner: no
# due time, nothing granted, no channel.
NO_VALUES: Final = (None, *NOTHING_GRANTED, None)
