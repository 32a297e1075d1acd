"""Service-recovery metrics over many cases: pure functions, one definition each.

Every function takes an iterable (a list, a generator, a stream from a JSON Lines file)
and reads it once, so a year of history never has to sit in memory. Rates are
:class:`Rate` values, numerator and denominator kept, so two periods can be added
exactly; scores are exact ``Decimal`` values. Which metric means what, and how far the
evidence behind it goes, is in ``docs/metrics.md``, with the studies cited there.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from cxrecovery._validation import arg_of, items_of, optional_aware_arg
from cxrecovery.model import (
    Case,
    CaseStatus,
    Direction,
    PromiseStatus,
    SurveyMetric,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.plan import ActionKind, RecoveryPlan

__all__ = [
    "RATIO_BINS",
    "DurationSummary",
    "Rate",
    "RatioDistribution",
    "RecoveryCost",
    "ces",
    "compensation_ratio_distribution",
    "contacts_per_resolution",
    "csat",
    "double_deviation_rate",
    "first_contact_resolution",
    "inbound_contacts",
    "nps",
    "promise_kept_rate",
    "recovery_cost",
    "repeat_failure_rate",
    "time_in_limbo",
]

_PLACES = Decimal("0.0001")
# Touchpoints that are not the customer asking for help: answering a survey or leaving
# feedback is not a contact about the problem.
_NOT_CONTACTS = frozenset({TouchpointKind.SURVEY_ANSWER, TouchpointKind.FEEDBACK})


@attrs.frozen
class Rate:
    """A share: ``numerator`` of ``denominator``; ``value`` is ``None`` when nothing counted.

    Two rates over disjoint sets of cases add exactly (``a + b``).

    .. versionadded:: 0.1.0
    """

    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        """The share as a decimal fraction to four places, or ``None`` for 0 of 0."""
        if self.denominator == 0:
            return None
        return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(_PLACES)

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)

    def __str__(self) -> str:
        value = self.value
        shown = "n/a" if value is None else f"{value * 100:.1f}%"
        return f"{shown} ({self.numerator}/{self.denominator})"


# Upper bounds of the ratio histogram's bins (share of the value at stake). The 1.2 and
# 1.5 edges are the default policy's approval line and hard cap (Gelbrich et al.
# 2015; Haesevoets et al. 2017).
RATIO_BINS: tuple[Decimal, ...] = tuple(
    Decimal(b) for b in ("0", "0.25", "0.5", "0.75", "1.0", "1.2", "1.5")
)


@attrs.frozen
class RatioDistribution:
    """Compensation as a share of the value at stake, binned.

    ``counts[i]`` counts ratios ``r`` with ``RATIO_BINS[i-1] < r <= RATIO_BINS[i]``
    (``counts[0]``: exactly 0); the last count is above 1.5. ``above_1_2`` and
    ``above_1_5`` count ratios strictly above the approval line and the hard cap.

    .. versionadded:: 0.1.0
    """

    counts: tuple[int, ...] = (0,) * (len(RATIO_BINS) + 1)
    above_1_2: int = 0
    above_1_5: int = 0

    @property
    def total(self) -> int:
        """How many ratios were counted."""
        return sum(self.counts)

    @property
    def share_above_1_2(self) -> Rate:
        """The share of ratios above 1.2× the value at stake."""
        return Rate(self.above_1_2, self.total)

    @property
    def share_above_1_5(self) -> Rate:
        """The share of ratios above 1.5× the value at stake."""
        return Rate(self.above_1_5, self.total)

    def add(self, ratio: Decimal) -> RatioDistribution:
        """This distribution with one more ratio counted."""
        return self + RatioDistribution.of((ratio,))

    @staticmethod
    def of(ratios: Iterable[Decimal]) -> RatioDistribution:
        """The distribution of ``ratios``: each counted in the first bin whose upper
        bound it does not exceed (the last bin: above every bound).

        .. versionadded:: 0.2.0
        """
        counts = [0] * (len(RATIO_BINS) + 1)
        above_1_2 = above_1_5 = 0
        line, cap = RATIO_BINS[-2], RATIO_BINS[-1]
        for ratio in ratios:
            counts[bisect_left(RATIO_BINS, ratio)] += 1
            if ratio > line:
                above_1_2 += 1
                if ratio > cap:
                    above_1_5 += 1
        return RatioDistribution(tuple(counts), above_1_2, above_1_5)

    def __add__(self, other: RatioDistribution) -> RatioDistribution:
        return RatioDistribution(
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            self.above_1_2 + other.above_1_2,
            self.above_1_5 + other.above_1_5,
        )

    @staticmethod
    def labels() -> tuple[str, ...]:
        """A label for each bin: ``0``, ``0-0.25``, … ``>1.5``."""
        edges = [str(b) for b in RATIO_BINS]
        middle = (f"{lo}-{hi}" for lo, hi in itertools.pairwise(edges))
        return ("0", *middle, f">{edges[-1]}")


@attrs.frozen
class DurationSummary:
    """A distribution of durations: how many, the total, mean, median, 90th percentile, max.

    .. versionadded:: 0.1.0
    """

    count: int
    total: timedelta
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None
    max: timedelta | None


def _cases(cases: Iterable[Case]) -> Iterable[Case]:
    return items_of(cases, Case, "cases")


def _at(at: datetime | None) -> datetime | None:
    return optional_aware_arg(at, "at")


def _known(cases: Iterable[Case], at: datetime | None) -> Iterable[Case]:
    """The cases as they were known at ``at`` (all of them as they are, without one);
    a case opened after ``at`` is left out."""
    for case in _cases(cases):
        if at is None:
            yield case
        elif case.opened_at <= at:
            yield case.as_of(at)


def _answers(cases: Iterable[Case], metric: SurveyMetric) -> Iterable[tuple[Case, int]]:
    for case in _cases(cases):
        for tp in case.touchpoints:
            if tp.survey is not None and tp.survey.metric is metric:
                yield case, tp.survey.score


def nps(cases: Iterable[Case]) -> Decimal | None:
    """Net Promoter Score, at relationship level: one answer per customer, the latest.

    Promoters answer 9–10, detractors 0–6 (Reichheld 2003); NPS is the percentage of
    promoters minus the percentage of detractors, from -100 to 100, to two places.
    ``None`` when no customer answered. Each customer's latest NPS answer in the
    stream counts once: NPS describes a relationship, not a case (Keiningham et al.
    2007; Baehre et al. 2022), so it is not a per-case recovery objective.

    .. versionadded:: 0.1.0
    """
    latest: dict[str, tuple[datetime, int]] = {}
    for case in _cases(cases):
        for tp in case.touchpoints:
            if tp.survey is None or tp.survey.metric is not SurveyMetric.NPS:
                continue
            seen = latest.get(case.customer.id)
            if seen is None or tp.at >= seen[0]:
                latest[case.customer.id] = (tp.at, tp.survey.score)
    if not latest:
        return None
    promoters = sum(1 for _, score in latest.values() if score >= 9)
    detractors = sum(1 for _, score in latest.values() if score <= 6)
    return (Decimal(100 * (promoters - detractors)) / len(latest)).quantize(Decimal("0.01"))


def csat(cases: Iterable[Case]) -> Rate:
    """Customer satisfaction: the share of CSAT answers (1–5) that are 4 or 5.

    .. versionadded:: 0.1.0
    """
    top = total = 0
    for _, score in _answers(cases, SurveyMetric.CSAT):
        total += 1
        top += score >= 4
    return Rate(top, total)


def ces(cases: Iterable[Case]) -> Decimal | None:
    """Customer Effort Score: the mean CES answer (1–7, 7 = very easy), to two places.

    A case-level measure of effort, associated with loyalty (Dixon et al. 2010; vendor
    research, grade C). ``None`` when nobody answered.

    .. versionadded:: 0.1.0
    """
    total = count = 0
    for _, score in _answers(cases, SurveyMetric.CES):
        total += score
        count += 1
    if count == 0:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.01"))


def promise_kept_rate(cases: Iterable[Case], *, at: datetime | None = None) -> Rate:
    """Promises kept out of promises settled as kept or broken (withdrawn ones excluded).

    With ``at``, each case is taken as it was known then (:meth:`Case.as_of`; a case
    opened later is left out) and a pending promise past its due time counts as broken
    (as the engine sees it); without, pending promises are left out. A missed promise *is* a double
    deviation (Maxham & Netemeyer 2002).

    .. versionadded:: 0.1.0
    """
    at = _at(at)
    kept = counted = 0
    for case in _known(cases, at):
        for promise in case.promises:
            if promise.status is PromiseStatus.KEPT:
                kept += 1
                counted += 1
            elif promise.status is PromiseStatus.BROKEN or (
                at is not None and promise.is_overdue(at)
            ):
                counted += 1
    return Rate(kept, counted)


def _has_broken_promise(case: Case, at: datetime | None) -> bool:
    when = at if at is not None else case.last_event_at()
    return any(promise.is_broken(when) for promise in case.promises)


def double_deviation_rate(cases: Iterable[Case], *, at: datetime | None = None) -> Rate:
    """Failed recoveries out of recoveries attempted.

    A case attempted a recovery when it holds a promise or a grant; the recovery failed
    (a double deviation: the failure, then a failed recovery) when one of its promises
    is broken, or overdue at ``at`` (the case's last event when not given; with ``at``,
    each case as it was known then, a case opened later left out). The
    strongest driver of anger and betrayal (Grégoire & Fisher 2008; Joireman et al. 2013).

    .. versionadded:: 0.1.0
    """
    at = _at(at)
    failed = attempted = 0
    for case in _known(cases, at):
        if not case.promises and not case.grants:
            continue
        attempted += 1
        failed += _has_broken_promise(case, at)
    return Rate(failed, attempted)


def repeat_failure_rate(
    cases: Iterable[Case], *, window: timedelta = timedelta(days=90), same_category: bool = False
) -> Rate:
    """The share of cases whose customer had an earlier case opened within ``window``.

    With ``same_category``, only an earlier case of the same failure category counts.
    Recovery is less effective for similar or close-together failures, and the recovery
    paradox disappears after two (Maxham & Netemeyer 2002).

    .. versionadded:: 0.1.0
    """
    window = arg_of(window, timedelta, "window")
    repeats = total = 0
    for case in _cases(cases):
        total += 1
        repeats += any(
            case.opened_at - window <= prior.opened_at <= case.opened_at
            and (not same_category or prior.category == case.failure.category)
            for prior in case.prior_cases
        )
    return Rate(repeats, total)


def inbound_contacts(case: Case) -> tuple[Touchpoint, ...]:
    """The times the customer got in touch about the problem (inbound, not surveys).

    .. versionadded:: 0.1.0
    """
    return tuple(
        tp
        for tp in case.touchpoints
        if tp.direction is Direction.INBOUND and tp.kind not in _NOT_CONTACTS
    )


def first_contact_resolution(cases: Iterable[Case]) -> Rate:
    """The share of cases resolved at the customer's first contact.

    Counted over cases with at least one inbound contact; resolved at first contact
    when that first contact's outcome is ``resolved``. Repeat contacts are the effort
    that drives disloyalty (Dixon et al. 2010; grade C).

    .. versionadded:: 0.1.0
    """
    resolved = total = 0
    for case in _cases(cases):
        contacts = inbound_contacts(case)
        if not contacts:
            continue
        total += 1
        resolved += contacts[0].outcome is not None and contacts[0].outcome.value == "resolved"
    return Rate(resolved, total)


def contacts_per_resolution(cases: Iterable[Case]) -> Decimal | None:
    """Inbound contacts per resolved case: over resolved and closed cases, to two places.

    .. versionadded:: 0.1.0
    """
    contacts = resolved = 0
    for case in _cases(cases):
        if case.status is CaseStatus.OPEN:
            continue
        resolved += 1
        contacts += len(inbound_contacts(case))
    if resolved == 0:
        return None
    return (Decimal(contacts) / resolved).quantize(Decimal("0.01"))


def _limbo(case: Case, at: datetime | None) -> timedelta:
    end = case.resolved_at or case.closed_at
    if end is None:
        end = at if at is not None else case.last_event_at()
    since = case.opened_at
    total = timedelta(0)
    for tp in case.touchpoints:
        if tp.at >= end:
            break
        if tp.outcome is not None and tp.outcome.is_progress:
            total += tp.at - since
            since = tp.at
    return total + max(end - since, timedelta(0))


def time_in_limbo(cases: Iterable[Case], *, at: datetime | None = None) -> DurationSummary:
    """How long cases waited without progress (wall-clock time).

    A case is in limbo from its opening, or from its last touchpoint with a progress
    outcome (``resolved`` or ``progressed``), until the next such touchpoint, its
    resolution, or — while open — ``at`` (its last event when not given). Time beyond
    the tolerance zone raises compensation expectations and negative word of mouth
    (Hogreve et al. 2017). With ``at``, each case is taken as it was known then (a case
    opened later is left out). The engine's own ``limbo_hours`` fact counts business time;
    this metric counts wall-clock time, so it needs no policy.

    .. versionadded:: 0.1.0
    """
    at = _at(at)
    values = sorted(_limbo(case, at) for case in _known(cases, at))
    if not values:
        return DurationSummary(0, timedelta(0), None, None, None, None)
    total = sum(values, timedelta(0))
    n = len(values)
    middle = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    p90 = values[min(n - 1, -(-9 * n // 10) - 1)]
    return DurationSummary(n, total, total / n, middle, p90, values[-1])


def compensation_ratio_distribution(plans: Iterable[RecoveryPlan]) -> RatioDistribution:
    """Compensation as a share of the value at stake, over the plans' ``compensate`` actions.

    Shares above 1.2× are where returns diminish (Gelbrich et al. 2015); above 1.5×
    over-compensation backfires (Haesevoets et al. 2017).

    .. versionadded:: 0.1.0
    """
    distribution = RatioDistribution()
    for plan in items_of(plans, RecoveryPlan, "plans"):
        for action in plan.actions:
            if action.kind is ActionKind.COMPENSATE and action.ratio is not None:
                distribution = distribution.add(action.ratio)
    return distribution


@attrs.frozen
class RecoveryCost:
    """What plans cost, per currency, exactly: ``goodwill`` sums their compensation
    (``compensate`` actions, bound by empowerment limits); ``owed`` sums the money owed
    back (``repay`` actions: a charge made in error, a refund of what was paid for),
    which is the customer's own money, never part of the goodwill cost.

    .. versionadded:: 0.2.0
    """

    goodwill: Mapping[str, Decimal]
    owed: Mapping[str, Decimal]


def recovery_cost(plans: Iterable[RecoveryPlan]) -> RecoveryCost:
    """The goodwill and the money owed back that ``plans`` propose, apart, per currency.

    .. versionadded:: 0.2.0
    """
    goodwill: dict[str, Decimal] = {}
    owed: dict[str, Decimal] = {}
    for plan in items_of(plans, RecoveryPlan, "plans"):
        for action in plan.actions:
            if action.amount is None:
                continue
            if action.kind is ActionKind.COMPENSATE:
                totals = goodwill
            elif action.kind is ActionKind.REPAY:
                totals = owed
            else:
                continue
            currency = action.amount.currency
            totals[currency] = totals.get(currency, Decimal(0)) + action.amount.amount
    return RecoveryCost(dict(sorted(goodwill.items())), dict(sorted(owed.items())))
