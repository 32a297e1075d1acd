"""The domain types with fields: customers, touchpoints, failures, promises, cases."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from cxrecovery import _validation as v
from cxrecovery.errors import InvalidValueError, Problem, UnknownTimeZoneError
from cxrecovery.model._events import (
    CaseEvent,
    StatusAt,
    events_as_of,
    has_owner_events,
    has_status_events,
    history_problems,
    implied_status_events,
    owner_at,
    status_at,
)
from cxrecovery.model._kinds import (
    CaseEventKind,
    CaseStatus,
    Channel,
    CompensationForm,
    Direction,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    Severity,
    SurveyMetric,
    TouchpointKind,
)
from cxrecovery.money import Money

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


# --- small values ----------------------------------------------------------------------


def _score(instance: SurveyAnswer, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a whole number")
    if isinstance(instance.metric, SurveyMetric) and value not in instance.metric.scale:
        scale = instance.metric.scale
        raise InvalidValueError.at(
            attribute.name,
            f"{value} is outside the {instance.metric.value} scale {scale.start}–{scale.stop - 1}",
        )


@attrs.frozen
class SurveyAnswer:
    """A customer's answer to one survey question.

    .. versionadded:: 0.1.0
    """

    metric: SurveyMetric = attrs.field(**v.enum_field(SurveyMetric))
    score: int = attrs.field(validator=_score)


_Scalar = str | int | bool | None
_first = itemgetter(0)
_SCALARS = (str, int, bool, type(None))


@attrs.frozen(init=False, repr=False)
class Attributes(Mapping[str, _Scalar]):
    """Free-form attributes a host attaches (``{"store": "Leeds", "vip": true}``).

    Immutable and hashable. Keys are strings; values are strings, whole numbers,
    booleans or null (no floats: use a string for a decimal value).

    .. versionadded:: 0.1.0
    """

    _items: tuple[tuple[str, _Scalar], ...]

    def __init__(self, items: Mapping[str, _Scalar] | None = None) -> None:
        if items is None or (type(items) is dict and not items):
            # No attributes (the common case, and every default): skip the checks.
            self.__attrs_init__(())
            return
        if isinstance(items, Attributes):
            pairs: tuple[tuple[str, _Scalar], ...] = items._items
        elif isinstance(items, Mapping):
            for key, value in items.items():
                if not isinstance(key, str) or not key:
                    raise InvalidValueError.at("attributes", f"key {key!r} is not a name")
                if not isinstance(value, _SCALARS):
                    raise InvalidValueError.at(
                        f"attributes.{key}",
                        f"{value!r} is a {type(value).__name__}; give a string, whole "
                        "number, boolean or null",
                    )
            pairs = tuple(sorted(items.items()))
        else:
            raise InvalidValueError.at("attributes", f"{items!r} is not a mapping")
        self.__attrs_init__(pairs)

    @classmethod
    def _trusted(cls, items: Mapping[str, _Scalar]) -> Attributes:
        """Build from values already known to be scalars (the engine's own facts)."""
        made = object.__new__(cls)
        made.__attrs_init__(tuple(sorted(items.items())))
        return made

    @classmethod
    def _from_sorted(cls, pairs: tuple[tuple[str, _Scalar], ...]) -> Attributes:
        """Build from scalar pairs already sorted by unique key (the engine's hot path).

        Sets the one field directly: what the generated ``__attrs_init__`` does, one
        call fewer (the engine builds a few dozen of these per decision).
        """
        made = object.__new__(cls)
        object.__setattr__(made, "_items", pairs)
        return made

    def __getitem__(self, key: str) -> _Scalar:
        # The pairs are sorted by key: a binary search, so reading every key of a large
        # mapping (``dict(attributes)``, a dump) is n log n, not n squared.
        items = self._items
        if isinstance(key, str):
            i = bisect.bisect_left(items, key, key=_first)
            if i < len(items) and items[i][0] == key:
                return items[i][1]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Attributes({dict(self._items)!r})"


@v.implied_by_document_type
def _to_attributes(value: object) -> object:
    if value is None or isinstance(value, Attributes):
        return Attributes() if value is None else value
    if isinstance(value, Mapping):
        return Attributes(value)
    return value


_ATTRIBUTES: dict[str, Any] = {
    "converter": _to_attributes,
    "validator": v.instance_of(Attributes),
}


def _time_zone(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value:
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZoneError.at(
            attribute.name, f"{value!r} is not an IANA time zone (such as 'Europe/Paris')"
        ) from None


def _ratio(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InvalidValueError.at(
            attribute.name, f"{value!r} is not a non-negative decimal fraction"
        )


def _to_decimal(value: object) -> object:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


v.implied_by_document_type(_to_decimal)  # a statement: mypy's attrs plugin needs the name


@attrs.frozen
class ExpectationBaseline:
    """What this customer now expects when something goes wrong.

    Over-delivery raises it: a customer refunded at once and told to keep the item
    expects at least that next time. ``compensation_ratio`` is the share of the value at
    stake they expect back (``Decimal("1.0")`` = all of it); ``remedy`` is the form they
    expect (``refund_keep_item``).

    .. versionadded:: 0.1.0
    """

    compensation_ratio: Decimal = attrs.field(
        default=Decimal(0), converter=_to_decimal, validator=_ratio, kw_only=True
    )
    remedy: CompensationForm | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(CompensationForm)
    )
    set_at: datetime | None = attrs.field(default=None, validator=v.optional_aware, kw_only=True)
    reason: str = attrs.field(default="", validator=v.text, kw_only=True)


@attrs.frozen
class Customer:
    """The person or business the case is about.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    name: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    segment: str = attrs.field(default="standard", validator=v.slug, kw_only=True)
    lifetime_value: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )
    preferred_channel: Channel | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Channel)
    )
    # The JSON Schema lists the IANA names, as strict as the validator (formats).
    time_zone: str | None = attrs.field(
        default=None, validator=_time_zone, kw_only=True, metadata={"document": "time_zone"}
    )
    expectation: ExpectationBaseline = attrs.field(
        factory=ExpectationBaseline,
        validator=v.instance_of(ExpectationBaseline),
        kw_only=True,
    )
    attributes: Attributes = attrs.field(factory=Attributes, kw_only=True, **_ATTRIBUTES)


@attrs.frozen
class Role:
    """A rung of the empowerment ladder (``rank`` 0 is the front line).

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=v.slug)
    rank: int = attrs.field(validator=v.instance_of(int))
    title: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    @rank.validator
    def _rank(self, attribute: attrs.Attribute[Any], value: int) -> None:
        if isinstance(value, bool) or value < 0:
            raise InvalidValueError.at(attribute.name, f"{value!r} is not a rank (0 or more)")


@attrs.frozen
class Agent:
    """A member of staff acting on a case, holding one role.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    role: str = attrs.field(validator=v.slug)
    name: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    team: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)


@attrs.frozen
class Touchpoint:
    """One interaction on one channel.

    .. versionadded:: 0.1.0
    """

    at: datetime = attrs.field(validator=v.aware)
    channel: Channel = attrs.field(**v.enum_field(Channel))
    kind: TouchpointKind = attrs.field(**v.enum_field(TouchpointKind))
    id: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    direction: Direction = attrs.field(
        default=Direction.INBOUND, kw_only=True, **v.enum_field(Direction)
    )
    agent: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    outcome: Outcome | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Outcome)
    )
    sentiment: Sentiment | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Sentiment)
    )
    wait: timedelta | None = attrs.field(
        default=None, validator=v.non_negative_duration, kw_only=True
    )
    repeated_information: bool = attrs.field(default=False, validator=v.boolean, kw_only=True)
    escalation_requested: bool = attrs.field(default=False, validator=v.boolean, kw_only=True)
    survey: SurveyAnswer | None = attrs.field(
        default=None, validator=v.optional_instance_of(SurveyAnswer), kw_only=True
    )
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.kind is TouchpointKind.SURVEY_ANSWER and self.survey is None:
            raise InvalidValueError.at("survey", "a survey_answer touchpoint needs its answer")


@attrs.frozen
class Failure:
    """What went wrong.

    Args:
        category: the host's name for the kind of failure (``late_delivery``).
        severity: how bad it is.
        fault: whose fault it was.
        value_at_stake: the value of the affected transaction (what compensation is a
            fraction of).
        service_usable: whether the customer can still use what they got ("accepted")
            or not ("rejected").
        wrongly_charged: money the customer paid that they should not have (a fee
            charged in error): owed back, on its own line of the plan, never goodwill.

    .. versionadded:: 0.1.0
    """

    category: str = attrs.field(validator=v.slug)
    severity: Severity = attrs.field(**v.enum_field(Severity))
    fault: Fault = attrs.field(**v.enum_field(Fault))
    value_at_stake: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )
    service_usable: bool = attrs.field(validator=v.boolean, kw_only=True)
    description: str = attrs.field(default="", validator=v.text, kw_only=True)
    occurred_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    wrongly_charged: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )

    @value_at_stake.validator
    def _value(self, attribute: attrs.Attribute[Any], value: Money | None) -> None:
        if value is not None and value.amount < 0:
            raise InvalidValueError.at(attribute.name, f"{value} is negative")

    @wrongly_charged.validator
    def _wrongly_charged(self, attribute: attrs.Attribute[Any], value: Money | None) -> None:
        if value is not None and value.amount < 0:
            raise InvalidValueError.at(attribute.name, f"{value} is negative")


@attrs.frozen
class Promise:
    """A commitment made to the customer, with a due time.

    A pending promise past its due time is *overdue*; it counts as broken in the facts
    even before someone settles it.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    what: str = attrs.field(validator=v.text)
    made_at: datetime = attrs.field(validator=v.aware)
    due: datetime = attrs.field(validator=v.aware)
    made_by: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    channel: Channel | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Channel)
    )
    kind: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    implicit: bool = attrs.field(default=False, validator=v.boolean, kw_only=True)
    status: PromiseStatus = attrs.field(
        default=PromiseStatus.PENDING, kw_only=True, **v.enum_field(PromiseStatus)
    )
    settled_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    settled_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        problems = []
        if self.due < self.made_at:
            problems.append(Problem("due", f"{self.due.isoformat()} is before made_at"))
        if self.status is PromiseStatus.PENDING and self.settled_at is not None:
            problems.append(Problem("settled_at", "a pending promise is not settled yet"))
        if self.status is PromiseStatus.PENDING and self.settled_by is not None:
            problems.append(Problem("settled_by", "a pending promise is not settled yet"))
        if self.status is not PromiseStatus.PENDING and self.settled_at is None:
            problems.append(Problem("settled_at", f"a {self.status} promise needs settled_at"))
        if self.settled_at is not None and self.settled_at < self.made_at:
            problems.append(
                Problem("settled_at", f"{self.settled_at.isoformat()} is before made_at")
            )
        if problems:
            raise InvalidValueError(problems)

    @property
    def is_pending(self) -> bool:
        """Whether the promise is still open."""
        return self.status is PromiseStatus.PENDING

    def is_overdue(self, at: datetime) -> bool:
        """Whether the promise is pending and its due time has passed at ``at``."""
        return self.status is PromiseStatus.PENDING and at > self.due

    def is_broken(self, at: datetime) -> bool:
        """Whether the promise was broken, or is overdue, as seen at ``at``."""
        if self.status is PromiseStatus.BROKEN:
            return self.settled_at is None or self.settled_at <= at
        return self.is_overdue(at)


@attrs.frozen
class Pause:
    """An interval in which some clocks stop (waiting on the customer, a third party…).

    ``ended_at`` is ``None`` while the pause goes on.

    .. versionadded:: 0.1.0
    """

    reason: str = attrs.field(validator=v.slug)
    started_at: datetime = attrs.field(validator=v.aware)
    ended_at: datetime | None = attrs.field(default=None, validator=v.optional_aware, kw_only=True)
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise InvalidValueError.at(
                "ended_at", f"{self.ended_at.isoformat()} is before started_at"
            )

    @property
    def is_open(self) -> bool:
        """Whether the pause is still going on."""
        return self.ended_at is None


@attrs.frozen
class Grant:
    """A recovery action already given on this case (compensation, replacement…).

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    form: CompensationForm = attrs.field(**v.enum_field(CompensationForm))
    at: datetime = attrs.field(validator=v.aware)
    amount: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )
    granted_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    role: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    approved_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    @amount.validator
    def _amount(self, attribute: attrs.Attribute[Any], value: Money | None) -> None:
        if value is not None and value.amount < 0:
            raise InvalidValueError.at(attribute.name, f"{value} is negative")


@attrs.frozen
class PriorCase:
    """A summary of one of this customer's earlier cases.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    opened_at: datetime = attrs.field(validator=v.aware)
    category: str = attrs.field(validator=v.slug)
    severity: Severity = attrs.field(**v.enum_field(Severity))
    closed_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    recovered: bool = attrs.field(default=True, validator=v.boolean, kw_only=True)
    double_deviation: bool = attrs.field(default=False, validator=v.boolean, kw_only=True)
    compensation: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if self.closed_at is not None and self.closed_at < self.opened_at:
            raise InvalidValueError.at(
                "closed_at", f"{self.closed_at.isoformat()} is before opened_at"
            )


def _tuple_of(item: type) -> dict[str, Any]:
    return {"converter": v.to_tuple, "validator": v.tuple_of(item)}


@attrs.frozen
class Case:
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
    attributes: Attributes = attrs.field(factory=Attributes, kw_only=True, **_ATTRIBUTES)
    remedy_lead_time: timedelta | None = attrs.field(
        default=None, validator=v.non_negative_duration, kw_only=True
    )
    remedy_ready_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        if _plainly_valid(self):
            return
        problems = list(_case_problems(self))
        if problems:
            raise InvalidValueError(problems)

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
        times = [self.opened_at]
        times.extend(tp.at for tp in self.touchpoints)
        for promise in self.promises:
            times.append(promise.made_at)
            if promise.settled_at is not None:
                times.append(promise.settled_at)
        times.extend(g.at for g in self.grants)
        times.extend(pause.ended_at or pause.started_at for pause in self.pauses)
        times.extend(t for t in (self.resolved_at, self.closed_at) if t is not None)
        for event in self.events:
            times.append(event.at)
            if event.acknowledged_at is not None:
                times.append(event.acknowledged_at)
        return max(times)

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
        at = v.aware_arg(at, "at")
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


def _before(what: str, when: datetime, opened: datetime) -> str:
    return f"{what} {when.isoformat()} is before the case opened at {opened.isoformat()}"


def _duplicates(name: str, ids: list[str | None]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident is None:
            continue
        if ident in seen:
            yield Problem(f"{name}[{i}].id", f"{ident!r} is used twice")
        seen.add(ident)


def _plainly_valid(case: Case) -> bool:
    """Whether :func:`_case_problems` surely finds nothing (``False`` when unsure).

    The quick test every case is made through (loading a replay's cases is mostly
    this): one pass, no messages. Anything it does not vouch for goes through
    :func:`_case_problems`, which alone says what is wrong; a rule added there needs
    a matching test here.
    """
    if case.events:  # a history: checked in full
        return False
    opened = case.opened_at
    at = opened
    for tp in case.touchpoints:
        if tp.at < at:  # before the case opened, or before the one before
            return False
        at = tp.at
    ends: dict[str, datetime | None] = {}
    for pause in case.pauses:
        if pause.started_at < opened:
            return False
        if pause.reason in ends:  # the same reason's pauses one at a time, in order
            end = ends[pause.reason]
            if end is None or pause.started_at < end:
                return False
        ends[pause.reason] = pause.ended_at
    for promise in case.promises:
        if promise.made_at < opened:
            return False
    for grant in case.grants:
        if grant.at < opened:
            return False
    for prior in case.prior_cases:
        if prior.opened_at > opened:
            return False
    for items in (case.touchpoints, case.promises, case.grants):
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):  # a used-twice id (or more than one None)
            return False
    resolved, closed = case.resolved_at, case.closed_at
    if (resolved is not None and resolved < opened) or (closed is not None and closed < opened):
        return False
    if case.status is CaseStatus.OPEN:
        return resolved is None and closed is None
    if case.status is CaseStatus.RESOLVED:
        return resolved is not None and closed is None
    if case.status is not CaseStatus.CLOSED or closed is None:
        return False
    return all(pause.ended_at is not None for pause in case.pauses)  # no pause is open


def _case_problems(case: Case) -> Iterator[Problem]:
    opened = case.opened_at
    previous: datetime | None = None
    for i, tp in enumerate(case.touchpoints):
        if tp.at < opened:
            yield Problem(f"touchpoints[{i}].at", _before("touchpoint", tp.at, opened))
        if previous is not None and tp.at < previous:
            yield Problem(
                f"touchpoints[{i}].at",
                f"{tp.at.isoformat()} is earlier than touchpoints[{i - 1}]; list "
                "touchpoints in time order",
            )
        previous = tp.at
    yield from _duplicates("touchpoints", [tp.id for tp in case.touchpoints])
    for i, promise in enumerate(case.promises):
        if promise.made_at < opened:
            yield Problem(f"promises[{i}].made_at", _before("promise", promise.made_at, opened))
    yield from _duplicates("promises", [p.id for p in case.promises])
    for i, grant in enumerate(case.grants):
        if grant.at < opened:
            yield Problem(f"grants[{i}].at", _before("grant", grant.at, opened))
    yield from _duplicates("grants", [g.id for g in case.grants])
    yield from _pause_problems(case)
    for i, prior in enumerate(case.prior_cases):
        if prior.opened_at > opened:
            yield Problem(
                f"prior_cases[{i}].opened_at",
                f"{prior.opened_at.isoformat()} is after this case opened",
            )
    yield from _status_problems(case)
    yield from history_problems(
        case.events,
        opened,
        StatusAt(case.status, case.resolved_at, case.closed_at),
        case.owner,
    )


def _expected_later(case: Case, at: datetime) -> bool:
    """Whether the customer's expectation was raised after ``at``."""
    set_at = case.customer.expectation.set_at
    return set_at is not None and set_at > at


def _as_of(case: Case, at: datetime) -> Case:
    """:meth:`Case.as_of` once it is known that something is later than ``at``."""
    touchpoints = tuple(tp for tp in case.touchpoints if tp.at <= at)
    promises = []
    for promise in case.promises:
        if promise.made_at > at:
            continue
        if promise.settled_at is not None and promise.settled_at > at:
            promise = attrs.evolve(
                promise, status=PromiseStatus.PENDING, settled_at=None, settled_by=None
            )
        promises.append(promise)
    pauses = []
    for pause in case.pauses:
        if pause.started_at > at:
            continue
        if pause.ended_at is not None and pause.ended_at > at:
            pause = attrs.evolve(pause, ended_at=None)
        pauses.append(pause)
    grants = tuple(g for g in case.grants if g.at <= at)
    now = StatusAt(case.status, case.resolved_at, case.closed_at)
    status, resolved_at, closed_at = status_at(case.events, now, at)
    customer = case.customer
    if _expected_later(case, at):
        customer = attrs.evolve(customer, expectation=ExpectationBaseline())
    return attrs.evolve(
        case,
        customer=customer,
        status=status,
        owner=owner_at(case.events, case.owner, at),
        touchpoints=touchpoints,
        promises=tuple(promises),
        pauses=tuple(pauses),
        grants=grants,
        events=events_as_of(case.events, at),
        resolved_at=resolved_at,
        closed_at=closed_at,
    )


def _pause_problems(case: Case) -> Iterator[Problem]:
    last_end: dict[str, tuple[int, datetime | None]] = {}
    for i, pause in enumerate(case.pauses):
        if pause.started_at < case.opened_at:
            yield Problem(
                f"pauses[{i}].started_at", _before("pause", pause.started_at, case.opened_at)
            )
        earlier = last_end.get(pause.reason)
        if earlier is not None:
            j, end = earlier
            if end is None or pause.started_at < end:
                yield Problem(
                    f"pauses[{i}].started_at",
                    f"overlaps pauses[{j}] for the same reason {pause.reason!r}; list each "
                    "reason's pauses in time order, one at a time",
                )
        last_end[pause.reason] = (i, pause.ended_at)


def _status_problems(case: Case) -> Iterator[Problem]:
    for name in ("resolved_at", "closed_at"):
        when: datetime | None = getattr(case, name)
        if when is not None and when < case.opened_at:
            yield Problem(name, _before(name.replace("_", " "), when, case.opened_at))
    if case.status is CaseStatus.OPEN and (case.resolved_at or case.closed_at):
        yield Problem("status", "an open case has no resolved_at or closed_at")
    if case.status is CaseStatus.RESOLVED:
        if case.resolved_at is None:
            yield Problem("resolved_at", "a resolved case needs resolved_at")
        if case.closed_at is not None:
            yield Problem("closed_at", "a resolved case is not closed yet")
    if case.status is CaseStatus.CLOSED:
        if case.closed_at is None:
            yield Problem("closed_at", "a closed case needs closed_at")
        for i, pause in enumerate(case.pauses):
            if pause.ended_at is None:
                yield Problem(f"pauses[{i}].ended_at", "a closed case has no open pause")
