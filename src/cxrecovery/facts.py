"""What a case means at a time: the facts a policy's tables read.

:func:`derive_facts` turns a case and an instant into a flat mapping of named, typed
values (severity, effort, time in limbo, broken promises, history, relationship
health…). It reads nothing but its arguments. Hosts add facts of their own through the
:class:`FactProvider` protocol; a policy that names a fact nobody provides fails when it
is compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Final, Protocol, runtime_checkable

import attrs

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.model import (
    Case,
    CaseStatus,
    Channel,
    Direction,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    Severity,
    TouchpointKind,
)
from cxrecovery.tables import FactKind, FactSpec

__all__ = [
    "BUILTIN_FACTS",
    "FactProvider",
    "FactSettings",
    "Timeline",
    "derive_facts",
]

_HOUR: Final = Decimal(3600)
_CENT_HOUR: Final = Decimal("0.01")
_ONE_US: Final = timedelta(microseconds=1)
_HOUR_US: Final = Decimal(3_600_000_000)


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


_CONTACT_KINDS: Final = frozenset(
    {TouchpointKind.CONTACT, TouchpointKind.VISIT, TouchpointKind.MESSAGE, TouchpointKind.CALLBACK}
)
_HEALTH_CUTS: Final = (
    (Decimal("-0.75"), "at_risk"),
    (Decimal("0.25"), "fragile"),
    (Decimal("1.25"), "stable"),
)


# Sentiment.score and ">= POSITIVE" are properties and rich comparisons, read for every
# touchpoint: looked up here instead.
_SCORES: Final = {s: s.score for s in Sentiment}
_POSITIVE: Final = frozenset(s for s in Sentiment if s >= Sentiment.POSITIVE)
# Each member's plain value (an enum's .value is a property too). Members are keys as
# the strings they are; two equal ones would have equal values, so one table will do.
_VALUES: Final[dict[str, str]] = {
    m: m.value for kind in (Severity, Fault, Channel, CaseStatus) for m in kind
}


def _amount(money: object) -> Decimal:
    return money.amount if money is not None else Decimal(0)  # type: ignore[attr-defined]


def derive_facts(
    case: Case, at: datetime, settings: FactSettings
) -> tuple[dict[str, object], Timeline]:
    """Derive the built-in facts of ``case`` as seen at ``at``.

    Only what happened at or before ``at`` counts: a touchpoint recorded for a later
    time is not known yet. Returns the facts and the instants at which the
    time-dependent ones will change.

    .. versionadded:: 0.1.0
    """
    failure = case.failure
    customer = case.customer
    currency = failure.value_at_stake.currency if failure.value_at_stake else None

    contacts = transfers = repeated = failures = abandoned = switches = 0
    wait = timedelta(0)
    channels: set[Channel] = set()  # members: one per value
    last_channel: Channel | None = None
    last_inbound_channel: Channel | None = case.channel
    progress_at = case.opened_at
    progressed = False
    fix_failed = False
    escalation_requested = False
    public = False
    positive_feedback = False
    # (time, score) events for relationship health: sentiment, and promises settled.
    events: list[tuple[datetime, int]] = []
    for tp in case.touchpoints:
        if tp.at > at:
            break
        inbound = tp.direction is Direction.INBOUND
        kind = tp.kind
        channel = tp.channel
        if inbound and kind in _CONTACT_KINDS:
            contacts += 1
            channels.add(channel)
            if last_channel is not None and channel is not last_channel:
                switches += 1
            last_channel = channel
            last_inbound_channel = channel
        if kind is TouchpointKind.TRANSFER:
            transfers += 1
        if tp.repeated_information:
            repeated += 1
        outcome = tp.outcome
        if outcome is Outcome.FAILED or outcome is Outcome.MISSED:
            failures += 1
            if progressed:
                fix_failed = True
        elif outcome is Outcome.ABANDONED:
            abandoned += 1
        elif outcome is Outcome.RESOLVED or outcome is Outcome.PROGRESSED:
            progressed = True
            progress_at = tp.at
        if tp.wait is not None:
            wait += tp.wait
        if tp.escalation_requested:
            escalation_requested = True
        if channel is Channel.SOCIAL and inbound:
            public = True
        sentiment = tp.sentiment
        if sentiment is not None:
            events.append((tp.at, _SCORES[sentiment]))
            if kind is TouchpointKind.FEEDBACK and sentiment in _POSITIVE:
                positive_feedback = True

    broken = pending = kept = 0
    break_times: list[datetime] = []
    due_ahead: list[datetime] = []
    for promise in case.promises:
        if promise.made_at > at:
            continue
        settled = promise.settled_at is not None and promise.settled_at <= at
        status = promise.status if settled else PromiseStatus.PENDING
        if status is PromiseStatus.KEPT:
            kept += 1
            events.append((promise.settled_at, 1))  # type: ignore[arg-type]
        elif status is PromiseStatus.BROKEN:
            broken += 1
            break_times.append(promise.settled_at)  # type: ignore[arg-type]
            events.append((promise.settled_at, -2))  # type: ignore[arg-type]
        elif status is PromiseStatus.PENDING:
            if at > promise.due:
                broken += 1
                break_times.append(promise.due)
                events.append((promise.due, -2))
            else:
                pending += 1
                due_ahead.append(promise.due)
    double_deviation = broken > 0 or fix_failed

    drop_after_break = False
    if break_times:
        first_break = min(break_times)
        before = [(t, v) for t, v in events if t < first_break]
        if before:
            mood = max(before, key=lambda e: e[0])[1]
            drop_after_break = any(
                tp.sentiment is not None
                and first_break <= tp.at <= at
                and _SCORES[tp.sentiment] < mood
                for tp in case.touchpoints
            )

    history_start = case.opened_at - settings.history_window
    goodwill_start = at - settings.goodwill_window
    prior = 0
    same_type = False
    goodwill = Decimal(0)
    exits: list[datetime] = []
    for earlier in case.prior_cases:
        if earlier.opened_at >= history_start:
            prior += 1
            if earlier.category == failure.category:
                same_type = True
        comp = earlier.compensation
        when = earlier.closed_at or earlier.opened_at
        if comp is not None and comp and comp.currency == currency and when >= goodwill_start:
            goodwill += comp.amount
            exits.append(when + settings.goodwill_window)
    granted = Decimal(0)
    for grant in case.grants:
        if grant.at > at or not grant.amount or grant.amount.currency != currency:
            continue
        granted += grant.amount.amount
        if grant.at >= goodwill_start:
            goodwill += grant.amount.amount
            exits.append(grant.at + settings.goodwill_window)

    if double_deviation:
        history = "double_deviation"
    elif prior:
        history = "repeat"
    else:
        history = "first"

    wait_minutes = int(wait.total_seconds() // 60)
    effort_score = (
        max(contacts - 1, 0)
        + switches
        + transfers
        + repeated
        + failures
        + abandoned
        + wait_minutes // settings.wait_unit_minutes
    )
    if effort_score >= settings.effort_high_at:
        effort = "high"
    elif effort_score >= settings.effort_medium_at:
        effort = "medium"
    else:
        effort = "low"

    score = _recency_score(events, settings.recency_decay)
    health = "strong"
    for cut, name in _HEALTH_CUTS:
        if score < cut:
            health = name
            break
    events.sort(key=lambda e: e[0])
    if events and events[-1][1] < 0 and health in ("stable", "strong"):
        # One bad moment is not averaged away: the last word was negative.
        health = "fragile"

    limbo = settings.calendar.between(min(progress_at, at), at)
    limbo_hours = (Decimal(limbo // _ONE_US) / _HOUR_US).quantize(_CENT_HOUR, rounding=ROUND_FLOOR)

    facts: dict[str, object] = {
        "severity": _VALUES[failure.severity],
        "fault": _VALUES[failure.fault],
        "category": failure.category,
        "segment": customer.segment,
        "channel": _VALUES[last_inbound_channel or Channel.OTHER],
        "service_usable": failure.service_usable,
        "critical": failure.severity is Severity.CRITICAL,
        "value_at_stake": _amount(failure.value_at_stake),
        "lifetime_value": _amount(customer.lifetime_value),
        "contacts": contacts,
        "channels_used": len(channels),
        "channel_switches": switches,
        "transfers": transfers,
        "repeated_information": repeated,
        "channel_failures": failures,
        "abandoned": abandoned,
        "wait_minutes": wait_minutes,
        "effort": effort,
        "limbo_hours": limbo_hours,
        "promises_broken": broken,
        "promises_pending": pending,
        "promises_kept": kept,
        "fix_failed": fix_failed,
        "double_deviation": double_deviation,
        "prior_failures": prior,
        "same_type_repeat": same_type,
        "history": history,
        "recent_goodwill": goodwill,
        "granted_so_far": granted,
        "relationship_score": score,
        "relationship_health": health,
        "sentiment_drop_after_broken_promise": drop_after_break,
        "escalation_requested": escalation_requested,
        "public_channel": public,
        "positive_feedback": positive_feedback,
        "expectation_ratio": customer.expectation.compensation_ratio,
        "status": _VALUES[case.status],
    }
    timeline = Timeline(
        promise_due=tuple(sorted(due_ahead)),
        window_exits=tuple(sorted(t for t in exits if t >= at)),
        last_progress=progress_at,
    )
    return facts, timeline


def _recency_score(events: list[tuple[datetime, int]], decay: Decimal) -> Decimal:
    """Recency-weighted mean: the latest event weighs 1, the one before ``decay``, …"""
    if not events:
        return Decimal(0)
    ordered = sorted(events, key=lambda e: e[0])
    weight = Decimal(1)
    total = Decimal(0)
    weights = Decimal(0)
    for _, value in reversed(ordered):
        total += weight * value
        weights += weight
        weight *= decay
    return (total / weights).quantize(_CENT_HOUR)
