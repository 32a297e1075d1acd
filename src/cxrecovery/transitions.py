"""Pure changes to a case: each takes a case and returns a new one, or refuses.

Nothing here mutates its argument. An impossible move (settling a promise twice, a
touchpoint before the case opened, anything but a survey answer on a closed case) raises
:class:`~cxrecovery.errors.TransitionError` saying why, and the case is unchanged.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Any

import attrs

from cxrecovery._validation import aware_arg
from cxrecovery.errors import InvalidValueError, TransitionError
from cxrecovery.model import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Grant,
    Pause,
    Promise,
    PromiseStatus,
    Touchpoint,
    TouchpointKind,
)

__all__ = [
    "assign",
    "close",
    "make_promise",
    "pause",
    "record_event",
    "record_grant",
    "record_touchpoint",
    "reopen",
    "resolve",
    "resume",
    "settle_promise",
]


def _aware(at: object, name: str = "at") -> datetime:
    return aware_arg(at, name, TransitionError)


def _not_before_open(case: Case, at: datetime, what: str) -> None:
    if at < case.opened_at:
        raise TransitionError.at(
            "at",
            f"{what} at {at.isoformat()} is before case {case.id!r} opened at "
            f"{case.opened_at.isoformat()}",
        )


def _not_closed(case: Case, what: str) -> None:
    if case.status is CaseStatus.CLOSED:
        raise TransitionError.at("status", f"case {case.id!r} is closed; cannot {what}")


def _evolve(case: Case, **changes: Any) -> Case:
    try:
        return attrs.evolve(case, **changes)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None


def record_touchpoint(case: Case, touchpoint: Touchpoint) -> Case:
    """Add an interaction, kept in time order (a late-recorded one goes in its place).

    A closed case still takes survey answers and feedback (they often come after the
    close); anything else on a closed case is refused.

    .. versionadded:: 0.1.0
    """
    if not isinstance(touchpoint, Touchpoint):
        raise TransitionError.at("touchpoint", f"{touchpoint!r} is not a Touchpoint")
    if touchpoint.kind not in (TouchpointKind.SURVEY_ANSWER, TouchpointKind.FEEDBACK):
        _not_closed(case, f"record a {touchpoint.kind} touchpoint")
    _not_before_open(case, touchpoint.at, "the touchpoint")
    if touchpoint.id is not None and any(tp.id == touchpoint.id for tp in case.touchpoints):
        raise TransitionError.at("touchpoint.id", f"{touchpoint.id!r} is already recorded")
    where = bisect.bisect_right([tp.at for tp in case.touchpoints], touchpoint.at)
    touchpoints = (*case.touchpoints[:where], touchpoint, *case.touchpoints[where:])
    return _evolve(case, touchpoints=touchpoints)


def make_promise(case: Case, promise: Promise) -> Case:
    """Add a promise made to the customer.

    .. versionadded:: 0.1.0
    """
    if not isinstance(promise, Promise):
        raise TransitionError.at("promise", f"{promise!r} is not a Promise")
    _not_closed(case, "make a promise")
    _not_before_open(case, promise.made_at, "the promise")
    if case.promise(promise.id) is not None:
        raise TransitionError.at("promise.id", f"{promise.id!r} is already a promise here")
    return _evolve(case, promises=(*case.promises, promise))


def settle_promise(
    case: Case,
    promise_id: str,
    status: PromiseStatus | str,
    at: datetime,
    *,
    by: str | None = None,
) -> Case:
    """Mark a pending promise kept, broken or withdrawn at ``at`` (by ``by``).

    Raises:
        TransitionError: no such promise, it is already settled, ``status`` is
            ``pending``, or ``at`` is before the promise was made.

    .. versionadded:: 0.1.0
    """
    _aware(at)
    promise = case.promise(promise_id)
    if promise is None:
        known = ", ".join(repr(p.id) for p in case.promises) or "none"
        raise TransitionError.at(
            "promise_id", f"{promise_id!r} is not a promise of this case (known: {known})"
        )
    try:
        new_status = PromiseStatus(status)
    except ValueError:
        names = ", ".join(s.value for s in PromiseStatus if s is not PromiseStatus.PENDING)
        raise TransitionError.at("status", f"{status!r} is not one of {names}") from None
    if new_status is PromiseStatus.PENDING:
        raise TransitionError.at("status", "settle a promise as kept, broken or withdrawn")
    if not promise.is_pending:
        assert promise.settled_at is not None
        raise TransitionError.at(
            "promise_id",
            f"promise {promise_id!r} was already settled as {promise.status} at "
            f"{promise.settled_at.isoformat()}",
        )
    if at < promise.made_at:
        raise TransitionError.at(
            "at", f"{at.isoformat()} is before promise {promise_id!r} was made"
        )
    try:
        settled = attrs.evolve(promise, status=new_status, settled_at=at, settled_by=by)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None
    promises = tuple(settled if p.id == promise_id else p for p in case.promises)
    return _evolve(case, promises=promises)


def pause(case: Case, reason: str, at: datetime, *, note: str | None = None) -> Case:
    """Start a pause for ``reason`` (``waiting_on_customer``…) at ``at``.

    .. versionadded:: 0.1.0
    """
    _aware(at)
    _not_closed(case, "pause it")
    _not_before_open(case, at, "the pause")
    for existing in case.pauses:
        if existing.reason != reason:
            continue
        if existing.ended_at is None:
            raise TransitionError.at(
                "reason",
                f"case {case.id!r} is already paused for {reason!r} since "
                f"{existing.started_at.isoformat()}",
            )
        if at < existing.ended_at:
            raise TransitionError.at(
                "at",
                f"{at.isoformat()} is inside an earlier pause for {reason!r}, which ended "
                f"at {existing.ended_at.isoformat()}",
            )
    try:
        new = Pause(reason, at, note=note)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None
    return _evolve(case, pauses=(*case.pauses, new))


def resume(case: Case, reason: str, at: datetime) -> Case:
    """End the open pause for ``reason`` at ``at``.

    .. versionadded:: 0.1.0
    """
    _aware(at)
    for i, existing in enumerate(case.pauses):
        if existing.reason == reason and existing.ended_at is None:
            if at < existing.started_at:
                raise TransitionError.at(
                    "at",
                    f"{at.isoformat()} is before the pause for {reason!r} started at "
                    f"{existing.started_at.isoformat()}",
                )
            ended = attrs.evolve(existing, ended_at=at)
            return _evolve(case, pauses=(*case.pauses[:i], ended, *case.pauses[i + 1 :]))
    open_reasons = ", ".join(repr(p.reason) for p in case.open_pauses()) or "none"
    raise TransitionError.at(
        "reason", f"case {case.id!r} is not paused for {reason!r} (open pauses: {open_reasons})"
    )


def record_grant(case: Case, grant: Grant) -> Case:
    """Record a recovery action given on this case (a credit, a replacement…).

    .. versionadded:: 0.1.0
    """
    if not isinstance(grant, Grant):
        raise TransitionError.at("grant", f"{grant!r} is not a Grant")
    _not_closed(case, "record a grant")
    _not_before_open(case, grant.at, "the grant")
    if any(g.id == grant.id for g in case.grants):
        raise TransitionError.at("grant.id", f"{grant.id!r} is already recorded")
    return _evolve(case, grants=(*case.grants, grant))


def _with_event(case: Case, event: CaseEvent, **changes: Any) -> Case:
    """``case`` with ``event`` in its place in time (after the events of its instant);
    before a status or owner event, the history the plain fields imply is written out
    (:meth:`Case.history`), so that the plain fields and the events keep agreeing."""
    events = list(case.events)
    if event.kind.changes_status or event.kind is CaseEventKind.ASSIGNED:
        events = list(case.history())
    events = _merged(events, (event,))
    return _evolve(case, events=tuple(events), **changes)


def _merged(events: list[CaseEvent], new: tuple[CaseEvent, ...]) -> list[CaseEvent]:
    for event in new:
        where = bisect.bisect_right([e.at for e in events], event.at)
        events.insert(where, event)
    return events


# What a closed case still takes: a reopening, a follow-up, a recognition.
_AFTER_CLOSE = frozenset(
    {CaseEventKind.REOPENED, CaseEventKind.FOLLOWED_UP, CaseEventKind.RECOGNISED}
)


def record_event(case: Case, event: CaseEvent) -> Case:
    """Add an event to the case's history, in its place in time.

    A closed case takes only a reopening, a follow-up and a recognition. A status or
    ``assigned`` event changes the case's plain fields to match: use
    :func:`resolve`, :func:`reopen`, :func:`close` and :func:`assign` for those, which
    check the move first.

    .. versionadded:: 0.2.0
    """
    if not isinstance(event, CaseEvent):
        raise TransitionError.at("event", f"{event!r} is not a CaseEvent")
    if event.kind not in _AFTER_CLOSE:
        _not_closed(case, f"record a {event.kind.value} event")
    _not_before_open(case, event.at, f"the {event.kind.value} event")
    if event.kind.changes_status or event.kind is CaseEventKind.ASSIGNED:
        changes: dict[str, Any] = {}
        if event.kind is CaseEventKind.ASSIGNED:
            changes["owner"] = event.owner
        else:
            changes.update(_status_after(case, event))
        return _with_event(case, event, **changes)
    return _with_event(case, event)


def _status_after(case: Case, event: CaseEvent) -> dict[str, Any]:
    if event.kind is CaseEventKind.RESOLVED:
        return {"status": CaseStatus.RESOLVED, "resolved_at": event.at, "closed_at": None}
    if event.kind is CaseEventKind.CLOSED:
        return {"status": CaseStatus.CLOSED, "closed_at": event.at}
    return {"status": CaseStatus.OPEN, "resolved_at": None, "closed_at": None}


def assign(
    case: Case,
    owner: str,
    *,
    at: datetime | None = None,
    by: str | None = None,
    role: str | None = None,
) -> Case:
    """Make ``owner`` (an agent id) the one person accountable for the case.

    With ``at``, the change goes into the case's history as an ``assigned`` event
    (``by`` who, ``role`` the owner's role in the policy): a later decision knows who
    owned the case when, and that the owner holds ``role``.

    .. versionchanged:: 0.2.0 ``at``, ``by`` and ``role``.
    """
    _not_closed(case, "assign it")
    if at is None:
        if by is not None or role is not None:
            raise TransitionError.at("at", "say when: by and role go into the history")
        if any(e.kind is CaseEventKind.ASSIGNED for e in case.events):
            raise TransitionError.at(
                "at", f"case {case.id!r} records who owned it when; say when {owner!r} took it"
            )
        return _evolve(case, owner=owner)
    _aware(at)
    _not_before_open(case, at, "assigning")
    try:
        event = CaseEvent(CaseEventKind.ASSIGNED, at, by=by, owner=owner, role=role)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None
    return _with_event(case, event, owner=owner)


def _status_event(kind: CaseEventKind, at: datetime, by: str | None) -> CaseEvent:
    try:
        return CaseEvent(kind, at, by=by)
    except InvalidValueError as error:
        raise TransitionError(error.problems) from None


def resolve(case: Case, at: datetime, *, by: str | None = None) -> Case:
    """Mark the case resolved at ``at`` (it stays open to follow-up until closed).

    .. versionchanged:: 0.2.0 ``by``; the change goes into the case's history.
    """
    _aware(at)
    _not_closed(case, "resolve it")
    if case.status is CaseStatus.RESOLVED:
        assert case.resolved_at is not None
        raise TransitionError.at(
            "status", f"case {case.id!r} was already resolved at {case.resolved_at.isoformat()}"
        )
    _not_before_open(case, at, "resolving")
    return _with_event(
        case,
        _status_event(CaseEventKind.RESOLVED, at, by),
        status=CaseStatus.RESOLVED,
        resolved_at=at,
    )


def reopen(case: Case, at: datetime, *, by: str | None = None) -> Case:
    """Open a resolved or closed case again at ``at``.

    .. versionadded:: 0.2.0
    """
    _aware(at)
    if case.status is CaseStatus.OPEN:
        raise TransitionError.at("status", f"case {case.id!r} is open already")
    _not_before_open(case, at, "reopening")
    return _with_event(
        case,
        _status_event(CaseEventKind.REOPENED, at, by),
        status=CaseStatus.OPEN,
        resolved_at=None,
        closed_at=None,
    )


def close(case: Case, at: datetime, *, by: str | None = None) -> Case:
    """Close the case at ``at``; pauses still open end then.

    .. versionchanged:: 0.2.0 ``by``; the change goes into the case's history.
    """
    _aware(at)
    _not_closed(case, "close it again")
    _not_before_open(case, at, "closing")
    for existing in case.open_pauses():
        if at < existing.started_at:
            raise TransitionError.at(
                "at",
                f"{at.isoformat()} is before the open pause for {existing.reason!r} started",
            )
    pauses = tuple(attrs.evolve(p, ended_at=at) if p.ended_at is None else p for p in case.pauses)
    return _with_event(
        case,
        _status_event(CaseEventKind.CLOSED, at, by),
        status=CaseStatus.CLOSED,
        closed_at=at,
        pauses=pauses,
    )
