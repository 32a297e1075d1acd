"""What a ledger holds: frozen records of grants, promises, approvals, plans and events.

Every record is a validated value; its times are held in UTC (a ledger stores instants,
not the offsets they were written with), its money exact.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from cxrecovery import _validation as v
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import Attributes, CompensationForm, PromiseStatus, Severity
from cxrecovery.money import Money

__all__ = [
    "ApprovalRecord",
    "ApprovalStatus",
    "CaseRecord",
    "EventKind",
    "GrantRecord",
    "LedgerEvent",
    "PlanRecord",
    "PromiseRecord",
]


def _utc(value: object) -> object:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value


_AWARE: dict[str, Any] = {"converter": _utc, "validator": v.aware}
_OPTIONAL_AWARE: dict[str, Any] = {"converter": _utc, "validator": v.optional_aware}


def _amount(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidValueError.at(attribute.name, f"{value!r} is not Money")
    if value.amount < 0:
        raise InvalidValueError.at(attribute.name, f"{value} is negative")


class ApprovalStatus(enum.StrEnum):
    """Where an approval stands: asked, then granted or refused (once); withdrawn while
    unused. Whether it has expired depends on the time asked about
    (:meth:`ApprovalRecord.is_expired`).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``WITHDRAWN``.
    """

    ASKED = "asked"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class EventKind(enum.StrEnum):
    """The kinds of change a ledger's event history records.

    .. versionadded:: 0.1.0
    """

    CASE_OPENED = "case_opened"
    PLAN_DECIDED = "plan_decided"
    GRANT_RECORDED = "grant_recorded"
    PROMISE_MADE = "promise_made"
    PROMISE_SETTLED = "promise_settled"
    APPROVAL_ASKED = "approval_asked"
    APPROVAL_DECIDED = "approval_decided"
    GRANT_VOIDED = "grant_voided"
    APPROVAL_WITHDRAWN = "approval_withdrawn"


@attrs.frozen
class CaseRecord:
    """A case the ledger has seen: whose it is and what failed, for later prior failures.

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=v.identifier)
    customer_id: str = attrs.field(validator=v.identifier)
    opened_at: datetime = attrs.field(**_AWARE)
    category: str = attrs.field(validator=v.slug)
    severity: Severity = attrs.field(**v.enum_field(Severity))


@attrs.frozen
class GrantRecord:
    """Compensation given: recorded once per ``request_id``, never changed afterwards.

    ``approval_id`` names the approval it was granted under; ``None`` when the agent
    granted it on their own authority (only those count against the agent's budget).
    A voided grant keeps its row; the ``voided_*`` fields say who voided it, when and
    why, and it no longer counts against any limit.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``voided_at``, ``voided_by``, ``voided_role``,
       ``void_reason``.
    """

    request_id: str = attrs.field(validator=v.identifier)
    case_id: str = attrs.field(validator=v.identifier)
    customer_id: str = attrs.field(validator=v.identifier)
    agent_id: str = attrs.field(validator=v.identifier)
    role: str = attrs.field(validator=v.slug)
    form: CompensationForm = attrs.field(**v.enum_field(CompensationForm))
    amount: Money = attrs.field(validator=_amount)
    at: datetime = attrs.field(**_AWARE)
    approval_id: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    voided_at: datetime | None = attrs.field(default=None, kw_only=True, **_OPTIONAL_AWARE)
    voided_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    voided_role: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    void_reason: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    @property
    def is_voided(self) -> bool:
        """Whether the grant was voided (it then counts against no limit)."""
        return self.voided_at is not None

    def same_request(self, other: GrantRecord) -> bool:
        """Whether ``other`` asks for the same grant (its time, note and void aside)."""
        return (
            attrs.evolve(
                other,
                at=self.at,
                note=self.note,
                voided_at=self.voided_at,
                voided_by=self.voided_by,
                voided_role=self.voided_role,
                void_reason=self.void_reason,
            )
            == self
        )


@attrs.frozen
class PromiseRecord:
    """A promise made on a case, with how and when it was settled (if it was).

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=v.identifier)
    promise_id: str = attrs.field(validator=v.identifier)
    customer_id: str = attrs.field(validator=v.identifier)
    what: str = attrs.field(validator=v.text)
    made_at: datetime = attrs.field(**_AWARE)
    due: datetime = attrs.field(**_AWARE)
    made_by: str | None = attrs.field(default=None, validator=v.optional_identifier, kw_only=True)
    status: PromiseStatus = attrs.field(
        default=PromiseStatus.PENDING, kw_only=True, **v.enum_field(PromiseStatus)
    )
    settled_at: datetime | None = attrs.field(default=None, kw_only=True, **_OPTIONAL_AWARE)
    settled_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )

    @property
    def is_open(self) -> bool:
        """Whether the promise is still pending."""
        return self.status is PromiseStatus.PENDING

    def is_broken(self, at: datetime) -> bool:
        """Whether the promise was broken by ``at``, or is pending past its due time."""
        if self.status is PromiseStatus.BROKEN:
            return self.settled_at is not None and self.settled_at <= at
        return self.status is PromiseStatus.PENDING and at > self.due


@attrs.frozen
class ApprovalRecord:
    """An approval asked for a grant, and its decision once someone took it.

    ``approver_role`` is the lowest role that could approve when it was asked. After
    ``expires_at`` it can be neither decided nor used; ``withdrawn_*`` say who took it
    back, when and why.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``expires_at`` and ``withdrawn_by``, ``withdrawn_at``,
       ``withdraw_reason``.
    """

    approval_id: str = attrs.field(validator=v.identifier)
    case_id: str = attrs.field(validator=v.identifier)
    customer_id: str = attrs.field(validator=v.identifier)
    asked_by: str = attrs.field(validator=v.identifier)
    asked_role: str = attrs.field(validator=v.slug)
    approver_role: str = attrs.field(validator=v.slug)
    form: CompensationForm = attrs.field(**v.enum_field(CompensationForm))
    amount: Money = attrs.field(validator=_amount)
    asked_at: datetime = attrs.field(**_AWARE)
    reason: str = attrs.field(default="", validator=v.text, kw_only=True)
    status: ApprovalStatus = attrs.field(
        default=ApprovalStatus.ASKED, kw_only=True, **v.enum_field(ApprovalStatus)
    )
    decided_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    decided_role: str | None = attrs.field(default=None, validator=v.optional_slug, kw_only=True)
    decided_at: datetime | None = attrs.field(default=None, kw_only=True, **_OPTIONAL_AWARE)
    note: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    expires_at: datetime | None = attrs.field(default=None, kw_only=True, **_OPTIONAL_AWARE)
    withdrawn_by: str | None = attrs.field(
        default=None, validator=v.optional_identifier, kw_only=True
    )
    withdrawn_at: datetime | None = attrs.field(default=None, kw_only=True, **_OPTIONAL_AWARE)
    withdraw_reason: str | None = attrs.field(
        default=None, validator=v.optional_text, kw_only=True
    )

    def is_expired(self, at: datetime) -> bool:
        """Whether the approval's lifetime had ended by ``at``."""
        return self.expires_at is not None and at > self.expires_at


@attrs.frozen
class PlanRecord:
    """A plan the desk decided, for audit: which policy decided what, for whom, when.

    ``plan_digest`` is the SHA-256 of the plan's canonical JSON.

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=v.identifier)
    decided_at: datetime = attrs.field(**_AWARE)
    agent_id: str | None = attrs.field(validator=v.optional_identifier)
    role: str = attrs.field(validator=v.slug)
    policy_name: str = attrs.field(validator=v.text)
    policy_version: str = attrs.field(validator=v.text)
    policy_fingerprint: str = attrs.field(validator=v.text)
    plan_digest: str = attrs.field(validator=v.text)


@attrs.frozen
class LedgerEvent:
    """One change in the ledger's append-only history.

    ``seq`` orders events as they were committed; ``ref`` is the id of what changed (a
    request id, a promise id, an approval id); ``body`` its fields as plain values.
    ``hash`` links the event to the one before it (see :func:`~cxrecovery.ledger.verify`).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``hash``.
    """

    seq: int = attrs.field(validator=v.instance_of(int))
    kind: EventKind = attrs.field(**v.enum_field(EventKind))
    case_id: str = attrs.field(validator=v.identifier)
    at: datetime = attrs.field(**_AWARE)
    ref: str = attrs.field(validator=v.text)
    body: Attributes = attrs.field(factory=Attributes, converter=Attributes)
    hash: str | None = attrs.field(default=None, kw_only=True, validator=v.optional_text)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def instant_us(at: datetime) -> int:
    """``at`` as whole microseconds since 1970-01-01 UTC (how the stores keep times)."""
    return (at - _EPOCH) // _MICRO


def from_us(us: int) -> datetime:
    """The UTC datetime of :func:`instant_us`."""
    return _EPOCH + timedelta(microseconds=us)
