from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from _times import recorded_times
from cxrecovery import (
    Case,
    CaseStatus,
    Channel,
    Customer,
    ExpectationBaseline,
    Failure,
    Fault,
    Grant,
    InvalidValueError,
    Money,
    Pause,
    Promise,
    PromiseStatus,
    Role,
    Sentiment,
    Severity,
    SurveyAnswer,
    SurveyMetric,
    Touchpoint,
    TouchpointKind,
    UnknownTimeZoneError,
    _validation,
)
from cxrecovery.model import Attributes, _values

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def a_case(**changes: object) -> Case:
    base: dict[str, object] = {
        "id": "case-1",
        "customer": Customer("c-1"),
        "failure": Failure("late_delivery", Severity.MEDIUM, Fault.COMPANY, service_usable=True),
        "opened_at": T0,
    }
    base.update(changes)
    return Case(**base)  # type: ignore[arg-type]


def test_severity_orders_by_meaning_not_alphabet() -> None:
    assert Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert max([Severity.CRITICAL, Severity.HIGH]) is Severity.CRITICAL
    assert sorted(Severity, reverse=True)[0] is Severity.CRITICAL


def test_sentiment_scores() -> None:
    assert -2 == Sentiment.VERY_NEGATIVE.score
    assert 2 == Sentiment.VERY_POSITIVE.score
    assert Sentiment.NEGATIVE < Sentiment.NEUTRAL


def test_enum_fields_take_their_string_values() -> None:
    failure = Failure("x", "high", "third_party", service_usable=False)  # type: ignore[arg-type]
    assert Severity.HIGH is failure.severity
    assert Fault.THIRD_PARTY is failure.fault


def test_unknown_enum_value_names_the_field_and_suggests() -> None:
    with pytest.raises(InvalidValueError, match=r"severity: 'hgih' is not one of .*'high'"):
        Failure("x", "hgih", "company", service_usable=True)  # type: ignore[arg-type]


def test_naive_datetime_is_refused_with_the_field_name() -> None:
    with pytest.raises(InvalidValueError, match="at: naive datetime"):
        Touchpoint(datetime(2026, 1, 5, 10), Channel.PHONE, TouchpointKind.CONTACT)


def test_survey_answer_must_fit_its_scale() -> None:
    assert 10 == SurveyAnswer(SurveyMetric.NPS, 10).score
    with pytest.raises(InvalidValueError, match="outside the csat scale 1–5"):
        SurveyAnswer(SurveyMetric.CSAT, 0)
    with pytest.raises(InvalidValueError, match="score"):
        SurveyAnswer(SurveyMetric.CES, True)
    # Too long for Python to write out in the message: named by its size, not a ValueError.
    with pytest.raises(InvalidValueError, match=r"score: a whole number of more than \d+ digits"):
        SurveyAnswer(SurveyMetric.NPS, 10**5000)


def test_survey_touchpoint_needs_its_answer() -> None:
    with pytest.raises(InvalidValueError, match="survey"):
        Touchpoint(T0, Channel.EMAIL, TouchpointKind.SURVEY_ANSWER)


def test_negative_wait_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="wait"):
        Touchpoint(T0, Channel.PHONE, TouchpointKind.CONTACT, wait=timedelta(seconds=-1))


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UnknownTimeZoneError, match="time_zone: 'Mars/Olympus'"):
        Customer("c", time_zone="Mars/Olympus")


def test_segment_must_be_a_lower_case_name() -> None:
    with pytest.raises(InvalidValueError, match="segment"):
        Customer("c", segment="Gold Members")


def test_ids_must_not_be_blank() -> None:
    with pytest.raises(InvalidValueError, match="id"):
        Customer(" ")


def test_attributes_are_immutable_hashable_and_scalar_only() -> None:
    customer = Customer("c", attributes={"store": "Leeds", "vip": True})
    assert "Leeds" == customer.attributes["store"]
    assert hash(customer) == hash(Customer("c", attributes={"vip": True, "store": "Leeds"}))
    with pytest.raises(InvalidValueError, match=r"attributes\.score: 1\.5 is a float"):
        Attributes({"score": 1.5})  # type: ignore[dict-item]
    # A number no repr, message or JSON document could write out is refused on the way in.
    with pytest.raises(InvalidValueError, match=r"attributes\.n: a whole number of more than"):
        Attributes({"n": -(10**5000)})
    assert 10**20 == Attributes({"n": 10**20})["n"]
    with pytest.raises(KeyError):
        customer.attributes["missing"]


def test_expectation_baseline_ratio_is_a_non_negative_decimal() -> None:
    assert Decimal("1.0") == ExpectationBaseline(compensation_ratio="1.0").compensation_ratio  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="compensation_ratio"):
        ExpectationBaseline(compensation_ratio=Decimal("-0.1"))


def test_failure_value_at_stake_is_not_negative() -> None:
    with pytest.raises(InvalidValueError, match="value_at_stake"):
        Failure("x", "low", "company", value_at_stake=Money("-1", "EUR"), service_usable=True)  # type: ignore[arg-type]


def test_role_rank_is_zero_or_more() -> None:
    assert 0 == Role("front_line", 0).rank
    with pytest.raises(InvalidValueError, match="rank"):
        Role("x", -1)


class TestPromise:
    def test_due_before_made_is_refused(self) -> None:
        with pytest.raises(InvalidValueError, match=r"due: .* is before made_at"):
            Promise("p", "call back", at(2), at(1))

    def test_settled_needs_settled_at_and_pending_has_none(self) -> None:
        with pytest.raises(InvalidValueError, match="settled_at: a kept promise needs"):
            Promise("p", "x", at(0), at(1), status=PromiseStatus.KEPT)
        with pytest.raises(InvalidValueError, match="settled_at: a pending promise"):
            Promise("p", "x", at(0), at(1), settled_at=at(1))

    def test_overdue_and_broken(self) -> None:
        promise = Promise("p", "call back", at(0), at(1))
        assert not promise.is_overdue(at(1))
        assert promise.is_overdue(at(1.01))
        assert promise.is_broken(at(2))
        kept = attrs.evolve(promise, status=PromiseStatus.KEPT, settled_at=at(0.5))
        assert not kept.is_broken(at(5))


class TestCaseConsistency:
    def test_touchpoint_before_the_case_opened_is_refused(self) -> None:
        early = Touchpoint(at(-1), Channel.PHONE, TouchpointKind.CONTACT)
        with pytest.raises(InvalidValueError, match=r"touchpoints\[0\]\.at: touchpoint .* before"):
            a_case(touchpoints=(early,))

    def test_touchpoints_must_be_in_time_order(self) -> None:
        one = Touchpoint(at(2), Channel.PHONE, TouchpointKind.CONTACT)
        two = Touchpoint(at(1), Channel.PHONE, TouchpointKind.CONTACT)
        with pytest.raises(InvalidValueError, match=r"touchpoints\[1\]\.at: .* time order"):
            a_case(touchpoints=[one, two])

    def test_all_problems_are_reported_at_once(self) -> None:
        promise = Promise("p", "x", at(-2), at(1))
        with pytest.raises(InvalidValueError) as caught:
            a_case(
                promises=(promise, promise),
                status=CaseStatus.CLOSED,
            )
        paths = {p.path for p in caught.value.problems}
        assert {
            "promises[0].made_at",
            "promises[1].made_at",
            "promises[1].id",
            "closed_at",
        } <= paths

    def test_same_reason_pauses_may_not_overlap(self) -> None:
        first = Pause("waiting_on_customer", at(1), ended_at=at(3))
        second = Pause("waiting_on_customer", at(2), ended_at=at(4))
        with pytest.raises(InvalidValueError, match=r"pauses\[1\]\.started_at: overlaps"):
            a_case(pauses=(first, second))
        other = Pause("waiting_on_third_party", at(2), ended_at=at(4))
        assert 2 == len(a_case(pauses=(first, other)).pauses)

    def test_status_and_its_timestamps_agree(self) -> None:
        with pytest.raises(InvalidValueError, match="resolved_at: a resolved case needs"):
            a_case(status=CaseStatus.RESOLVED)
        with pytest.raises(InvalidValueError, match="status: an open case"):
            a_case(closed_at=at(3))
        closed = a_case(status=CaseStatus.CLOSED, closed_at=at(3))
        assert closed.is_closed

    def test_lists_become_tuples_and_cases_hash(self) -> None:
        tp = Touchpoint(at(1), Channel.PHONE, TouchpointKind.CONTACT)
        case = a_case(touchpoints=[tp])
        assert (tp,) == case.touchpoints
        assert hash(case) == hash(a_case(touchpoints=(tp,)))

    def test_wrong_item_type_names_the_index(self) -> None:
        with pytest.raises(InvalidValueError, match=r"promises\[0\]: 'p' is not a Promise"):
            a_case(promises=("p",))


# --- validators written as one expression ------------------------------------------------

_SAMPLES: list[object] = [None, "", "a", " a", "a ", "late_delivery", "Late", "a-b.c", 3, True]
_SAMPLES += [timedelta(0), timedelta(minutes=-1), timedelta(hours=2), Money("1.00", "EUR")]
_SAMPLES += [Money("-1.00", "EUR"), Money("0", "EUR"), "Europe/Paris", "UTC", "Mars/Olympus"]


@pytest.mark.parametrize(
    "check",
    [
        _validation.identifier,
        _validation.optional_identifier,
        _validation.slug,
        _validation.optional_slug,
        _validation.non_negative_duration,
        _values._time_zone,
    ],
)
def test_a_validator_made_of_an_expression_passes_exactly_what_it_says(check: Any) -> None:
    # The generated document readers test the expression in line and call the validator
    # only when it is false: the two must agree on every value.
    found = _validation.passing_test(check)
    assert found is not None
    test, names = found
    field = attrs.fields(Touchpoint).agent
    for value in _SAMPLES:
        try:
            check(None, field, value)
            passed = True
        except InvalidValueError:
            passed = False
        assert bool(eval(test.format(v="value"), {**names, "value": value})) is passed, value


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (
            lambda m: Failure("x", "low", "company", service_usable=True, value_at_stake=m),
            "value_at_stake",
        ),
        (
            lambda m: Failure("x", "low", "company", service_usable=True, wrongly_charged=m),
            "wrongly_charged",
        ),
        (lambda m: Grant("g-1", "voucher", datetime(2026, 1, 5, tzinfo=UTC), amount=m), "amount"),
    ],
)
def test_negative_money_is_refused_with_its_field(make: Any, path: str) -> None:
    assert make(Money("0.00", "EUR")) == make(Money("0", "EUR"))
    with pytest.raises(InvalidValueError) as caught:
        make(Money("-1.50", "EUR"))
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (path, "-1.50 EUR is negative")
    ]
    with pytest.raises(InvalidValueError, match="is not a Money"):
        make("-1.50")


_ZONES = (UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)))
# Around 2026-11-01 05:00 UTC: New York's fold (01:00-02:00 twice), where times in its
# zone compare by wall clock and times across zones by instant.
_NEW_YORK = ZoneInfo("America/New_York")
_FOLD = datetime(2026, 11, 1, 4, 30, tzinfo=UTC)


def _in_fold(minutes: int, zone: tzinfo | None) -> datetime:
    when = _FOLD + timedelta(minutes=minutes)
    return when.astimezone(_NEW_YORK if zone is None else zone)


@given(
    st.lists(
        st.tuples(st.integers(0, 12).map(lambda q: q * 10), st.sampled_from((*_ZONES, None))),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(0, 4), max_size=2),
)
# The same instant in UTC and in New York's fold: never equal across zones (PEP 495).
@example([(0, UTC), (30, UTC), (30, None)], [])
def test_last_event_at_is_what_max_makes_of_every_time(
    times: list[tuple[int, tzinfo | None]], grants: list[int]
) -> None:
    # Equal instants in other zones, and New York's fold mixed with them (None draws a
    # time there): the answer is what max() makes of every time, the same object.
    opened, *rest = [_in_fold(m, zone) for m, zone in times]
    touchpoints = []
    for when in rest:  # kept in time order as the case checks it: no time before the last
        if when >= opened and (not touchpoints or when >= touchpoints[-1]):
            touchpoints.append(when)
    case = Case(
        "c-1",
        Customer("u-1"),
        Failure("x", "low", "company", service_usable=True),
        opened,
        touchpoints=tuple(
            Touchpoint(t, Channel.EMAIL, TouchpointKind.CONTACT) for t in touchpoints
        ),
        grants=tuple(
            Grant(f"g-{i}", "voucher", _in_fold(120 + 30 * h, _ZONES[i % 3]))
            for i, h in enumerate(grants)
        ),
    )
    assert case.last_event_at() is max(recorded_times(case))


def test_last_event_at_of_synthetic_cases_is_the_plain_max() -> None:
    from cxrecovery import synthetic_cases

    for case in synthetic_cases(300, seed=5):
        assert case.last_event_at() is max(recorded_times(case))


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, ZoneInfo("America/New_York")]),
    )
)
def test_local_time_is_the_same_instant_on_the_cases_clock(when: datetime) -> None:
    opened = datetime(2026, 3, 2, 10, 15, tzinfo=timezone(timedelta(hours=-5)))
    plain = a_case(opened_at=opened)
    local = plain.local_time(when)
    # the same instant (compared in UTC: PEP 495 makes a time in a gap or a fold unequal
    # to any time in another zone)
    assert local.astimezone(UTC) == when.astimezone(UTC)
    assert timedelta(hours=-5) == local.utcoffset()  # the offset the case opened with
    london = a_case(opened_at=opened, customer=Customer("c-1", time_zone="Europe/London"))
    shown = london.local_time(when)
    assert shown.astimezone(UTC) == when.astimezone(UTC)
    assert ZoneInfo("Europe/London").utcoffset(shown.replace(tzinfo=None)) == shown.utcoffset()


def test_local_time_follows_the_customers_clock_changes() -> None:
    case = a_case(customer=Customer("c-1", time_zone="Europe/London"))
    assert (
        "2026-03-02T10:15:00+00:00"
        == case.local_time(datetime(2026, 3, 2, 10, 15, tzinfo=UTC)).isoformat()
    )
    assert (
        "2026-04-01T14:00:00+01:00"
        == case.local_time(datetime(2026, 4, 1, 13, 0, tzinfo=UTC)).isoformat()
    )


@pytest.mark.parametrize("zone", [None, "America/New_York"])
def test_a_time_the_cases_clock_cannot_show_is_refused_with_its_name(zone: str | None) -> None:
    case = a_case(
        opened_at=datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=-5))),
        customer=Customer("c-1", time_zone=zone),
    )
    with pytest.raises(InvalidValueError, match="cannot be shown"):
        case.local_time(datetime(1, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidValueError, match="when: naive datetime"):
        case.local_time(datetime(2026, 3, 2, 10))


_SCALAR_VALUES = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=5)


@given(st.dictionaries(st.text(min_size=1, max_size=6), _SCALAR_VALUES, max_size=8))
def test_attributes_from_sorted_pairs_are_the_attributes_of_the_mapping(
    items: dict[str, Any],
) -> None:
    """The engine's maker of Attributes (sorted pairs set on a twin of the class, no
    ``__init__``) gives the value the checked constructor gives: equal, same hash,
    repr, class, pickle and items, and still frozen."""
    made = Attributes._from_sorted(tuple(sorted(items.items())))
    plain = Attributes(items)
    assert type(made) is Attributes
    assert made == plain
    assert hash(made) == hash(plain)
    assert repr(made) == repr(plain)
    assert pickle.dumps(made) == pickle.dumps(plain)
    assert dict(made) == items
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made._items = ()  # type: ignore[misc]
