"""The parts of a recovery plan: its actions, approvals, clocks, reasons and trace."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from cxrecovery.model import Attributes, Channel, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan._deferred import Deferrable

__all__ = [
    "Action",
    "ActionKind",
    "Approval",
    "Authority",
    "Authorization",
    "ClockState",
    "ClockStatus",
    "LimitCheck",
    "Reason",
    "TableTrace",
    "WarningTime",
]


class ActionKind(enum.StrEnum):
    """The kinds of action a plan holds, in the order a plan lists them.

    ``repay`` gives back money the company owes (a wrong charge, a refund for a service
    not delivered): not goodwill, so no empowerment limit applies, but it is recorded.
    ``needs_judgement`` is a part of the plan the policy could not decide: a person
    decides it (the action's owner is the lowest role that can).

    .. versionadded:: 0.1.0
    """

    APOLOGIZE = "apologize"
    REMEDY = "remedy"
    REPAY = "repay"
    COMPENSATE = "compensate"
    NEEDS_JUDGEMENT = "needs_judgement"
    ESCALATE = "escalate"
    NOTIFY = "notify"
    MAKE_PROMISE = "make_promise"
    FOLLOW_UP = "follow_up"
    RECOGNISE = "recognise"


class Authority(enum.StrEnum):
    """Who may act: the agent now, or only after an approval.

    .. versionadded:: 0.1.0
    """

    DO_NOW = "do_now"
    NEEDS_APPROVAL = "needs_approval"


class ClockStatus(enum.StrEnum):
    """Where a clock stands at the decision time.

    .. versionadded:: 0.1.0
    """

    RUNNING = "running"
    PAUSED = "paused"
    BREACHED = "breached"
    MET = "met"
    MISSED = "missed"


@attrs.frozen
class Reason:
    """Why an item is in the plan: the rule that put it there and the facts it read.

    ``rule`` is a path into the policy (``tables.recovery[major-first]``,
    ``roles[front_line].max_per_case``).

    .. versionadded:: 0.1.0
    """

    rule: str
    text: str
    facts: Attributes = attrs.field(factory=Attributes)


@attrs.frozen
class LimitCheck:
    """One empowerment limit checked for a grant: the limit, the value, the verdict.

    .. versionadded:: 0.1.0
    """

    rule: str
    limit: str
    value: str
    ok: bool


@attrs.frozen
class Approval(Deferrable):
    """An approval a plan needs: the lowest role that may grant it, and why.

    Like a plan, an approval may be deferred (its reason and checks worked out on first
    read) and behaves exactly as one made in one go: see
    :class:`~cxrecovery.plan.RecoveryPlan`.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 may be deferred.
    """

    role: str
    reason: str
    checks: tuple[LimitCheck, ...] = ()


@attrs.frozen
class Authorization:
    """The answer to "may this agent grant this?" with every limit checked.

    ``approver`` is the lowest role that may grant it when the agent may not; ``None``
    when the agent may, or when no role in the policy may (then ``reason`` says so).

    .. versionadded:: 0.1.0
    """

    allowed: bool
    role: str
    approver: str | None
    reason: str
    checks: tuple[LimitCheck, ...] = ()


@attrs.frozen
class Action(Deferrable):
    """One thing to do, with its owner, deadline and reasons.

    Only the fields that fit the kind are set: ``amount``, ``ratio``, ``form`` and
    ``tier`` on ``compensate``; ``level`` on ``escalate``; ``channel`` on ``notify`` and
    ``follow_up``. ``details`` carries the rest as plain values (the apology's style,
    the remedy, the promise's wording). ``overdue`` is true when ``due`` was already past
    at the decision time (an escalation whose responder should have acted, a follow-up
    not made): do it at once.

    Like a plan, an action may be deferred (its wording, details and reasons worked out
    on first read) and behaves exactly as one made in one go: see
    :class:`~cxrecovery.plan.RecoveryPlan`.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``overdue``; may be deferred.
    """

    kind: ActionKind
    summary: str
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
    details: Attributes = attrs.field(factory=Attributes)
    reasons: tuple[Reason, ...] = ()
    overdue: bool = attrs.field(default=False, kw_only=True)


@attrs.frozen
class WarningTime:
    """The instant a clock's warning fires.

    .. versionadded:: 0.1.0
    """

    name: str
    at: datetime


@attrs.frozen
class ClockState(Deferrable):
    """A clock at the decision time: its target, due time, warnings and status.

    Like a plan, a clock's state may be deferred (its due time and warnings shown in
    its calendar's zone on first read) and behaves exactly as one made in one go: see
    :class:`~cxrecovery.plan.RecoveryPlan`.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 may be deferred.
    """

    name: str
    status: ClockStatus
    target: timedelta
    started_at: datetime
    due_at: datetime | None = None
    stopped_at: datetime | None = None
    calendar: str = ""
    warnings: tuple[WarningTime, ...] = ()
    rule: str = ""


@attrs.frozen
class TableTrace:
    """One decision table's part in the plan: inputs read, rows matched and used.

    ``shadowed`` lists rows that matched too but were not used (a ``first`` table uses
    the earliest). ``why_not`` is filled on request (``decide(..., explain=True)``),
    for each row that did not match, the first column that failed and why.

    .. versionadded:: 0.1.0
    """

    table: str
    inputs: Attributes
    matched: tuple[str, ...]
    chosen: tuple[str, ...]
    shadowed: tuple[str, ...] = ()
    why_not: tuple[str, ...] = ()
