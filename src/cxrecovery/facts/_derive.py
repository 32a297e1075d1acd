"""Deriving the built-in facts of a case at an instant (:func:`derive_facts`)."""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right, insort
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, getcontext
from operator import attrgetter, itemgetter
from typing import Final, NamedTuple

from cxrecovery.facts._builtin import BUILTIN_FACTS, FactSettings, Timeline
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

__all__ = ["derive_facts"]

_HOUR: Final = Decimal(3600)
_CENT_HOUR: Final = Decimal("0.01")
_ONE_US: Final = timedelta(microseconds=1)
_HOUR_US: Final = Decimal(3_600_000_000)


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
# The members derive_facts compares against, read off their enums once: reading a member
# off its class (``Outcome.FAILED``) goes through the enum's metaclass, several times
# dearer than reading a global, and the touchpoint loop would make a handful per
# touchpoint.
_INBOUND: Final = Direction.INBOUND
_TRANSFER: Final = TouchpointKind.TRANSFER
_FEEDBACK: Final = TouchpointKind.FEEDBACK
_SOCIAL: Final = Channel.SOCIAL
_OTHER: Final = Channel.OTHER
_PROGRESS: Final = frozenset({Outcome.RESOLVED, Outcome.PROGRESSED})
_CHANNEL_FAILURES: Final = frozenset({Outcome.FAILED, Outcome.MISSED})
_ABANDONED: Final = Outcome.ABANDONED
_KEPT: Final = PromiseStatus.KEPT
_BROKEN: Final = PromiseStatus.BROKEN
_PENDING: Final = PromiseStatus.PENDING
_CRITICAL: Final = Severity.CRITICAL
_ZERO: Final = Decimal(0)
_NO_WAIT: Final = timedelta(0)
# The facts derive_facts returns, in order, none of them set yet (it sets every one).
_BLANK_FACTS: Final[dict[str, object]] = dict.fromkeys(BUILTIN_FACTS)
# Search keys: the time of a (time, score) event, of a touchpoint.
_TIME: Final = itemgetter(0)
_AT: Final = attrgetter("at")


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
    value_at_stake = failure.value_at_stake
    currency = value_at_stake.currency if value_at_stake else None

    contacts = transfers = repeated = failures = abandoned = switches = 0
    wait = _NO_WAIT
    channels: set[Channel] = set()  # members: one per value
    last_channel: Channel | None = None  # of the customer's last contact
    progress_at = case.opened_at
    progressed = False
    fix_failed = False
    escalation_requested = False
    public = False
    positive_feedback = False
    # Touchpoints are kept in time order: the ones known at ``at`` are those before the
    # first later one.
    touchpoints = case.touchpoints
    if touchpoints and touchpoints[-1].at > at:
        touchpoints = touchpoints[: bisect_right(touchpoints, at, key=_AT)]
    # (time, score) of each sentiment, in time order.
    moods: list[tuple[datetime, int]] = []
    for tp in touchpoints:
        when = tp.at
        kind = tp.kind
        if tp.direction is _INBOUND:
            channel = tp.channel
            if kind in _CONTACT_KINDS:
                contacts += 1
                channels.add(channel)
                if last_channel is not None and channel is not last_channel:
                    switches += 1
                last_channel = channel
            if channel is _SOCIAL:
                public = True
        if kind is _TRANSFER:
            transfers += 1
        if tp.repeated_information:
            repeated += 1
        outcome = tp.outcome
        if outcome is not None:
            if outcome in _PROGRESS:
                progressed = True
                progress_at = when
            elif outcome in _CHANNEL_FAILURES:
                failures += 1
                if progressed:
                    fix_failed = True
            elif outcome is _ABANDONED:
                abandoned += 1
        waited = tp.wait
        if waited is not None:
            wait += waited
        if tp.escalation_requested:
            escalation_requested = True
        sentiment = tp.sentiment
        if sentiment is not None:
            moods.append((when, _SCORES[sentiment]))
            if kind is _FEEDBACK and sentiment in _POSITIVE:
                positive_feedback = True

    pending = kept = 0
    break_times: list[datetime] = []
    due_ahead: list[datetime] = []
    # Every event that sways relationship health, in time order: the sentiments, and
    # each promise settled (or broken by going overdue) by ``at``, put after the events
    # of its instant so far.
    events = moods.copy()
    for promise in case.promises:
        if promise.made_at > at:
            continue
        settled_at = promise.settled_at
        status = promise.status if settled_at is not None and settled_at <= at else _PENDING
        if status is _KEPT:
            kept += 1
            insort(events, (settled_at, 1), key=_TIME)  # type: ignore[misc]
        elif status is _BROKEN:
            break_times.append(settled_at)  # type: ignore[arg-type]
            insort(events, (settled_at, -2), key=_TIME)  # type: ignore[misc]
        elif status is _PENDING:
            due = promise.due
            if at > due:
                break_times.append(due)
                insort(events, (due, -2), key=_TIME)
            else:
                pending += 1
                due_ahead.append(due)
    broken = len(break_times)
    double_deviation = broken > 0 or fix_failed

    drop_after_break = False
    if break_times:
        first_break = min(break_times)
        i = bisect_left(events, first_break, key=_TIME)  # events[:i] came before it
        if i:
            # The mood just before the first break: that of the latest event before it
            # (the first of them if several share that instant).
            mood_at = events[i - 1][0]
            while i > 1 and events[i - 2][0] == mood_at:
                i -= 1
            mood = events[i - 1][1]
            # Did a sentiment since fall below it?
            for t, value in reversed(moods):
                if t < first_break:
                    break
                if value < mood:
                    drop_after_break = True
                    break

    history_start = case.opened_at - settings.history_window
    goodwill_window = settings.goodwill_window
    goodwill_start = at - goodwill_window
    category = failure.category
    prior = 0
    same_type = False
    goodwill = _ZERO
    exits: list[datetime] = []
    for earlier in case.prior_cases:
        opened_at = earlier.opened_at
        if opened_at >= history_start:
            prior += 1
            if earlier.category == category:
                same_type = True
        comp = earlier.compensation
        if comp is not None and comp and comp.currency == currency:
            when = earlier.closed_at or opened_at
            if when >= goodwill_start:
                goodwill += comp.amount
                exits.append(when + goodwill_window)
    granted = _ZERO
    for grant in case.grants:
        given = grant.amount
        if not given or given.currency != currency:
            continue
        when = grant.at
        if when > at:
            continue
        granted += given.amount
        if when >= goodwill_start:
            goodwill += given.amount
            exits.append(when + goodwill_window)

    if double_deviation:
        history = "double_deviation"
    elif prior:
        history = "repeat"
    else:
        history = "first"

    wait_minutes = int(wait.total_seconds() // 60)
    effort_score = (
        (contacts - 1 if contacts else 0)
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
    if events and events[-1][1] < 0 and health in ("stable", "strong"):
        # One bad moment is not averaged away: the last word was negative.
        health = "fragile"

    limbo_us = settings.calendar.between(progress_at if progress_at <= at else at, at) // _ONE_US
    limbo_hours = (limbo_us / _HOUR_US).quantize(_CENT_HOUR, rounding=ROUND_FLOOR)

    # Filled in on a copy of a blank one: cheaper than building a dict of this size.
    facts = _BLANK_FACTS.copy()
    facts["severity"] = _VALUES[failure.severity]
    facts["fault"] = _VALUES[failure.fault]
    facts["category"] = failure.category
    facts["segment"] = customer.segment
    facts["channel"] = _VALUES[last_channel or case.channel or _OTHER]
    facts["service_usable"] = failure.service_usable
    facts["critical"] = failure.severity is _CRITICAL
    facts["value_at_stake"] = value_at_stake.amount if value_at_stake is not None else _ZERO
    lifetime_value = customer.lifetime_value
    facts["lifetime_value"] = lifetime_value.amount if lifetime_value is not None else _ZERO
    facts["contacts"] = contacts
    facts["channels_used"] = len(channels)
    facts["channel_switches"] = switches
    facts["transfers"] = transfers
    facts["repeated_information"] = repeated
    facts["channel_failures"] = failures
    facts["abandoned"] = abandoned
    facts["wait_minutes"] = wait_minutes
    facts["effort"] = effort
    facts["limbo_hours"] = limbo_hours
    facts["promises_broken"] = broken
    facts["promises_pending"] = pending
    facts["promises_kept"] = kept
    facts["fix_failed"] = fix_failed
    facts["double_deviation"] = double_deviation
    facts["prior_failures"] = prior
    facts["same_type_repeat"] = same_type
    facts["history"] = history
    facts["recent_goodwill"] = goodwill
    facts["granted_so_far"] = granted
    facts["relationship_score"] = score
    facts["relationship_health"] = health
    facts["sentiment_drop_after_broken_promise"] = drop_after_break
    facts["escalation_requested"] = escalation_requested
    facts["public_channel"] = public
    facts["positive_feedback"] = positive_feedback
    facts["expectation_ratio"] = customer.expectation.compensation_ratio
    facts["status"] = _VALUES[case.status]
    due_ahead.sort()
    window_exits = tuple(sorted([t for t in exits if t >= at])) if exits else ()
    # promise_due, window_exits, last_progress: by keyword, the call costs a third more.
    timeline = Timeline(tuple(due_ahead), window_exits, progress_at)
    return facts, timeline


def _recency_score(events: list[tuple[datetime, int]], decay: Decimal) -> Decimal:
    """Recency-weighted mean of ``events`` (in time order): the latest event weighs 1,
    the one before ``decay``, …

    That is the sum of weight × value over the sum of the weights, in Decimal, quantized
    to hundredths. For as many events as :func:`_shortcuts` allows, no weight or partial
    sum on the way is rounded, and the two sums are worked out in integers instead
    (several times faster): with ``decay`` = p/q, both multiplied by q ** (n - 1), which
    leaves their ratio alone. The division and the quantize are the Decimal ones still,
    in the current context, so the result is the same to the last digit.
    """
    if not events:
        return _ZERO
    context = getcontext()
    shortcuts = _shortcuts(
        str(decay) if type(decay) is Decimal else None, context.prec, context.Emin, context.Emax
    )
    p, q, weights = shortcuts
    n = len(events)
    if n < len(weights):
        total = 0
        if p == 1:  # a decay of 1/q (0.5 by default): no powers of p to keep
            for _, value in reversed(events):
                total = total * q + value
        else:
            weight = 1  # p ** j for the j-th latest event
            for _, value in reversed(events):
                total = total * q + value * weight
                weight *= p
        # A Decimal sum that cancels out to zero is -0 when rounding towards -infinity.
        if total or context.rounding != ROUND_FLOOR:
            return (total / weights[n]).quantize(_CENT_HOUR)
    weighing = Decimal(1)
    summed = weighed = _ZERO
    for _, value in reversed(events):
        summed += weighing * value
        weighed += weighing
        weighing *= decay
    return (summed / weighed).quantize(_CENT_HOUR)


class _Shortcuts(NamedTuple):
    """How far integers give what the Decimal recency loop gives, digit for digit."""

    #: The recency decay as p/q.
    p: int
    q: int
    #: For each number of events n that integers can weigh, the sum of the weights
    #: times q ** (n - 1): the sum of p ** j * q ** (n - 1 - j) for j < n.
    weights: tuple[Decimal, ...]


_NO_SHORTCUTS: Final = _Shortcuts(0, 1, ())
# Events weighed in integers at most (a longer history is weighed in Decimal).
_MOST_EVENTS: Final = 256
# The largest score an event carries either way: sentiments, promises kept (+1) or
# broken (-2).
_MAX_SCORE: Final = max(2, *(abs(score) for score in _SCORES.values()))


@functools.lru_cache(maxsize=16)
def _shortcuts(decay: str | None, prec: int, emin: int, emax: int) -> _Shortcuts:
    """The shortcuts for a recency decay, given as its Decimal string (which tells
    ``0.5`` from ``0.50``), in a context of this precision and exponent range.

    Decimal rounds a result that has more digits than the precision, and signals it.
    With ``decay`` written c × 10**-k and m = max(c, 10**k), the j-th weight, value ×
    weight and every partial sum up to it in the Decimal loop are N × 10**(-k*j) with
    |N| <= _MAX_SCORE * (j + 1) * m**j. While that bound fits the precision (checked
    conservatively, as 3 * prec bits) and 10**(-k*j) is no smaller than the smallest
    normal number, 10**emin, nothing on the way is rounded or signalled (not even as
    subnormal), and integers work out the same values. n events take j up to n: the
    loop works out one weight more than it uses. No shortcut for ``None`` (a decay that
    is not a plain Decimal), nor for a decay that is not finite, is negative or has a
    positive exponent.
    """
    if decay is None or emax < prec:
        return _NO_SHORTCUTS
    value = Decimal(decay)
    if not value.is_finite() or value < 0:
        return _NO_SHORTCUTS
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite Decimal's
    if exponent > 0:
        return _NO_SHORTCUTS
    c = int("".join(map(str, digits)))
    k = -exponent
    m = max(c, 10**k)
    p, q = value.as_integer_ratio()
    weights = [0]
    power = m  # m ** n for n = len(weights)
    while (
        len(weights) <= _MOST_EVENTS
        and (_MAX_SCORE * (len(weights) + 1) * power).bit_length() <= 3 * prec
        and k * len(weights) <= -emin
    ):
        weights.append(weights[-1] * q + p ** (len(weights) - 1))
        power *= m
    return _Shortcuts(p, q, tuple(Decimal(w) for w in weights))
