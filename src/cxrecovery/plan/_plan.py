"""The recovery plan itself: the decision for one case at one instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import attrs

from cxrecovery._validation import suggest
from cxrecovery.documents import dump
from cxrecovery.errors import UnknownNameError
from cxrecovery.model import Attributes, Channel, CompensationForm, ExpectationBaseline
from cxrecovery.money import Money
from cxrecovery.plan._deferred import Deferrable, early
from cxrecovery.plan._parts import (
    Action,
    ActionKind,
    Approval,
    Authority,
    ClockState,
    TableTrace,
)

__all__ = ["DecidedAction", "RecoveryPlan", "decided_actions"]

_MOVING_FACTS = frozenset({"limbo_hours"})
# The reasons a notification is due at the decision time: it tells a promise made then,
# or it tells a case already put right (nothing else sets its time).
_TOLD_NOW = frozenset({"principles.promise_when_told", "principles.tell_now"})


def _action_kind(kind: object) -> ActionKind:
    if isinstance(kind, ActionKind):
        return kind
    try:
        return ActionKind(kind if isinstance(kind, str) else repr(kind))
    except ValueError:
        names = [k.value for k in ActionKind]
        raise UnknownNameError(
            f"{kind!r} is not an action kind ({', '.join(names)}){suggest(kind, names)}"
        ) from None


@attrs.frozen
class RecoveryPlan(Deferrable):
    """The decision for one case at one instant.

    ``needs_judgement`` is true when part of the plan is left to a person (a
    ``needs_judgement`` action says which part and names the role): a host routes such
    plans to a human queue rather than acting on them alone.

    A plan may be *deferred*: the engine sets the decision's fields at once and leaves
    others (the explanation: reasons, trace, the text of each action) to be worked out,
    all together, the first time any of them is read. A deferred plan is the same class
    with the same fields, and is equal to, hashes, prints, pickles, copies, evolves and
    writes out (``attrs.asdict``, :meth:`to_json`) exactly as the plan made in one go;
    pickling or copying it gives a plain plan with every field set. It is as frozen as
    any plan, and safe to read from several threads at once (the fields are filled once,
    under a lock). Until the first read of a deferred field, the plan keeps alive what
    it needs to work them out (the case, the facts read and the compiled policy): a host
    holding many plans it will never read in full holds those too.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 a plan may be deferred.
    """

    case_id: str
    decided_at: datetime
    role: str
    agent: str | None
    owner: str
    owner_reason: str
    policy_name: str
    policy_version: str
    policy_fingerprint: str
    actions: tuple[Action, ...]
    approvals: tuple[Approval, ...]
    clocks: tuple[ClockState, ...]
    escalation_level: int
    relationship_health: str
    next_review_at: datetime | None
    over_delivery: bool = False
    expectation: ExpectationBaseline | None = None
    needs_judgement: bool = False
    facts: Attributes = attrs.field(factory=Attributes)
    trace: tuple[TableTrace, ...] = ()

    def actions_of(self, kind: ActionKind | str) -> tuple[Action, ...]:
        """The actions of one kind, in plan order (none: an empty tuple).

        Raises:
            UnknownNameError: ``kind`` is not an action kind (a ``KeyError``, with
                "did you mean").
        """
        kind = _action_kind(kind)
        return tuple(a for a in self.actions if a.kind is kind)

    def action(self, kind: ActionKind | str) -> Action | None:
        """The first action of a kind, or ``None`` when the plan has none of that kind.

        ``plan.action("compensate") is None`` means "no compensation in this plan"; a
        misspelt kind (``"compensation"``) is not silently ``None``.

        Raises:
            UnknownNameError: ``kind`` is not an action kind (a ``KeyError``, with
                "did you mean").

        .. versionchanged:: 0.2.0 an unknown kind raises instead of giving ``None``.
        """
        found = self.actions_of(kind)
        return found[0] if found else None

    def clock(self, name: str) -> ClockState:
        """The state of the clock called ``name``.

        Raises:
            UnknownNameError: the plan has no clock of that name (a ``KeyError``, with
                the clocks it has and "did you mean").

        .. versionchanged:: 0.2.0 raises instead of giving ``None``.
        """
        for clock in self.clocks:
            if clock.name == name:
                return clock
        names = [c.name for c in self.clocks]
        raise UnknownNameError(
            f"{name!r} is not a clock of this plan ({', '.join(names) or 'none'})"
            f"{suggest(name, names)}"
        )

    @property
    def overdue(self) -> tuple[Action, ...]:
        """The actions already past due at the decision time, in plan order.

        .. versionadded:: 0.2.0
        """
        return tuple(a for a in self.actions if a.overdue)

    def decision(self) -> RecoveryPlan:
        """This plan without what moves with the decision time alone.

        Two plans with equal ``decision()`` decide the same. Set aside are the decision
        time, the due time of a promise proposed *now* (its business-time estimate
        counted from the decision time; the estimate itself stays), the due time of a
        notification due now (one that tells the customer that promise), and the time
        in limbo, which grows by the minute (the table rows it crosses are what matter,
        and ``next_review_at`` foresees those), and each action's ``overdue`` mark (a
        due time passing makes an action late, not a different decision).
        """
        actions = tuple(
            attrs.evolve(
                a,
                due=None,
                overdue=False,
                summary="",
                details=Attributes({k: v for k, v in a.details.items() if k != "customer_time"}),
            )
            if a.kind is ActionKind.MAKE_PROMISE
            else attrs.evolve(a, due=None, overdue=False)
            # The notification that tells a promise made now is due now: it moves with
            # the decision time, as the promise does (a clock's due time does not).
            if a.kind is ActionKind.NOTIFY and any(r.rule in _TOLD_NOW for r in a.reasons)
            else attrs.evolve(a, overdue=False)
            if a.overdue
            else a
            for a in self.actions
        )
        facts = Attributes({k: v for k, v in self.facts.items() if k not in _MOVING_FACTS})
        trace = tuple(
            attrs.evolve(
                t, inputs=Attributes({k: v for k, v in t.inputs.items() if k not in _MOVING_FACTS})
            )
            for t in self.trace
        )
        return attrs.evolve(
            self,
            decided_at=datetime.min.replace(tzinfo=UTC),
            actions=actions,
            facts=facts,
            trace=trace,
        )

    def to_json(self) -> str:
        """The plan as canonical JSON text: the same plan gives the same bytes."""
        return json.dumps(dump(self), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def decided_actions(plan: RecoveryPlan) -> tuple[Action, ...]:
    """``plan.actions``, without working out the rest of a deferred plan's explanation.

    For code that reads what a plan decides and not why (a replay adding plans up, a
    sweep listing what is due): the actions are the very objects ``plan.actions`` gives,
    now or later, each with its decision (kind, owner, due time, amount, approver…) set
    and its words made on their first read; the plan's facts and trace are left to
    their own first read.
    """
    actions: tuple[Action, ...] = early(plan, "actions")
    return actions


class DecidedAction(Protocol):
    """What an action decides, without its words: an :class:`Action` is one, and so is
    the engine's own value of an action it decided and has not worded (what a replay
    adds up reads these alone)."""

    @property
    def kind(self) -> ActionKind: ...  # pragma: no cover
    @property
    def owner(self) -> str | None: ...  # pragma: no cover
    @property
    def due(self) -> datetime | None: ...  # pragma: no cover
    @property
    def authority(self) -> Authority | None: ...  # pragma: no cover
    @property
    def approval(self) -> Approval | None: ...  # pragma: no cover
    @property
    def amount(self) -> Money | None: ...  # pragma: no cover
    @property
    def ratio(self) -> Decimal | None: ...  # pragma: no cover
    @property
    def form(self) -> CompensationForm | None: ...  # pragma: no cover
    @property
    def tier(self) -> str | None: ...  # pragma: no cover
    @property
    def level(self) -> int | None: ...  # pragma: no cover
    @property
    def channel(self) -> Channel | None: ...  # pragma: no cover
