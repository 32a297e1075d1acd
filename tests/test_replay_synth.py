"""The synthetic history generator: deterministic, valid, round-trips, varied."""

from __future__ import annotations

import pytest

from cxrecovery.documents import dump, load_case
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import CaseStatus, PromiseStatus
from cxrecovery.replay import synthetic_cases


def test_same_seed_gives_the_same_cases() -> None:
    assert list(synthetic_cases(50, seed=7)) == list(synthetic_cases(50, seed=7))


def test_different_seeds_give_different_cases() -> None:
    assert list(synthetic_cases(20, seed=1)) != list(synthetic_cases(20, seed=2))


def test_a_case_depends_only_on_seed_and_index() -> None:
    whole = list(synthetic_cases(30, seed=4))
    assert whole[10:] == list(synthetic_cases(20, seed=4, first=10))


def test_cases_round_trip_through_their_documents() -> None:
    for case in synthetic_cases(300, seed=11):
        assert case == load_case(dump(case))


def test_history_mixes_segments_statuses_and_promise_outcomes() -> None:
    cases = list(synthetic_cases(500, seed=3))
    assert {"standard", "member", "gold", "business"} == {c.customer.segment for c in cases}
    assert set(CaseStatus) == {c.status for c in cases}
    statuses = {p.status for c in cases for p in c.promises}
    assert {PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.PENDING} <= statuses
    assert any(c.prior_cases for c in cases)
    assert any(tp.survey is not None for c in cases for tp in c.touchpoints)
    assert len({c.failure.category for c in cases}) >= 6


@pytest.mark.parametrize("count", [-1, 1.5, True])
def test_a_bad_count_is_refused(count: object) -> None:
    with pytest.raises(InvalidValueError, match="count"):
        list(synthetic_cases(count))  # type: ignore[arg-type]
