"""Synthetic case histories: seeded, realistic enough to exercise a policy.

No hypothesis here: a plain :class:`random.Random` per case, seeded from the run's seed
and the case's index, so case ``i`` is the same whatever the chunking, and a benchmark
run on two machines sees the same history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from cxrecovery._validation import aware_arg, duration_arg
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import (
    Case,
    CaseStatus,
    Channel,
    CompensationForm,
    Customer,
    Failure,
    Fault,
    Grant,
    Outcome,
    Pause,
    PriorCase,
    Promise,
    PromiseStatus,
    Sentiment,
    Severity,
    SurveyAnswer,
    SurveyMetric,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.money import Money

__all__ = ["synthetic_cases"]

T = TypeVar("T")

# The mixes below are illustrative shapes for demos and benchmarks, not measurements.
_SEGMENTS = (("standard", 60), ("member", 18), ("gold", 12), ("business", 10))
_CURRENCIES = (("GBP", 45), ("EUR", 35), ("USD", 20))
_CHANNELS = (
    (Channel.PHONE, 35),
    (Channel.EMAIL, 20),
    (Channel.CHAT, 20),
    (Channel.IN_PERSON, 10),
    (Channel.SOCIAL, 8),
    (Channel.APP, 7),
)
# category, weight, severity weights (low, medium, high, critical), value range (major units)
_FAILURES: tuple[tuple[str, int, tuple[int, int, int, int], tuple[int, int]], ...] = (
    ("late_delivery", 30, (45, 40, 14, 1), (15, 250)),
    ("wrong_item", 15, (30, 50, 19, 1), (10, 300)),
    ("billing_error", 15, (35, 45, 18, 2), (5, 400)),
    ("service_outage", 12, (20, 45, 33, 2), (20, 120)),
    ("repair_failed", 10, (10, 40, 48, 2), (80, 1200)),
    ("rude_staff", 10, (40, 45, 14, 1), (5, 80)),
    ("data_breach", 3, (0, 10, 40, 50), (0, 50)),
    ("damaged_item", 5, (15, 45, 39, 1), (20, 900)),
)
_FAULTS = ((Fault.COMPANY, 75), (Fault.THIRD_PARTY, 13), (Fault.CUSTOMER, 5), (Fault.UNKNOWN, 7))
_SENTIMENTS = tuple(Sentiment)
_START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def _pick(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _money(rng: random.Random, low: int, high: int, currency: str) -> Money:
    return Money(Decimal(rng.randint(low * 100, max(low, high) * 100)) / 100, currency)


def _mood(rng: random.Random, base: int, drift: int) -> Sentiment:
    return _SENTIMENTS[max(0, min(4, base + drift + rng.randint(-1, 0)))]


def _priors(rng: random.Random, index: int, opened: datetime, category: str) -> list[PriorCase]:
    """Earlier cases, for a repeat customer (about one in five)."""
    priors: list[PriorCase] = []
    if rng.random() < 0.22:  # a repeat customer
        for j in range(rng.choice((1, 1, 1, 2, 3))):
            prior_open = opened - timedelta(days=rng.randint(3, 300), minutes=j)
            priors.append(
                PriorCase(
                    f"prior-{index}-{j}",
                    prior_open,
                    rng.choice((category, category, _FAILURES[rng.randrange(8)][0])),
                    rng.choice((Severity.LOW, Severity.MEDIUM, Severity.HIGH)),
                    closed_at=prior_open + timedelta(days=rng.randint(0, 10)),
                    recovered=rng.random() < 0.8,
                    double_deviation=rng.random() < 0.12,
                )
            )
    return priors


def _outcome(rng: random.Random, *, last: bool) -> Outcome:
    """How a contact ended; the last one resolves the case more often than not."""
    roll = rng.random()
    if last and roll < 0.7:
        outcome = Outcome.RESOLVED
    elif roll < 0.45:
        outcome = Outcome.PROGRESSED
    elif roll < 0.75:
        outcome = Outcome.NO_PROGRESS
    elif roll < 0.85:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.ABANDONED
    return outcome


def _promise(rng: random.Random, k: int, now: datetime, here: Channel) -> tuple[Promise, datetime]:
    """A promise made at contact ``k`` (kept, broken or pending), and the next contact's time."""
    due = now + timedelta(hours=rng.choice((4, 24, 48, 72, 120)))
    gap = timedelta(hours=rng.randint(1, 150))
    next_at = now + gap
    settle = PromiseStatus.PENDING
    settled: datetime | None = None
    if next_at >= due or rng.random() < 0.3:
        # The next contact came after the due time: whether it was kept is luck.
        settle = PromiseStatus.KEPT if rng.random() < 0.55 else PromiseStatus.BROKEN
        settled = min(next_at, due) if settle is PromiseStatus.KEPT else next_at
    elif rng.random() < 0.5:
        settle = PromiseStatus.KEPT
        settled = next_at
    promise = Promise(
        f"pr-{k + 1}",
        rng.choice(("call back", "refund issued", "engineer visit", "replacement")),
        now,
        due,
        made_by=f"agent-{rng.randint(1, 60)}",
        channel=here,
        status=settle,
        settled_at=settled,
    )
    return promise, next_at


def _settled(promise: Promise, resolved_at: datetime) -> Promise:
    """``promise`` as the resolution at ``resolved_at`` leaves it: a pending one is settled."""
    if not promise.is_pending:
        return promise
    return Promise(
        promise.id,
        promise.what,
        promise.made_at,
        promise.due,
        made_by=promise.made_by,
        channel=promise.channel,
        status=PromiseStatus.KEPT if resolved_at <= promise.due else PromiseStatus.BROKEN,
        settled_at=resolved_at,
    )


def _ending(
    rng: random.Random,
    resolved_at: datetime | None,
    promises: list[Promise],
    touchpoints: list[Touchpoint],
    mood: int,
) -> tuple[CaseStatus, datetime | None, list[Promise]]:
    """How a history ends: open, resolved (pending promises settled), or closed with
    survey answers (added to ``touchpoints``)."""
    status = CaseStatus.OPEN
    closed_at: datetime | None = None
    if resolved_at is not None:
        # Pending promises are settled by the resolution.
        promises = [_settled(p, resolved_at) for p in promises]
        status = CaseStatus.RESOLVED
        if rng.random() < 0.6:
            status = CaseStatus.CLOSED
            closed_at = resolved_at + timedelta(days=rng.randint(0, 5))
            touchpoints.extend(_surveys(rng, closed_at, mood, len(touchpoints)))
            closed_at = max(closed_at, touchpoints[-1].at)
    return status, closed_at, promises


def _customer(
    rng: random.Random, prefix: str, index: int, segment: str, channel: Channel, currency: str
) -> Customer:
    """A customer; ids repeat now and then, as a returning customer's would."""
    return Customer(
        f"{prefix}-{rng.randrange(max(1000, index // 2 + 1000))}",
        segment=segment,
        preferred_channel=channel if rng.random() < 0.6 else None,
        lifetime_value=_money(rng, 50, 8000, currency) if rng.random() < 0.7 else None,
    )


def _contact(
    rng: random.Random, k: int, now: datetime, channel: Channel, mood: int, *, last: bool
) -> Touchpoint:
    """Contact ``k`` of a history, mostly on the case's own channel."""
    kind = TouchpointKind.VISIT if channel is Channel.IN_PERSON else TouchpointKind.CONTACT
    if k and rng.random() < 0.15:
        kind = TouchpointKind.TRANSFER
    outcome = _outcome(rng, last=last)
    here = channel if rng.random() < 0.75 else _pick(rng, _CHANNELS)
    return Touchpoint(
        now,
        here,
        kind,
        id=f"tp-{k + 1}",
        agent=f"agent-{rng.randint(1, 60)}" if outcome is not Outcome.ABANDONED else None,
        outcome=outcome,
        sentiment=_mood(rng, mood, 1 if outcome is Outcome.RESOLVED else 0),
        wait=timedelta(minutes=rng.randint(0, 40)) if here is Channel.PHONE else None,
        repeated_information=k > 0 and rng.random() < 0.3,
        escalation_requested=k > 1 and rng.random() < 0.15,
    )


def _goodwill(rng: random.Random, k: int, contact: Touchpoint, value: Money) -> Grant:
    """A goodwill grant of a tenth of the value at stake, at ``contact``."""
    return Grant(
        f"g-{k + 1}",
        rng.choice((CompensationForm.CREDIT, CompensationForm.VOUCHER)),
        contact.at,
        amount=Money((value.amount / 10).quantize(Decimal("0.01")), value.currency),
        granted_by=contact.agent,
    )


def _case(seed: int, index: int, start: datetime, span: timedelta) -> Case:
    rng = random.Random(seed * 1_000_003 + index)
    currency = _pick(rng, _CURRENCIES)
    segment = _pick(rng, _SEGMENTS)
    channel = _pick(rng, _CHANNELS)
    category = rng.choices(_FAILURES, weights=[f[1] for f in _FAILURES])[0]
    severity = rng.choices(list(Severity), weights=category[2])[0]
    fault = _pick(rng, _FAULTS)
    opened = start + timedelta(seconds=rng.randrange(max(1, int(span.total_seconds()))))
    opened = opened.replace(microsecond=0)
    value = _money(rng, *category[3], currency) if category[3][1] else None
    customer = _customer(rng, f"cust-{seed}", index, segment, channel, currency)
    failure = Failure(
        category[0],
        severity,
        fault,
        value_at_stake=value,
        service_usable=rng.random() < (0.55 if severity < Severity.HIGH else 0.3),
        occurred_at=opened - timedelta(minutes=rng.randint(0, 600)),
    )
    priors = _priors(rng, index, opened, category[0])

    touchpoints: list[Touchpoint] = []
    promises: list[Promise] = []
    grants: list[Grant] = []
    # Pauses draw from a stream of their own, so the rest of a history is the same
    # with or without them.
    pause_rng = random.Random(f"pauses-{seed}-{index}")
    pauses: list[Pause] = []
    now = opened
    mood = rng.randint(0, 2)
    resolved_at: datetime | None = None
    contacts = rng.choices((1, 2, 3, 4, 5, 6), weights=(35, 25, 18, 11, 7, 4))[0]
    for k in range(contacts):
        last = k == contacts - 1
        touchpoints.append(_contact(rng, k, now, channel, mood, last=last))
        outcome = touchpoints[-1].outcome
        here = touchpoints[-1].channel
        if outcome is Outcome.RESOLVED:
            resolved_at = now
            break
        # No progress: often because we wait on the customer or a third party. The
        # wait ends at the next contact, or goes on if there is none.
        pause: tuple[str, datetime] | None = None
        if outcome is Outcome.NO_PROGRESS and pause_rng.random() < 0.35:
            reason = (
                "waiting_on_customer" if pause_rng.random() < 0.6 else "waiting_on_third_party"
            )
            pause = (reason, now + timedelta(minutes=pause_rng.randint(1, 30)))
        if outcome is Outcome.PROGRESSED and rng.random() < 0.6:
            promise, next_at = _promise(rng, k, now, here)
            promises.append(promise)
            if promise.status is PromiseStatus.BROKEN:
                mood -= 1
            now = next_at
        else:
            now = now + timedelta(hours=rng.randint(1, 96), minutes=rng.randint(0, 59))
        if pause is not None:
            pauses.append(Pause(pause[0], pause[1], ended_at=now if not last else None))
        if value is not None and not grants and rng.random() < 0.12:
            grants.append(_goodwill(rng, k, touchpoints[-1], value))

    status, closed_at, promises = _ending(rng, resolved_at, promises, touchpoints, mood)
    return Case(
        f"case-{seed}-{index}",
        customer,
        failure,
        opened,
        status=status,
        owner=touchpoints[0].agent,
        channel=channel,
        touchpoints=tuple(touchpoints),
        promises=tuple(promises),
        grants=tuple(grants),
        pauses=tuple(pauses),
        prior_cases=tuple(priors),
        resolved_at=resolved_at,
        closed_at=closed_at,
    )


def _surveys(rng: random.Random, at: datetime, mood: int, count: int) -> list[Touchpoint]:
    answers: list[Touchpoint] = []
    for metric in SurveyMetric:
        if rng.random() < 0.35:
            scale = metric.scale
            # Happier customers score higher; the middle of the scale otherwise.
            share = max(0.0, min(1.0, (mood + 1.5) / 4 + rng.uniform(-0.35, 0.35)))
            score = scale.start + round(share * (scale.stop - 1 - scale.start))
            answers.append(
                Touchpoint(
                    at,
                    Channel.EMAIL,
                    TouchpointKind.SURVEY_ANSWER,
                    id=f"tp-{count + len(answers) + 1}",
                    survey=SurveyAnswer(metric, score),
                )
            )
    return answers


def synthetic_cases(
    count: int,
    *,
    seed: int = 0,
    start: datetime = _START,
    span: timedelta = timedelta(days=90),
    first: int = 0,
) -> Iterator[Case]:
    """Yield ``count`` synthetic case histories, the same ones for the same ``seed``.

    Cases open between ``start`` and ``start + span``, across customer segments,
    channels and a mix of failures (severity, fault, value at stake); each has a
    sequence of contacts with outcomes and sentiment, promises kept, broken or pending,
    pauses while waiting on the customer or a third party after a contact that made no
    progress, sometimes a goodwill grant, earlier cases for repeat customers and survey answers
    (NPS, CSAT, CES) when closed. Case ``i`` depends only on ``seed`` and ``i``, so
    ``first`` starts the run further along (a chunk of a larger history).

    Raises:
        InvalidValueError: ``count`` or ``first`` is negative, ``seed`` is not a whole
            number, ``start`` is naive or ``span`` is not a positive ``timedelta``.

    .. versionadded:: 0.1.0
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidValueError.at("count", f"{count!r} is not a whole number of cases")
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise InvalidValueError.at("first", f"{first!r} is not a case index (0 or more)")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidValueError.at("seed", f"{seed!r} is not a whole number")
    start = aware_arg(start, "start")
    if duration_arg(span, "span") <= timedelta(0):
        raise InvalidValueError.at("span", f"{span!r} is not a positive duration")
    for index in range(first, first + count):
        yield _case(seed, index, start, span)
