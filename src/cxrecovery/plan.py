"""The recovery plan: what to do, who does it, by when, and why.

A plan is a frozen value. It carries the policy's name, version and fingerprint, the
facts it read, the decision-table rows that matched (and the rows they shadowed), and
``next_review_at``: the instant at which the decision would change if nothing else
happened, so a host schedules one job instead of polling.
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from cxrecovery._validation import aware_arg, suggest
from cxrecovery.documents import dump
from cxrecovery.errors import InvalidValueError, TransitionError, UnknownNameError
from cxrecovery.model import (
    Attributes,
    Case,
    CaseEvent,
    CaseEventKind,
    Channel,
    CompensationForm,
    Direction,
    ExpectationBaseline,
    Grant,
    Promise,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.money import Money
from cxrecovery.transitions import (
    make_promise,
    record_event,
    record_grant,
    record_touchpoint,
)

_MOVING_FACTS = frozenset({"limbo_hours"})
# The reasons a notification is due at the decision time: it tells a promise made then,
# or it tells a case already put right (nothing else sets its time).
_TOLD_NOW = frozenset({"principles.promise_when_told", "principles.tell_now"})


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
    "RecoveryPlan",
    "TableTrace",
    "WarningTime",
    "record",
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
class Approval:
    """An approval a plan needs: the lowest role that may grant it, and why.

    .. versionadded:: 0.1.0
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
class Action:
    """One thing to do, with its owner, deadline and reasons.

    Only the fields that fit the kind are set: ``amount``, ``ratio``, ``form`` and
    ``tier`` on ``compensate``; ``level`` on ``escalate``; ``channel`` on ``notify`` and
    ``follow_up``. ``details`` carries the rest as plain values (the apology's style,
    the remedy, the promise's wording). ``overdue`` is true when ``due`` was already past
    at the decision time (an escalation whose responder should have acted, a follow-up
    not made): do it at once.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``overdue``.
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
class ClockState:
    """A clock at the decision time: its target, due time, warnings and status.

    .. versionadded:: 0.1.0
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
class RecoveryPlan:
    """The decision for one case at one instant.

    ``needs_judgement`` is true when part of the plan is left to a person (a
    ``needs_judgement`` action says which part and names the role): a host routes such
    plans to a human queue rather than acting on them alone.

    .. versionadded:: 0.1.0
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


# --- carrying out a plan ----------------------------------------------------------------

_DONE: dict[ActionKind, CaseEventKind] = {
    ActionKind.APOLOGIZE: CaseEventKind.APOLOGIZED,
    ActionKind.REMEDY: CaseEventKind.REMEDIED,
    ActionKind.COMPENSATE: CaseEventKind.COMPENSATED,
    ActionKind.FOLLOW_UP: CaseEventKind.FOLLOWED_UP,
    ActionKind.RECOGNISE: CaseEventKind.RECOGNISED,
    ActionKind.NEEDS_JUDGEMENT: CaseEventKind.JUDGED,
}


_SUBJECTS: dict[ActionKind, str] = {
    ActionKind.RECOGNISE: "agent",
    ActionKind.FOLLOW_UP: "after",
    ActionKind.REMEDY: "action",
}


def record(
    case: Case,
    action: Action,
    *,
    by: str,
    at: datetime,
    id: str | None = None,
    approved_by: str | None = None,
) -> Case:
    """Say that a plan's ``action`` was carried out by ``by`` at ``at``; the new case.

    The loop a host closes: decide, carry out the plan, record each action done, and
    the next decision asks only for what must newly happen.

    Each kind goes where the case keeps it: a compensation with an amount, and money
    paid back (``repay``, a refund), become a grant (``id`` and ``approved_by``
    optional), a promise a pending promise due when the action said (``id`` optional), a
    customer update an outbound message on the action's channel, an escalation an
    ``escalated`` event at its level and role, the rest an event of their own
    (``apologized``, ``remedied``, ``compensated``, ``followed_up``, ``recognised``, and
    ``judged`` for what a person decided), each
    through :mod:`cxrecovery.transitions`.
    Deciding again then does not ask for it again (see the docs page "Decisions over
    time").

    Raises:
        TransitionError: ``action`` is not an :class:`~cxrecovery.plan.Action`, ``at``
            is naive or before the case opened, an id is used already, or the case is
            closed (a follow-up and a recognition are still taken).

    .. versionadded:: 0.2.0
    """
    if not isinstance(action, Action):
        raise TransitionError.at("action", f"{action!r} is not an Action of a plan")
    aware_arg(at, "at", TransitionError)
    kind = action.kind
    try:
        if (
            kind in (ActionKind.COMPENSATE, ActionKind.REPAY)
            and action.amount is not None
            and action.form
        ):
            grant = Grant(
                id or _fresh_id("grant", [g.id for g in case.grants]),
                action.form,
                at,
                amount=action.amount,
                granted_by=by,
                approved_by=approved_by,
                note=action.summary or None,
            )
            return record_grant(case, grant)
        if kind is ActionKind.MAKE_PROMISE:
            if action.due is None:
                raise TransitionError.at("action.due", "a promise needs its due time")
            promise = Promise(
                id or _fresh_id("promise", [p.id for p in case.promises]),
                action.summary or "the remedy",
                at,
                max(action.due, at),
                made_by=by,
                kind="remedy",
            )
            return make_promise(case, promise)
        if kind is ActionKind.NOTIFY:
            touchpoint = Touchpoint(
                at,
                action.channel or Channel.OTHER,
                TouchpointKind.MESSAGE,
                id=id,
                direction=Direction.OUTBOUND,
                agent=by,
                note=action.summary or None,
            )
            return record_touchpoint(case, touchpoint)
        if kind is ActionKind.ESCALATE:
            event = CaseEvent(
                CaseEventKind.ESCALATED,
                at,
                by=by,
                level=action.level or 1,
                role=_slug(action.owner),
            )
        else:
            # What the event is about: whom a recognition names, which follow-up
            # (its delay after the fix), which remedy.
            subject = (
                action.summary
                if kind is ActionKind.NEEDS_JUDGEMENT
                else action.details.get(_SUBJECTS.get(kind, ""))
            )
            done = _DONE.get(kind)
            if done is None:  # pragma: no cover - every kind has its record
                raise TransitionError.at("action.kind", f"cannot record {kind.value}")
            event = CaseEvent(done, at, by=by, subject=None if subject is None else str(subject))
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None
    return record_event(case, event)


def _fresh_id(stem: str, used: list[str]) -> str:
    taken = set(used)
    n = len(used) + 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _slug(name: str | None) -> str | None:
    """A role name as an escalation names it (``None`` when it is not one)."""
    if name is None:
        return None
    try:
        CaseEvent(CaseEventKind.ESCALATED, datetime.min.replace(tzinfo=UTC), level=1, role=name)
    except InvalidValueError:
        return None
    return name
