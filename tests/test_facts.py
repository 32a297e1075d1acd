"""Deriving the built-in facts: the recency score and relationship health."""

from __future__ import annotations

import pickle
from datetime import timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_UP, Decimal, localcontext
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxrecovery import Case, Engine, default_policy, synthetic_cases
from cxrecovery.facts import (
    BUILTIN_FACTS,
    Timeline,
    derive_facts,
    derive_facts_but_limbo,
    limbo_hours,
)
from cxrecovery.facts._derive import (
    _UNCOUNTED,
    _case_facts,
    _health,
    _history_facts,
    _promise_facts,
    _touchpoint_facts,
)
from cxrecovery.facts._score import _recency_score
from cxrecovery.testing.strategies import cases


def _events(values: list[int]) -> list[int]:
    """The scores of events of ``values``, in time order (what the score and the health
    read of the events)."""
    return list(values)


@given(
    st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=1, max_size=12),
    st.sampled_from(["0.5", "0.25", "0.8", "1", "0.1"]),
)
def test_recency_score_is_the_weighted_mean_latest_first(values: list[int], decay: str) -> None:
    # Few events and a short decay: no step of the Decimal loop rounds, so the score is
    # the exact weighted mean (the latest weighs 1, the one before decay, ...) rounded.
    d = Fraction(decay)
    weights = [d**j for j in range(len(values))]
    exact = sum(w * v for w, v in zip(weights, reversed(values), strict=True)) / sum(weights)
    expected = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"))
    assert expected == _recency_score(_events(values), Decimal(decay))


def _stepwise(values: list[int], decay: Decimal) -> Decimal:
    """The score's definition, step by step in the current context: weight × value
    summed latest first over the sum of the weights."""
    weighing, summed, weighed = Decimal(1), Decimal(0), Decimal(0)
    for value in reversed(values):
        summed += weighing * value
        weighed += weighing
        weighing *= decay
    return (summed / weighed).quantize(Decimal("0.01"))


@given(
    st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=1, max_size=60),
    st.decimals(min_value=0, max_value=1, places=6),
    st.integers(3, 28),
    st.sampled_from([ROUND_HALF_EVEN, ROUND_FLOOR, ROUND_UP]),
)
def test_recency_score_takes_each_step_in_the_context(
    values: list[int], decay: Decimal, precision: int, rounding: str
) -> None:
    # Long histories and long decays round at some steps: the score is the definition's,
    # step for step, whatever the context (the weights are kept per context).
    with localcontext() as context:
        context.prec = precision
        context.rounding = rounding
        assert str(_stepwise(values, decay)) == str(_recency_score(_events(values), decay))


def test_recency_score_of_nothing_is_zero_and_follows_the_context() -> None:
    assert Decimal(0) == _recency_score([], Decimal("0.5"))
    # -1 then +1 with decay 1/3: (1 - 1/3) / (4/3) = 0.5; the context rounds each step.
    events = _events([-1, 1])
    assert Decimal("0.50") == _recency_score(events, Decimal(1) / Decimal(3))
    with localcontext() as context:
        context.prec = 3
        assert Decimal("0.50") == _recency_score(events, Decimal("0.333"))


def test_health_bands_and_a_negative_last_word() -> None:
    assert "at_risk" == _health(Decimal("-0.76"), _events([-2]))
    assert "fragile" == _health(Decimal("-0.75"), _events([1]))
    assert "stable" == _health(Decimal("0.25"), _events([1]))
    assert "strong" == _health(Decimal("1.25"), _events([1]))
    # The last word was negative: never better than fragile, whatever the score.
    assert "fragile" == _health(Decimal("0.30"), _events([2, -1]))
    assert "fragile" == _health(Decimal("1.50"), _events([2, -1]))
    assert "at_risk" == _health(Decimal("-1"), _events([2, -1]))
    assert "strong" == _health(Decimal(0) + 2, [])


@settings(max_examples=40)
@given(cases(policy=default_policy()), st.integers(0, 400))
def test_derive_facts_is_the_facts_but_limbo_and_limbo_hours(case: Case, hours: int) -> None:
    at = case.last_event_at() + timedelta(hours=hours)
    settings_ = Engine(default_policy())._settings
    facts, timeline = derive_facts(case, at, settings_)
    lean, lean_timeline = derive_facts_but_limbo(case, at, settings_)
    assert timeline == lean_timeline
    assert list(facts) == list(lean)
    assert lean["limbo_hours"] is None
    lean["limbo_hours"] = limbo_hours(lean_timeline, at, settings_)
    assert facts == lean
    assert str(facts["limbo_hours"]) == str(lean["limbo_hours"])


def test_the_timeline_is_a_frozen_timeline_like_any_other() -> None:
    case = next(iter(synthetic_cases(1, seed=3)))
    at = case.last_event_at() + timedelta(hours=1)
    _, timeline = derive_facts_but_limbo(case, at, Engine(default_policy())._settings)
    plain = Timeline(timeline.promise_due, timeline.window_exits, timeline.last_progress)
    assert type(timeline) is Timeline
    assert timeline == plain
    assert hash(timeline) == hash(plain)
    assert repr(timeline) == repr(plain)
    assert pickle.loads(pickle.dumps(timeline)) == plain
    assert attrs.evolve(timeline) == plain
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        timeline.last_progress = at  # type: ignore[misc]


@settings(max_examples=60)
@given(
    cases(policy=default_policy()),
    st.integers(-48, 400),
    st.booleans(),
    st.booleans(),
)
def test_each_group_of_facts_is_what_its_own_steps_give(
    case: Case, hours: int, no_promises: bool, no_history: bool
) -> None:
    """derive_facts skips the promises' and the history's steps for a case with nothing
    for them (the facts a blank dict holds for such a case): the same facts and
    timeline as every step run in turn, for drawn cases with and without promises,
    prior cases and grants, at times before and after their last event."""
    at = max(case.opened_at, case.last_event_at() + timedelta(hours=hours))
    if no_promises:
        case = attrs.evolve(case, promises=())
    if no_history:
        case = attrs.evolve(case, prior_cases=(), grants=())
    settings_ = Engine(default_policy())._settings
    found, timeline = derive_facts_but_limbo(case, at, settings_)

    facts: dict[str, object] = dict.fromkeys(BUILTIN_FACTS)
    facts.update(_UNCOUNTED)  # the counts' and flags' places, as nothing counted
    _case_facts(facts, case)
    touchpoints = tuple(tp for tp in case.touchpoints if tp.at <= at)
    progress_at, moods = _touchpoint_facts(facts, touchpoints, case, settings_)
    events, due_ahead = _promise_facts(facts, case, at, moods)
    exits = _history_facts(facts, case, at, settings_)
    score = facts["relationship_score"] = _recency_score(events[1], settings_.recency_decay)
    facts["relationship_health"] = _health(score, events[1])
    assert list(found) == list(facts)
    assert found == facts
    assert {n: type(v) for n, v in found.items()} == {n: type(v) for n, v in facts.items()}
    assert timeline == Timeline(
        tuple(sorted(due_ahead)), tuple(sorted(t for t in exits if t >= at)), progress_at
    )
