"""The case: one failure and its recovery, and the rules its parts must keep together.

The types of its parts live beside it (:mod:`cxrecovery.model._values`,
:mod:`cxrecovery.model._items`) and are re-exported here and from :mod:`cxrecovery.model`.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from typing import Any, ClassVar

import attrs

from cxrecovery import _validation as v
from cxrecovery.businesstime import in_zone
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.model._events import (
    CaseEvent,
    StatusAt,
    events_as_of,
    has_owner_events,
    has_status_events,
    history_problems,
    implied_status_events,
    new_status,
    owner_at,
    status_at,
)
from cxrecovery.model._items import Failure, Grant, Pause, PriorCase, Promise, Touchpoint
from cxrecovery.model._kinds import CaseEventKind, CaseStatus, Channel, PromiseStatus
from cxrecovery.model._rules import before as _before
from cxrecovery.model._rules import pause_problems as _pause_problems
from cxrecovery.model._rules import status_problems as _status_problems
from cxrecovery.model._values import (
    _ATTRIBUTES,
    NO_ATTRIBUTES,
    NOTHING_EXPECTED,
    Agent,
    Attributes,
    Customer,
    ExpectationBaseline,
    Role,
    SurveyAnswer,
)

__all__ = [
    "Agent",
    "Attributes",
    "Case",
    "CaseEvent",
    "Customer",
    "ExpectationBaseline",
    "Failure",
    "Grant",
    "Pause",
    "PriorCase",
    "Promise",
    "Role",
    "SurveyAnswer",
    "Touchpoint",
]


def _tuple_of(item: type) -> dict[str, Any]:
    return {"converter": v.to_tuple, "validator": v.tuple_of(item)}


class _Derived:
    """A slot for what a case works out from its own fields and keeps (the instant
    :meth:`Case.last_event_at` names): not a field, so not in the case's equality,
    hash, repr or pickle, and a case made without ``__init__`` (a copy as of a time,
    one unpickled) works it out again on first use."""

    __slots__ = ("_last_event",)
    # Slots that are no field, for a reader that makes a case field by field and then
    # calls ``__attrs_post_init__`` (which sets them): ``formats._generate``.
    __derived_slots__ = __slots__
    _last_event: datetime | None


# The slot's own setter (a frozen case refuses setattr; object.__setattr__ costs more).
_keep_last_event = _Derived.__dict__["_last_event"].__set__


@attrs.frozen
class Case(_Derived):
    """One failure and its recovery: who, what went wrong, and everything since.

    Touchpoints are kept in time order, ids of promises, grants and touchpoints are
    unique, and nothing happens before the case opened; a case that breaks these rules
    is refused with every problem listed.

    ``remedy_lead_time`` and ``remedy_ready_at`` are what the host knows of the remedy's
    quote (parts on order, a technician's slot): how long until it can be done, or
    when. A promise is never made for earlier.

    .. versionadded:: 0.1.0
    """

    FORMAT: ClassVar[int] = 2

    id: str = attrs.field(validator=v.identifier)
    customer: Customer = attrs.field(validator=v.instance_of(Customer))
    failure: Failure = attrs.field(validator=v.instance_of(Failure))
    opened_at: datetime = attrs.field(validator=v.aware)
    status: CaseStatus = attrs.field(
        default=CaseStatus.OPEN, kw_only=True, **v.enum_field(CaseStatus)
    )
    owner: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    channel: Channel | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Channel)
    )
    touchpoints: tuple[Touchpoint, ...] = attrs.field(
        default=(), kw_only=True, **_tuple_of(Touchpoint)
    )
    promises: tuple[Promise, ...] = attrs.field(default=(), kw_only=True, **_tuple_of(Promise))
    pauses: tuple[Pause, ...] = attrs.field(default=(), kw_only=True, **_tuple_of(Pause))
    grants: tuple[Grant, ...] = attrs.field(default=(), kw_only=True, **_tuple_of(Grant))
    prior_cases: tuple[PriorCase, ...] = attrs.field(
        default=(), kw_only=True, **_tuple_of(PriorCase)
    )
    events: tuple[CaseEvent, ...] = attrs.field(default=(), kw_only=True, **_tuple_of(CaseEvent))
    resolved_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    closed_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    attributes: Attributes = attrs.field(default=NO_ATTRIBUTES, kw_only=True, **_ATTRIBUTES)
    remedy_lead_time: timedelta | None = attrs.field(
        default=None, validator=v.non_negative_duration, kw_only=True
    )
    remedy_ready_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        problems = _case_problems(self)
        if problems:
            raise InvalidValueError(problems)
        _keep_last_event(self, None)  # not worked out yet

    def promise(self, promise_id: str) -> Promise | None:
        """Return the promise with this id, or ``None``."""
        for p in self.promises:
            if p.id == promise_id:
                return p
        return None

    def open_pauses(self) -> tuple[Pause, ...]:
        """The pauses still going on."""
        return tuple(p for p in self.pauses if p.ended_at is None)

    def last_event_at(self) -> datetime:
        """The latest instant the case records anything happening (a sensible "now").

        .. versionadded:: 0.1.0
        """
        # Worked out once per case (it is immutable): a replay takes the same case as
        # of each instant it walks, and every ``as_of`` asks.
        try:
            found = self._last_event
        except AttributeError:  # made without __init__ (as of a time, unpickled)
            found = None
        if found is not None:
            return found
        # max() of every time, in this order, as max() compares (``time > latest``); in
        # a fold (a zone with DST, compared by wall clock) not always the last of a list
        # in time order. (A list is looked at first: most cases have none of most.)
        found = self.opened_at
        for tp in self.touchpoints:
            when = tp.at
            if when > found:
                found = when
        if self.promises:
            for promise in self.promises:
                when = promise.made_at
                if when > found:
                    found = when
                maybe = promise.settled_at
                if maybe is not None and maybe > found:
                    found = maybe
        if self.grants:
            for grant in self.grants:
                when = grant.at
                if when > found:
                    found = when
        if self.pauses:
            for pause in self.pauses:
                when = pause.ended_at or pause.started_at
                if when > found:
                    found = when
        maybe = self.resolved_at
        if maybe is not None and maybe > found:
            found = maybe
        maybe = self.closed_at
        if maybe is not None and maybe > found:
            found = maybe
        if self.events:
            for event in self.events:
                when = event.at
                if when > found:
                    found = when
                maybe = event.acknowledged_at
                if maybe is not None and maybe > found:
                    found = maybe
        _keep_last_event(self, found)
        return found

    def local_time(self, when: datetime) -> datetime:
        """``when`` on the case's clock: in the customer's time zone when the case gives
        one, else at the offset the case opened with. A plan's text (and the command
        line) shows its times so, never mixing zones.

        Raises:
            InvalidValueError: ``when`` is not aware, or is outside years 1-9999 there.

        .. versionadded:: 0.1.0
        """
        when = v.aware_arg(when, "when")
        zone = self.customer.time_zone
        try:
            return in_zone(when, zone) if zone else when.astimezone(self.opened_at.tzinfo)
        except OverflowError:
            what = f"{when.isoformat()} cannot be shown on the case's clock (years 1-9999)"
            raise InvalidValueError.at("when", what) from None

    def as_of(self, at: datetime) -> Case:
        """The case as it was known at ``at``: nothing that happened later is in it.

        Touchpoints, promises, grants, pauses and events after ``at`` are left out; a
        promise settled later is pending, a pause ended later goes on, an escalation
        acknowledged later is not acknowledged yet; ``status``, ``owner``,
        ``resolved_at`` and ``closed_at`` are what the history made them by ``at``; a
        customer expectation raised later is not known yet (the default one is used).
        Prior cases are kept as they are: they summarise what was known when this case
        opened. Returns the case itself when nothing in it is later than ``at``.

        Raises:
            InvalidValueError: ``at`` is naive, not a datetime, or before the case
                opened.

        .. versionadded:: 0.2.0
        """
        return self._as_of_aware(v.aware_arg(at, "at"))

    def _as_of_aware(self, at: datetime) -> Case:
        """:meth:`as_of` at an instant already known to be an aware datetime (the engine
        checks its argument first)."""
        if at < self.opened_at:
            raise InvalidValueError.at(
                "at",
                f"{at.isoformat()} is before case {self.id!r} opened at "
                f"{self.opened_at.isoformat()}",
            )
        if self.last_event_at() <= at and not _expected_later(self, at):
            return self
        return _as_of(self, at)

    def history(self) -> tuple[CaseEvent, ...]:
        """The case's events with the history its plain fields imply written out.

        Without status events, the case was resolved at ``resolved_at`` and closed at
        ``closed_at``; without ``assigned`` events, ``owner`` owned it from its
        opening. Those implied events (with no ``by``) join the recorded ones, in time
        order.

        .. versionadded:: 0.2.0
        """
        implied: list[CaseEvent] = []
        if not has_status_events(self.events):
            now = StatusAt(self.status, self.resolved_at, self.closed_at)
            implied.extend(implied_status_events(now))
        if self.owner is not None and not has_owner_events(self.events):
            implied.append(CaseEvent(CaseEventKind.ASSIGNED, self.opened_at, owner=self.owner))
        if not implied:
            return self.events
        events = list(self.events)
        for event in sorted(implied, key=lambda e: e.at):
            where = bisect.bisect_right([e.at for e in events], event.at)
            events.insert(where, event)
        return tuple(events)

    @property
    def owner_role(self) -> str | None:
        """The owner's role, as the last ``assigned`` event names it (``None`` if unknown).

        .. versionadded:: 0.2.0
        """
        for event in reversed(self.events):
            if event.kind is CaseEventKind.ASSIGNED:
                return event.role if event.owner == self.owner else None
        return None

    def escalations(self) -> tuple[CaseEvent, ...]:
        """The escalations taken, in time order.

        .. versionadded:: 0.2.0
        """
        return tuple(e for e in self.events if e.kind is CaseEventKind.ESCALATED)

    def escalation_taken(self) -> int:
        """The highest escalation level taken on this case (0 if none).

        .. versionadded:: 0.2.0
        """
        return max((e.level or 0 for e in self.escalations()), default=0)

    def done(self, kind: CaseEventKind | str) -> tuple[CaseEvent, ...]:
        """The events of one kind (``apologized``, ``remedied``…), in time order.

        .. versionadded:: 0.2.0
        """
        return tuple(e for e in self.events if e.kind == kind)

    @property
    def is_closed(self) -> bool:
        """Whether the case is closed."""
        return self.status is CaseStatus.CLOSED


def _case_problems(case: Case) -> list[Problem]:
    """Every rule ``case`` breaks, each with its path, in document order (none: valid).

    Every case is made through this, so it is one pass over each list that words a
    message only for what is wrong.
    """
    problems: list[Problem] = []
    opened = case.opened_at
    previous = opened
    for i, tp in enumerate(case.touchpoints):
        at = tp.at
        if at < previous or at < opened:  # (the first one's previous is the opening)
            if at < opened:
                problems.append(Problem(f"touchpoints[{i}].at", _before("touchpoint", at, opened)))
            if i and at < previous:
                problems.append(
                    Problem(
                        f"touchpoints[{i}].at",
                        f"{at.isoformat()} is earlier than touchpoints[{i - 1}]; list "
                        "touchpoints in time order",
                    )
                )
        previous = at
    if len(case.touchpoints) > 1:
        _duplicates(problems, "touchpoints", case.touchpoints)
    # (An empty list, the usual case for most, is passed over without a loop.)
    if case.promises:
        for i, promise in enumerate(case.promises):
            if promise.made_at < opened:
                problems.append(
                    Problem(f"promises[{i}].made_at", _before("promise", promise.made_at, opened))
                )
        if len(case.promises) > 1:
            _duplicates(problems, "promises", case.promises)
    if case.grants:
        for i, grant in enumerate(case.grants):
            if grant.at < opened:
                problems.append(Problem(f"grants[{i}].at", _before("grant", grant.at, opened)))
        if len(case.grants) > 1:
            _duplicates(problems, "grants", case.grants)
    if case.pauses:
        _pause_problems(case.pauses, case.opened_at, problems)
    if case.prior_cases:
        for i, prior in enumerate(case.prior_cases):
            if prior.opened_at > opened:
                problems.append(
                    Problem(
                        f"prior_cases[{i}].opened_at",
                        f"{prior.opened_at.isoformat()} is after this case opened",
                    )
                )
    _status_problems(
        case.status, case.opened_at, case.resolved_at, case.closed_at, case.pauses, problems
    )
    if case.events:
        now = new_status((case.status, case.resolved_at, case.closed_at))
        problems.extend(history_problems(case.events, opened, now, case.owner))
    return problems


def _duplicates(problems: list[Problem], name: str, items: tuple[Any, ...]) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        ident = item.id
        if ident is None:
            continue
        if ident in seen:
            problems.append(Problem(f"{name}[{i}].id", f"{ident!r} is used twice"))
        seen.add(ident)


def _expected_later(case: Case, at: datetime) -> bool:
    """Whether the customer's expectation was raised after ``at``."""
    set_at = case.customer.expectation.set_at
    return set_at is not None and set_at > at


def _as_of(case: Case, at: datetime) -> Case:
    """:meth:`Case.as_of` once it is known that something is later than ``at``.

    The copy is made without ``Case.__init__``: its fields are the case's own, or parts
    of them (a subsequence of a tuple, an item made again through its own checks, a
    status and owner the events held), so no field's validator or converter could refuse
    them or change them. The rules among the fields are checked again
    (:func:`_case_problems`): a copy restricted in time can break one the case kept (a
    pause that ended after the case closed is open in the closed case as of before it
    ended). Property tests (``tests/test_model_as_of.py``) check it against the checked
    path, every object made again through its ``__init__``.
    """
    events = case.events
    status, resolved_at, closed_at = status_at(
        events, new_status((case.status, case.resolved_at, case.closed_at)), at
    )
    if case.promises:
        promises = []
        for promise in case.promises:
            if promise.made_at > at:
                continue
            if promise.settled_at is not None and promise.settled_at > at:
                promise = _pending(promise)
            promises.append(promise)
    if case.pauses:
        pauses = []
        for pause in case.pauses:
            if pause.started_at > at:
                continue
            if pause.ended_at is not None and pause.ended_at > at:
                pause = _going_on(pause)
            pauses.append(pause)
    customer = case.customer
    made = _restricted(  # every field, in order: those as_of changes as they are at ``at``
        case.id,
        attrs.evolve(customer, expectation=NOTHING_EXPECTED)
        if _expected_later(case, at)
        else customer,
        case.failure,
        case.opened_at,
        status,
        # Without events, the owner is the flat field's and there is nothing to cut.
        owner_at(events, case.owner, at) if events else case.owner,
        case.channel,
        tuple([tp for tp in case.touchpoints if tp.at <= at]),
        tuple(promises) if case.promises else (),
        tuple(pauses) if case.pauses else (),
        tuple([g for g in case.grants if g.at <= at]) if case.grants else (),
        case.prior_cases,
        events_as_of(events, at) if events else events,
        resolved_at,
        closed_at,
        case.attributes,
        case.remedy_lead_time,
        case.remedy_ready_at,
    )
    problems = _case_problems(made)
    if problems:
        raise InvalidValueError(problems)
    return made


# ``Case(...)``, ``Promise(...)`` and ``Pause(...)`` without their ``__init__``: see
# ``_as_of``, ``_pending`` and ``_going_on``.
_restricted = v.settable_maker(Case, "restricted in time")
_promise_made = v.settable_maker(Promise, "made pending")
_pause_made = v.settable_maker(Pause, "made open")


def _pending(promise: Promise) -> Promise:
    """``attrs.evolve(promise, status=PENDING, settled_at=None, settled_by=None)``
    without the checks, which it passes: a pending promise needs no settlement, and
    the other fields are the valid promise's (a property test compares the two)."""
    return _promise_made(  # every field, in order
        promise.id,
        promise.what,
        promise.made_at,
        promise.due,
        promise.made_by,
        promise.channel,
        promise.kind,
        promise.implicit,
        PromiseStatus.PENDING,
        None,
        None,
    )


def _going_on(pause: Pause) -> Pause:
    """``attrs.evolve(pause, ended_at=None)`` without the check, which a pause with no
    end passes (a property test compares the two)."""
    return _pause_made(pause.reason, pause.started_at, None, pause.note)  # every field, in order
