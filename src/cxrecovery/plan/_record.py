"""Carrying out a plan: record each action done in the case it was decided for."""

from __future__ import annotations

from datetime import UTC, datetime

from cxrecovery._validation import aware_arg
from cxrecovery.errors import InvalidValueError, TransitionError
from cxrecovery.model import (
    Case,
    CaseEvent,
    CaseEventKind,
    Channel,
    Direction,
    Grant,
    Promise,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.plan._parts import Action, ActionKind
from cxrecovery.transitions import (
    make_promise,
    record_event,
    record_grant,
    record_touchpoint,
)

__all__ = ["record"]

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
        event = _event_of(action, by, at)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None
    return record_event(case, event)


def _event_of(action: Action, by: str, at: datetime) -> CaseEvent:
    """The event saying that ``action`` (one that is not a grant, promise or message) was
    done."""
    kind = action.kind
    if kind is ActionKind.ESCALATE:
        return CaseEvent(
            CaseEventKind.ESCALATED, at, by=by, level=action.level or 1, role=_slug(action.owner)
        )
    # What the event is about: whom a recognition names, which follow-up (its delay
    # after the fix), which remedy.
    subject = (
        action.summary
        if kind is ActionKind.NEEDS_JUDGEMENT
        else action.details.get(_SUBJECTS.get(kind, ""))
    )
    done = _DONE.get(kind)
    if done is None:  # pragma: no cover - every kind has its record
        raise TransitionError.at("action.kind", f"cannot record {kind.value}")
    return CaseEvent(done, at, by=by, subject=None if subject is None else str(subject))


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
