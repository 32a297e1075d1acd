"""The built-in facts (described in the tables' vocabulary), a host's own facts, and
the settings and timeline of fact derivation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Protocol, runtime_checkable

import attrs

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.model import Case, Channel, Fault, Severity
from cxrecovery.tables.vocabulary import FactKind, FactSpec

__all__ = [
    "BUILTIN_FACTS",
    "EFFORT_LEVELS",
    "HEALTH_LEVELS",
    "HISTORY_LEVELS",
    "FactProvider",
    "FactSettings",
    "Timeline",
]


def _spec(name: str, kind: FactKind, description: str, values: tuple[str, ...] = ()) -> FactSpec:
    return FactSpec(name, kind, values, description=description)


_B, _I, _D, _E, _O, _S = (
    FactKind.BOOLEAN,
    FactKind.INTEGER,
    FactKind.DECIMAL,
    FactKind.ENUM,
    FactKind.ORDINAL,
    FactKind.STRING,
)

EFFORT_LEVELS: Final = ("low", "medium", "high")
HEALTH_LEVELS: Final = ("at_risk", "fragile", "stable", "strong")
HISTORY_LEVELS: Final = ("first", "repeat", "double_deviation")

BUILTIN_FACTS: Final[Mapping[str, FactSpec]] = {
    spec.name: spec
    for spec in (
        _spec("severity", _O, "how badly the service failed", tuple(s.value for s in Severity)),
        _spec("fault", _E, "whose fault it was", tuple(f.value for f in Fault)),
        _spec("category", _S, "the host's kind of failure"),
        _spec("segment", _S, "the customer's segment or tier"),
        _spec(
            "channel", _E, "where the customer last reached us", tuple(c.value for c in Channel)
        ),
        _spec("service_usable", _B, "can the customer still use what they got"),
        _spec("critical", _B, "a safety, legal or privacy failure (severity critical)"),
        _spec("value_at_stake", _D, "value of the affected transaction (0 if unknown)"),
        _spec("lifetime_value", _D, "the customer's lifetime value (0 if unknown)"),
        _spec("contacts", _I, "contacts the customer made about this case"),
        _spec("channels_used", _I, "distinct channels the customer used"),
        _spec("channel_switches", _I, "times the customer had to change channel"),
        _spec("transfers", _I, "transfers between agents or teams"),
        _spec("repeated_information", _I, "times the customer had to explain again"),
        _spec("channel_failures", _I, "interactions that failed or were missed by us"),
        _spec("abandoned", _I, "times the customer gave up (hung up in the queue…)"),
        _spec("wait_minutes", _I, "minutes the customer spent waiting, in total"),
        _spec("effort", _O, "customer effort, from the counts above", EFFORT_LEVELS),
        _spec("limbo_hours", _D, "business hours since the case last moved forward"),
        _spec("promises_broken", _I, "promises broken or overdue"),
        _spec("promises_pending", _I, "promises still open and not yet due"),
        _spec("promises_kept", _I, "promises kept"),
        _spec("fix_failed", _B, "a fix was tried and failed"),
        _spec(
            "double_deviation", _B, "the recovery itself failed (a broken promise or a failed fix)"
        ),
        _spec("prior_failures", _I, "the customer's earlier failures in the history window"),
        _spec("same_type_repeat", _B, "an earlier failure of the same category in the window"),
        _spec("history", _O, "first failure, repeat, or double deviation", HISTORY_LEVELS),
        _spec("recent_goodwill", _D, "compensation given to this customer in the goodwill window"),
        _spec("granted_so_far", _D, "compensation already given on this case"),
        _spec("relationship_score", _D, "recency-weighted sentiment, -2 to +2"),
        _spec(
            "relationship_health", _O, "recency-weighted health of the relationship", HEALTH_LEVELS
        ),
        _spec(
            "sentiment_drop_after_broken_promise",
            _B,
            "the customer's mood fell after a broken promise",
        ),
        _spec("escalation_requested", _B, "the customer asked for a manager"),
        _spec("public_channel", _B, "the customer spoke about it in public (social)"),
        _spec("positive_feedback", _B, "the customer gave positive feedback"),
        _spec(
            "expectation_ratio",
            _D,
            "compensation the customer now expects, as a share of the value at stake",
        ),
        _spec("status", _E, "where the case stands", ("open", "resolved", "closed")),
    )
}


@runtime_checkable
class FactProvider(Protocol):
    """A host's own facts, registered on an engine.

    ``specs`` declares the facts (names must not clash with the built-in ones);
    ``compute`` returns a value for each of them for a case at an instant, and must be
    pure like the rest of the decision.

    .. versionadded:: 0.1.0
    """

    def specs(self) -> Mapping[str, FactSpec]:
        """The facts this provider adds, by name."""
        ...

    def compute(self, case: Case, at: datetime) -> Mapping[str, object]:
        """The value of each fact for ``case`` at ``at``."""
        ...


@attrs.frozen
class FactSettings:
    """The knobs of fact derivation, from the policy's ``[facts]`` section.

    .. versionadded:: 0.1.0
    """

    calendar: BusinessCalendar
    history_window: timedelta = timedelta(days=365)
    goodwill_window: timedelta = timedelta(days=90)
    effort_medium_at: int = 2
    effort_high_at: int = 4
    wait_unit_minutes: int = 30
    recency_decay: Decimal = Decimal("0.5")


@attrs.frozen
class Timeline:
    """Instants at which a time-dependent fact changes value (for ``next_review_at``)."""

    promise_due: tuple[datetime, ...]
    window_exits: tuple[datetime, ...]
    last_progress: datetime
