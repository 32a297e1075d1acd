"""A case's history: events with their instant and who, and the state they add up to.

A case keeps its state *now* in plain fields (``status``, ``owner``, ``resolved_at``,
``closed_at``) and *how it got there* in ``events``. The functions here replay the
events up to an instant: :meth:`Case.as_of <cxrecovery.Case.as_of>` and the case's own
checks use them. A case without status events (a format 1 document, or a case built
with ``status=`` alone) has an implied history: resolved at ``resolved_at``, closed at
``closed_at``; one without ``assigned`` events is owned by ``owner`` from its opening.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Final, NamedTuple

import attrs

from cxrecovery import _validation as v
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.model._kinds import CaseEventKind, CaseStatus

__all__ = ["CaseEvent", "StatusAt"]

_RESOLVED = CaseEventKind.RESOLVED
_REOPENED = CaseEventKind.REOPENED
_CLOSED = CaseEventKind.CLOSED
_ASSIGNED = CaseEventKind.ASSIGNED
_ESCALATED = CaseEventKind.ESCALATED
_STATUS_KINDS = frozenset({_RESOLVED, _REOPENED, _CLOSED})


def _level(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a level (1 or more)")


@attrs.frozen
class CaseEvent:
    """One change in a case's history: what, when and who.

    ``kind`` says what happened (:class:`~cxrecovery.model.CaseEventKind`); ``at`` when;
    ``by`` who made the change. The other fields belong to some kinds only:

    - ``assigned``: ``owner`` (required), the agent who owns the case from ``at``, and
      ``role``, the owner's role in the policy.
    - ``escalated``: ``level`` (required), the level taken; ``role``, the role it went
      to; ``acknowledged_by`` and ``acknowledged_at``, who took it up there and when.
    - ``recognised``: ``subject`` (required), the member of staff recognised.
    - any kind: ``subject`` and ``note``, free text.

    .. versionadded:: 0.2.0
    """

    kind: CaseEventKind = attrs.field(**v.enum_field(CaseEventKind))
    at: datetime = attrs.field(validator=v.aware)
    by: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    owner: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    role: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    level: int | None = attrs.field(default=None, validator=_level, kw_only=True)
    acknowledged_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    acknowledged_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    subject: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    def __attrs_post_init__(self) -> None:
        problems = list(_event_problems(self))
        if problems:
            raise InvalidValueError(problems)

    def is_acknowledged(self, at: datetime) -> bool:
        """Whether the escalation was taken up by someone at or before ``at``."""
        return self.acknowledged_at is not None and self.acknowledged_at <= at


def _event_problems(event: CaseEvent) -> Iterator[Problem]:
    kind = event.kind
    if kind is _ASSIGNED and event.owner is None:
        yield Problem("owner", "an assigned event names the new owner")
    if kind is not _ASSIGNED and event.owner is not None:
        yield Problem("owner", f"only an assigned event has an owner, not {kind.value}")
    if kind is _ESCALATED:
        if event.level is None:
            yield Problem("level", "an escalated event names the level taken")
    else:
        if event.level is not None:
            yield Problem("level", f"only an escalated event has a level, not {kind.value}")
        for name in ("acknowledged_by", "acknowledged_at"):
            if getattr(event, name) is not None:
                yield Problem(name, f"only an escalated event is acknowledged, not {kind.value}")
        if event.role is not None and kind is not _ASSIGNED:
            yield Problem(
                "role", f"only assigned and escalated events have a role, not {kind.value}"
            )
    if kind is CaseEventKind.RECOGNISED and event.subject is None:
        yield Problem("subject", "a recognised event names who was recognised")
    if event.acknowledged_at is not None:
        if event.acknowledged_by is None:
            yield Problem("acknowledged_by", "say who acknowledged it")
        if event.acknowledged_at < event.at:
            yield Problem(
                "acknowledged_at",
                f"{event.acknowledged_at.isoformat()} is before the escalation at "
                f"{event.at.isoformat()}",
            )


class StatusAt(NamedTuple):
    """A case's status at an instant, with the times it was resolved and closed."""

    status: CaseStatus
    resolved_at: datetime | None
    closed_at: datetime | None


# ``StatusAt(status, resolved_at, closed_at)`` of the tuple of its three fields, without
# the generated constructor (a call by keyword or position in Python: several times the
# cost).
new_status: Final = partial(tuple.__new__, StatusAt)
# The statuses, looked up once (an enum class's attribute costs a lookup through its
# metaclass).
_IS_OPEN, _IS_RESOLVED, _IS_CLOSED = CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED
_OPEN_STATE = StatusAt(CaseStatus.OPEN, None, None)


def has_status_events(events: Sequence[CaseEvent]) -> bool:
    """Whether ``events`` record the status history (else the flat fields imply it)."""
    return any(e.kind in _STATUS_KINDS for e in events)


def has_owner_events(events: Sequence[CaseEvent]) -> bool:
    """Whether ``events`` record who owned the case when."""
    return any(e.kind is _ASSIGNED for e in events)


def status_at(
    events: Sequence[CaseEvent],
    now: StatusAt,
    at: datetime | None,
) -> StatusAt:
    """The status at ``at`` (``None``: after every event), ``now`` being the flat fields.

    With status events, they are replayed up to ``at``; without, ``now`` implies them:
    resolved at ``resolved_at``, closed at ``closed_at``.
    """
    if events and has_status_events(events):
        state = _OPEN_STATE
        for event in events:
            if at is not None and event.at > at:
                break
            state = _step(state, event) or state
        return state
    status, resolved, closed = now
    if at is None:
        return now
    if status is _IS_CLOSED and closed is not None and closed <= at:
        return new_status(
            (status, resolved if resolved is not None and resolved <= at else None, closed)
        )
    if status is not _IS_OPEN and resolved is not None and resolved <= at:
        return new_status((_IS_RESOLVED, resolved, None))
    return _OPEN_STATE


def _step(state: StatusAt, event: CaseEvent) -> StatusAt | None:
    """The state after a status event, or ``None`` if the event is not a move from it."""
    kind = event.kind
    if kind is _RESOLVED:
        return (
            StatusAt(CaseStatus.RESOLVED, event.at, None)
            if state.status is CaseStatus.OPEN
            else None
        )
    if kind is _CLOSED:
        return (
            StatusAt(CaseStatus.CLOSED, state.resolved_at, event.at)
            if state.status is not CaseStatus.CLOSED
            else None
        )
    if kind is _REOPENED:
        return _OPEN_STATE if state.status is not CaseStatus.OPEN else None
    return state


def owner_at(events: Sequence[CaseEvent], owner: str | None, at: datetime | None) -> str | None:
    """Who owned the case at ``at``: the last ``assigned`` event's owner by then, or
    ``owner`` (the flat field) throughout when no event says."""
    if not has_owner_events(events):
        return owner
    found = None
    for event in events:
        if at is not None and event.at > at:
            break
        if event.kind is _ASSIGNED:
            found = event.owner
    return found


def implied_status_events(now: StatusAt) -> tuple[CaseEvent, ...]:
    """The status events a case without them implies (resolved, then closed)."""
    status, resolved, closed = now
    found = []
    if status is not CaseStatus.OPEN and resolved is not None:
        found.append(CaseEvent(_RESOLVED, resolved))
    if status is CaseStatus.CLOSED and closed is not None:
        found.append(CaseEvent(_CLOSED, closed))
    found.sort(key=lambda e: e.at)
    return tuple(found)


def events_as_of(events: Sequence[CaseEvent], at: datetime) -> tuple[CaseEvent, ...]:
    """The events known at ``at``: those up to it, an acknowledgement after it unknown."""
    kept = []
    for event in events:
        if event.at > at:
            break
        if event.acknowledged_at is not None and event.acknowledged_at > at:
            event = _unacknowledged(event)
        kept.append(event)
    return tuple(kept)


# ``CaseEvent(...)`` without its ``__init__``: for ``_unacknowledged`` alone.
_event_made = v.settable_maker(CaseEvent, "made unacknowledged")


def _unacknowledged(event: CaseEvent) -> CaseEvent:
    """``attrs.evolve(event, acknowledged_by=None, acknowledged_at=None)`` without the
    checks, which it passes: the fields it clears are those only an acknowledgement
    needs, and the others are the valid event's (a property test compares the two)."""
    return _event_made(
        kind=event.kind,
        at=event.at,
        by=event.by,
        owner=event.owner,
        role=event.role,
        level=event.level,
        acknowledged_by=None,
        acknowledged_at=None,
        subject=event.subject,
        note=event.note,
    )


def history_problems(
    events: Sequence[CaseEvent],
    opened: datetime,
    now: StatusAt,
    owner: str | None,
) -> Iterator[Problem]:
    """Every way ``events`` break the rules: out of order, before the case opened, a
    status move that is not one, flat fields that disagree with the events."""
    previous: datetime | None = None
    state = _OPEN_STATE
    status_events = has_status_events(events)
    last_owner: tuple[int, str | None] | None = None
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if event.at < opened:
            yield Problem(
                f"{where}.at",
                f"event {event.at.isoformat()} is before the case opened at {opened.isoformat()}",
            )
        if previous is not None and event.at < previous:
            yield Problem(
                f"{where}.at",
                f"{event.at.isoformat()} is earlier than events[{i - 1}]; list events in "
                "time order",
            )
        previous = event.at if previous is None or event.at > previous else previous
        if event.kind in _STATUS_KINDS:
            moved = _step(state, event)
            if moved is None:
                yield Problem(
                    f"{where}.kind",
                    f"{event.kind.value} at {event.at.isoformat()}, but the case is "
                    f"{state.status.value} then",
                )
            else:
                state = moved
        elif event.kind is _ASSIGNED:
            last_owner = (i, event.owner)
    if status_events and state != now:
        shown = state.status.value
        if state.status != now.status:
            yield Problem("status", f"{now.status.value}, but the events leave the case {shown}")
        for name, mine, theirs in (
            ("resolved_at", now.resolved_at, state.resolved_at),
            ("closed_at", now.closed_at, state.closed_at),
        ):
            if mine != theirs:
                told = "none" if theirs is None else theirs.isoformat()
                yield Problem(name, f"the events say {told}")
    if last_owner is not None and last_owner[1] != owner:
        j, named = last_owner
        yield Problem(
            "owner",
            f"{owner!r}, but the last assigned event (events[{j}]) makes {named!r} the owner",
        )
