"""What happens on a case: touchpoints, the failure, promises, pauses, grants and the
customer's prior cases. Each checks itself; :class:`~cxrecovery.model.Case` checks how
they fit together."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from cxrecovery import _validation as v
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.model._kinds import (
    Channel,
    CompensationForm,
    Direction,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    Severity,
    TouchpointKind,
)
from cxrecovery.model._values import SurveyAnswer
from cxrecovery.money import Money

__all__ = ["Failure", "Grant", "Pause", "PriorCase", "Promise", "Touchpoint"]

# Looked up once: the checks every instance is made through compare with them.
_SURVEY_ANSWER = TouchpointKind.SURVEY_ANSWER
_PENDING = PromiseStatus.PENDING


def _negative(attribute: attrs.Attribute[Any], value: object) -> InvalidValueError:
    return InvalidValueError.at(attribute.name, f"{value} is negative")


# ``None`` or money of zero or more (a value at stake, a charge, a grant's amount).
_MONEY: Final = [
    v.optional_instance_of(Money),
    v.validator_of("non_negative", "{v} is None or {v}.amount >= 0", _negative),
]


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
        if self.kind is _SURVEY_ANSWER and self.survey is None:
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
    value_at_stake: Money | None = attrs.field(default=None, validator=_MONEY, kw_only=True)
    service_usable: bool = attrs.field(validator=v.boolean, kw_only=True)
    description: str = attrs.field(default="", validator=v.text, kw_only=True)
    occurred_at: datetime | None = attrs.field(
        default=None, validator=v.optional_aware, kw_only=True
    )
    wrongly_charged: Money | None = attrs.field(default=None, validator=_MONEY, kw_only=True)


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
        if self.status is _PENDING and self.settled_at is not None:
            problems.append(Problem("settled_at", "a pending promise is not settled yet"))
        if self.status is _PENDING and self.settled_by is not None:
            problems.append(Problem("settled_by", "a pending promise is not settled yet"))
        if self.status is not _PENDING and self.settled_at is None:
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
    amount: Money | None = attrs.field(default=None, validator=_MONEY, kw_only=True)
    granted_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    role: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    approved_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)


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
