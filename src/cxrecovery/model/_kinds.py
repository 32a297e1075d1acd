"""The closed vocabularies of the domain: channels, kinds, outcomes, severities…"""

from __future__ import annotations

import enum

__all__ = [
    "CaseEventKind",
    "CaseStatus",
    "Channel",
    "CompensationForm",
    "Direction",
    "Fault",
    "Outcome",
    "PromiseStatus",
    "Sentiment",
    "Severity",
    "SurveyMetric",
    "TouchpointKind",
]


class Channel(enum.StrEnum):
    """Where an interaction happens.

    .. versionadded:: 0.1.0
    """

    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    MESSAGING = "messaging"
    SOCIAL = "social"
    WEB = "web"
    APP = "app"
    IN_PERSON = "in_person"
    VIDEO = "video"
    MAIL = "mail"
    OTHER = "other"

    @property
    def is_public(self) -> bool:
        """Whether others can see what is said here (a public social post)."""
        return self is Channel.SOCIAL


class TouchpointKind(enum.StrEnum):
    """What kind of interaction a touchpoint was.

    .. versionadded:: 0.1.0
    """

    CONTACT = "contact"
    TRANSFER = "transfer"
    CALLBACK = "callback"
    VISIT = "visit"
    MESSAGE = "message"
    SURVEY_ANSWER = "survey_answer"
    FEEDBACK = "feedback"


class Direction(enum.StrEnum):
    """Who started the interaction: the customer (inbound) or the company (outbound).

    .. versionadded:: 0.1.0
    """

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(enum.StrEnum):
    """How an interaction ended.

    ``failed`` is a channel failure (a dropped call, a site that errors); ``missed`` is
    an interaction that should have happened and did not (a callback nobody made);
    ``abandoned`` is a customer who gave up (hung up in the queue, left the chat).

    .. versionadded:: 0.1.0
    """

    RESOLVED = "resolved"
    PROGRESSED = "progressed"
    NO_PROGRESS = "no_progress"
    FAILED = "failed"
    MISSED = "missed"
    ABANDONED = "abandoned"

    @property
    def is_progress(self) -> bool:
        """Whether the case moved forward (what stops the time-in-limbo clock)."""
        return self in (Outcome.RESOLVED, Outcome.PROGRESSED)


_RANKS: dict[enum.Enum, int] = {}


class _Ranked(enum.StrEnum):
    """A string enum ordered by declaration, not alphabetically."""

    @property
    def rank(self) -> int:
        """0 for the first member, 1 for the next, and so on."""
        rank = _RANKS.get(self)
        if rank is None:
            rank = _RANKS[self] = list(type(self)).index(self)
        return rank

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = enum.StrEnum.__hash__


class Sentiment(_Ranked):
    """How the customer felt in an interaction, from very negative to very positive.

    .. versionadded:: 0.1.0
    """

    VERY_NEGATIVE = "very_negative"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    VERY_POSITIVE = "very_positive"

    @property
    def score(self) -> int:
        """-2 (very negative) to +2 (very positive)."""
        return self.rank - 2


class Severity(_Ranked):
    """How badly the service failed (ordered: ``low < medium < high < critical``).

    ``critical`` is for safety, legal, privacy and discrimination failures, which always
    go to a human owner.

    .. versionadded:: 0.1.0
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Fault(enum.StrEnum):
    """Whose fault the failure was. Fault shapes compensation, never whether to help.

    .. versionadded:: 0.1.0
    """

    COMPANY = "company"
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"
    UNKNOWN = "unknown"


class PromiseStatus(enum.StrEnum):
    """Where a promise stands.

    .. versionadded:: 0.1.0
    """

    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    WITHDRAWN = "withdrawn"


class CaseStatus(enum.StrEnum):
    """Where a case stands.

    .. versionadded:: 0.1.0
    """

    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CompensationForm(enum.StrEnum):
    """The forms compensation takes.

    .. versionadded:: 0.1.0
    """

    DISCOUNT = "discount"
    CREDIT = "credit"
    REFUND = "refund"
    REFUND_KEEP_ITEM = "refund_keep_item"
    REPLACEMENT = "replacement"
    REPERFORMANCE = "reperformance"
    VOUCHER = "voucher"


class SurveyMetric(enum.StrEnum):
    """The survey scales cxrecovery understands, with their valid scores.

    NPS 0–10, CSAT 1–5, CES 1–7 (7 = very easy).

    .. versionadded:: 0.1.0
    """

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"

    @property
    def scale(self) -> range:
        """The valid scores."""
        return {"nps": range(11), "csat": range(1, 6), "ces": range(1, 8)}[self.value]


class CaseEventKind(enum.StrEnum):
    """What a case event records: a change of status or owner, or a plan's action done.

    ``resolved``, ``reopened`` and ``closed`` change the case's status; ``assigned``
    makes someone its owner; ``escalated`` is an escalation taken to a level;
    ``apologized``, ``remedied``, ``compensated``, ``followed_up`` and ``recognised``
    say that a plan's action of that kind was carried out, ``judged`` that a person
    decided what a plan left to judgement (a grant, a promise and a
    message to the customer have records of their own: a grant, a promise, an outbound
    touchpoint).

    .. versionadded:: 0.2.0
    """

    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    APOLOGIZED = "apologized"
    REMEDIED = "remedied"
    COMPENSATED = "compensated"
    FOLLOWED_UP = "followed_up"
    RECOGNISED = "recognised"
    JUDGED = "judged"

    @property
    def changes_status(self) -> bool:
        """Whether the event changes the case's status."""
        return self in (CaseEventKind.RESOLVED, CaseEventKind.REOPENED, CaseEventKind.CLOSED)
