"""Metrics against hand-computed values on small fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import metrics
from cxrecovery.model import (
    Case,
    CaseStatus,
    Channel,
    Customer,
    Direction,
    Failure,
    Fault,
    Outcome,
    PriorCase,
    Promise,
    PromiseStatus,
    Severity,
    SurveyAnswer,
    SurveyMetric,
    Touchpoint,
    TouchpointKind,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _case(ident: str, *, customer: str = "c1", **kwargs: object) -> Case:
    return Case(
        ident,
        Customer(customer),
        Failure("late_delivery", Severity.MEDIUM, Fault.COMPANY, service_usable=True),
        T0,
        **kwargs,  # type: ignore[arg-type]
    )


def _survey(at: datetime, metric: SurveyMetric, score: int) -> Touchpoint:
    return Touchpoint(
        at, Channel.EMAIL, TouchpointKind.SURVEY_ANSWER, survey=SurveyAnswer(metric, score)
    )


def _contact(at: datetime, outcome: Outcome | None = None, **kwargs: object) -> Touchpoint:
    return Touchpoint(at, Channel.PHONE, TouchpointKind.CONTACT, outcome=outcome, **kwargs)  # type: ignore[arg-type]


def test_nps_counts_each_customers_latest_answer_once() -> None:
    cases = [
        # c1 answered 3 then 10: only the 10 counts (promoter).
        _case("a", customer="c1", touchpoints=[_survey(T0, SurveyMetric.NPS, 3)]),
        _case("b", customer="c1", touchpoints=[_survey(T0 + H, SurveyMetric.NPS, 10)]),
        _case("c", customer="c2", touchpoints=[_survey(T0, SurveyMetric.NPS, 7)]),  # passive
        _case("d", customer="c3", touchpoints=[_survey(T0, SurveyMetric.NPS, 6)]),  # detractor
        _case("e", customer="c4", touchpoints=[_survey(T0, SurveyMetric.CSAT, 5)]),
    ]
    # 1 promoter, 1 detractor of 3 customers: 0.
    assert Decimal("0.00") == metrics.nps(cases)
    # The same customer twice counts once: 1 promoter of 2 customers.
    assert Decimal("50.00") == metrics.nps([cases[1], cases[2], cases[2]])


def test_nps_is_none_without_answers() -> None:
    assert metrics.nps([_case("a")]) is None


def test_csat_is_the_share_of_fours_and_fives() -> None:
    tps = [_survey(T0, SurveyMetric.CSAT, s) for s in (5, 4, 3, 1)]
    assert metrics.Rate(2, 4) == metrics.csat([_case("a", touchpoints=tps)])
    assert Decimal("0.5000") == metrics.csat([_case("a", touchpoints=tps)]).value


def test_ces_is_the_mean_answer() -> None:
    tps = [_survey(T0, SurveyMetric.CES, s) for s in (7, 5, 2)]
    assert Decimal("4.67") == metrics.ces([_case("a", touchpoints=tps)])
    assert metrics.ces([]) is None


def _promise(ident: str, status: PromiseStatus, due_hours: int = 2) -> Promise:
    settled = None if status is PromiseStatus.PENDING else T0 + 3 * H
    return Promise(ident, "call back", T0, T0 + due_hours * H, status=status, settled_at=settled)


def test_promise_kept_rate_counts_kept_and_broken_and_overdue_only_with_at() -> None:
    case = _case(
        "a",
        promises=[
            _promise("p1", PromiseStatus.KEPT),
            _promise("p2", PromiseStatus.KEPT),
            _promise("p3", PromiseStatus.BROKEN),
            _promise("p4", PromiseStatus.WITHDRAWN),
            _promise("p5", PromiseStatus.PENDING, due_hours=1),
        ],
    )
    assert metrics.Rate(2, 3) == metrics.promise_kept_rate([case])
    assert metrics.Rate(2, 4) == metrics.promise_kept_rate([case], at=T0 + 5 * H)


def test_double_deviation_rate_is_failed_recoveries_over_attempts() -> None:
    cases = [
        _case("none"),  # no recovery attempted: not counted
        _case("kept", promises=[_promise("p", PromiseStatus.KEPT)]),
        _case("broken", promises=[_promise("p", PromiseStatus.BROKEN)]),
        _case(
            "overdue",
            promises=[_promise("p", PromiseStatus.PENDING, due_hours=1)],
            touchpoints=[_contact(T0 + 2 * H)],
        ),
    ]
    assert metrics.Rate(2, 3) == metrics.double_deviation_rate(cases)


def test_repeat_failure_rate_looks_back_over_the_window() -> None:
    def prior(days: int, category: str = "late_delivery") -> PriorCase:
        return PriorCase(f"p{days}", T0 - timedelta(days=days), category, Severity.LOW)

    cases = [
        _case("a", prior_cases=[prior(10)]),
        _case("b", prior_cases=[prior(200)]),
        _case("c", prior_cases=[prior(5, "billing_error")]),
        _case("d"),
    ]
    assert metrics.Rate(2, 4) == metrics.repeat_failure_rate(cases)
    assert metrics.Rate(1, 4) == metrics.repeat_failure_rate(cases, same_category=True)
    assert metrics.Rate(3, 4) == metrics.repeat_failure_rate(cases, window=timedelta(days=365))


def test_first_contact_resolution_reads_the_first_inbound_contact() -> None:
    outbound = _contact(T0, Outcome.PROGRESSED, direction=Direction.OUTBOUND)
    cases = [
        _case("a", touchpoints=[_contact(T0, Outcome.RESOLVED)]),
        _case("b", touchpoints=[outbound, _contact(T0 + H, Outcome.RESOLVED)]),
        _case(
            "c",
            touchpoints=[_contact(T0, Outcome.NO_PROGRESS), _contact(T0 + H, Outcome.RESOLVED)],
        ),
        _case("d", touchpoints=[_survey(T0, SurveyMetric.CES, 3)]),  # no contact: not counted
    ]
    assert metrics.Rate(2, 3) == metrics.first_contact_resolution(cases)


def test_contacts_per_resolution_over_resolved_cases() -> None:
    resolved = _case(
        "a",
        status=CaseStatus.RESOLVED,
        resolved_at=T0 + 2 * H,
        touchpoints=[_contact(T0), _contact(T0 + H), _survey(T0 + 2 * H, SurveyMetric.CES, 6)],
    )
    single = _case("b", status=CaseStatus.RESOLVED, resolved_at=T0, touchpoints=[_contact(T0)])
    still_open = _case("c", touchpoints=[_contact(T0)] * 1)
    assert Decimal("1.50") == metrics.contacts_per_resolution([resolved, single, still_open])
    assert metrics.contacts_per_resolution([still_open]) is None


def test_time_in_limbo_sums_the_stretches_without_progress() -> None:
    # Opened at T0; progress at +3h; nothing until resolved at +10h: 3h + 7h = 10h.
    a = _case(
        "a",
        status=CaseStatus.RESOLVED,
        resolved_at=T0 + 10 * H,
        touchpoints=[
            _contact(T0 + H, Outcome.NO_PROGRESS),
            _contact(T0 + 3 * H, Outcome.PROGRESSED),
        ],
    )
    # Open, progress at +1h, seen at +5h: 1h + 4h.
    b = _case("b", touchpoints=[_contact(T0 + H, Outcome.PROGRESSED)])
    # As known at +5h, "a" is not resolved yet: 3h + 2h; "b": 1h + 4h.
    summary = metrics.time_in_limbo([a, b], at=T0 + 5 * H)
    assert 2 == summary.count
    assert 10 * H == summary.total
    assert 5 * H == summary.median
    assert 5 * H == summary.max
    # As they stand: "a" resolved at +10h, 3h + 7h; "b" seen last at +1h, 1h.
    summary = metrics.time_in_limbo([a, b])
    assert 11 * H == summary.total
    assert 10 * H == summary.max


def test_ratio_distribution_bins_and_counts_above_the_lines() -> None:
    dist = metrics.RatioDistribution()
    for r in ("0", "0.25", "0.3", "1.2", "1.21", "1.5", "1.6"):
        dist = dist.add(Decimal(r))
    assert (1, 1, 1, 0, 0, 1, 2, 1) == dist.counts
    assert 3 == dist.above_1_2
    assert 1 == dist.above_1_5
    assert metrics.Rate(1, 7) == dist.share_above_1_5
    assert len(dist.counts) == len(metrics.RatioDistribution.labels())


def _binned_one_by_one(ratios: list[Decimal]) -> tuple[list[int], int, int]:
    """The histogram's rule written out: the first bin whose bound a ratio does not
    exceed (else the last), and the counts above the approval line and the cap."""
    counts = [0] * (len(metrics.RATIO_BINS) + 1)
    for ratio in ratios:
        index = next(
            (i for i, bound in enumerate(metrics.RATIO_BINS) if ratio <= bound),
            len(metrics.RATIO_BINS),
        )
        counts[index] += 1
    above = (sum(r > Decimal("1.2") for r in ratios), sum(r > Decimal("1.5") for r in ratios))
    return counts, *above


@given(
    st.lists(st.decimals(min_value=0, max_value=3, places=3)),
    st.lists(st.decimals(min_value=0, max_value=3, places=2)),
)
def test_a_distribution_of_many_ratios_counts_each_as_adding_it_does(
    first: list[Decimal], second: list[Decimal]
) -> None:
    # Every bound itself too: a ratio on a bound counts in that bound's bin.
    first += list(metrics.RATIO_BINS)
    counts, above_1_2, above_1_5 = _binned_one_by_one(first + second)
    both = metrics.RatioDistribution.of(first) + metrics.RatioDistribution.of(second)
    assert (tuple(counts), above_1_2, above_1_5) == (both.counts, both.above_1_2, both.above_1_5)
    one_by_one = metrics.RatioDistribution()
    for ratio in first + second:
        one_by_one = one_by_one.add(ratio)
    assert one_by_one == both


def test_rates_add_exactly_and_show_as_percentages() -> None:
    assert metrics.Rate(3, 5) == metrics.Rate(1, 2) + metrics.Rate(2, 3)
    assert "60.0% (3/5)" == str(metrics.Rate(3, 5))
    assert metrics.Rate(0, 0).value is None
