"""A case taken as of an instant once: a sweep's and a replay's decisions are decide()'s.

(And a sweep reads a clock's fired warnings from the decision's instants as it reads
them from the state shown: folds included.)

A sweep and a replay take each case as of the decision time themselves (they read it
as known then), and ``decide`` takes the case as of that time again. When the time is a
datetime in a fixed offset, ``decide`` takes the case as of that very datetime, and the
case, once taken, is given back as it is: ``Engine._decide_known`` (and
``decide_as_of``, which a replay calls) skip the second time. These tests hold the seam
to the plain path (``decide`` on the case as of the instant, and on the case itself),
including times in a DST fold, where datetimes in one zone compare by wall clock and
``as_of`` at a zone's datetime and at the UTC instant ``decide`` compares with can
differ.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import cxrecovery as cx
from _times import NEW_YORK, fold_case_times, in_fold, instants_of
from cxrecovery.engine import decide_as_of
from cxrecovery.policy import load_policy
from cxrecovery.replay import sweep
from cxrecovery.testing.strategies import cases

ENGINE = cx.Engine(cx.default_policy())
ALL_DAY = ["00:00-24:00"]
# The default policy on New York's calendars: due times and warnings in a zone with DST.
FOLD_ENGINE = cx.Engine(
    load_policy(
        {
            "policy": {"name": "new-york", "version": "1", "extends": "default"},
            "calendars": {
                "support": {
                    "time_zone": "America/New_York",
                    "hours": {"mon-fri": ALL_DAY, "sat-sun": ALL_DAY},
                },
                "always": {"time_zone": "America/New_York", "hours": {"mon-sun": ALL_DAY}},
            },
        }
    )
)
ZONES: tuple[tzinfo, ...] = (UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5)))


def _outcome(decide: Callable[[], object]) -> object:
    """What ``decide()`` gives: its result, or the error it raises (its kind and text)."""
    try:
        return decide()
    except cx.CxRecoveryError as error:
        return type(error), str(error)


def _same_decisions(engine: cx.Engine, case: cx.Case, at: datetime) -> None:
    """The seam's plans are the plain path's, field by field (the explanation too), or
    the seam raises the plain path's error."""
    try:
        known = case.as_of(at)
    except cx.CxRecoveryError:
        assert decide_as_of([engine], case, at) is None
        return
    plain = _outcome(lambda: engine.decide(known, at=at))
    assert _outcome(lambda: engine._decide_known(known, at)) == plain
    found = decide_as_of([engine, engine], case, at)
    fixed = type(at.tzinfo) is timezone
    assert (found is not None) == fixed
    if found is not None:
        assert found[0] == known
        assert found[1] == [plain, plain]
        # In a fixed offset, deciding the case itself takes it as of ``at`` alike.
        assert engine.decide(case, at=at) == plain
    if not known.is_closed:
        # A sweep reads the decision (clocks' warnings from their instants, items
        # worded alone): as over plans explained when made, and as the public sweep.
        swept = _outcome(lambda: engine.sweep([case], at, horizon=timedelta(days=2)))
        assert swept == _outcome(lambda: sweep(engine, [case], at, horizon=timedelta(days=2)))
        explained = _Explained(engine)
        assert swept == _outcome(lambda: sweep(explained, [case], at, horizon=timedelta(days=2)))


class _Explained:
    """A decider whose plans are explained when made (``explain=True``), their clock
    states shown (each state's due time and warnings read)."""

    def __init__(self, engine: cx.Engine) -> None:
        self.engine = engine

    def decide(self, case: cx.Case, *, at: datetime) -> cx.RecoveryPlan:
        plan = self.engine.decide(case, at=at, explain=True)
        for clock in plan.clocks:
            assert clock.warnings is not None
        return plan


@given(st.data())
def test_a_case_taken_as_of_once_is_decided_as_decide_decides_it(data: st.DataObject) -> None:
    case = data.draw(cases())
    at = data.draw(st.sampled_from(instants_of(case)))
    at += timedelta(seconds=data.draw(st.sampled_from([-1, 0, 0, 1, 3600, 86400 * 3])))
    at = max(at, case.opened_at).astimezone(data.draw(st.sampled_from((*ZONES, NEW_YORK))))
    _same_decisions(ENGINE, case, at)


@given(
    st.lists(
        st.tuples(st.integers(0, 12).map(lambda q: q * 10), st.sampled_from((*ZONES, None))),
        min_size=2,
        max_size=7,
    ),
    st.tuples(st.integers(0, 14).map(lambda q: q * 10), st.sampled_from((*ZONES, None))),
    st.booleans(),
)
@example([(0, None), (30, None), (60, None), (90, None)], (35, UTC), False)
@example([(0, UTC), (30, UTC), (30, None), (60, None)], (35, None), True)
def test_in_a_fold_a_case_taken_as_of_once_is_decided_as_decide_decides_it(
    times: list[tuple[int, tzinfo | None]], cut: tuple[int, tzinfo | None], resolve: bool
) -> None:
    opened, touchpoints = fold_case_times(times)
    promises = tuple(
        cx.Promise(f"p-{i}", "call back", when, when + timedelta(minutes=50))
        for i, when in enumerate(touchpoints[:2])
    )
    last = touchpoints[-1] if touchpoints else opened
    try:  # (in a fold a time by wall clock can be before one by instant: skip those)
        case = _case(opened, touchpoints, promises, last if resolve else None)
    except cx.InvalidValueError:
        assume(False)
    at = in_fold(*cut)
    if at >= opened:
        _same_decisions(FOLD_ENGINE, case, at)
        _same_decisions(ENGINE, case, at)


def _case(
    opened: datetime,
    touchpoints: list[datetime],
    promises: tuple[cx.Promise, ...],
    resolved: datetime | None,
) -> cx.Case:
    return cx.Case(
        "fold-1",
        cx.Customer("u-1"),
        cx.Failure(
            "late_delivery",
            cx.Severity.HIGH,
            cx.Fault.COMPANY,
            value_at_stake=cx.Money("80", "USD"),
            service_usable=True,
        ),
        opened,
        touchpoints=tuple(
            cx.Touchpoint(t, cx.Channel.CHAT, cx.TouchpointKind.CONTACT) for t in touchpoints
        ),
        promises=promises,
        status=cx.CaseStatus.OPEN if resolved is None else cx.CaseStatus.RESOLVED,
        resolved_at=None if resolved is None else resolved + timedelta(minutes=5),
    )


def test_an_instant_decide_refuses_is_refused_through_the_seam_alike() -> None:
    case = next(iter(cx.synthetic_cases(1, seed=3)))
    late = datetime(2300, 1, 1, tzinfo=UTC)
    known = case.as_of(late)
    with pytest.raises(cx.InvalidValueError) as plain:
        ENGINE.decide(known, at=late)
    with pytest.raises(cx.InvalidValueError) as seam:
        ENGINE._decide_known(known, late)
    assert str(seam.value) == str(plain.value)
