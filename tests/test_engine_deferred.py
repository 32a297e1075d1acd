"""decide() in two halves: the decision now, its explanation on first read.

The plan ``decide()`` returns sets its decision's fields at once and explains itself
(the actions' words and reasons, the facts, the trace) the first time one of those is
read. These tests hold the two halves to each other: the explanation is made from the
decision, says what an eagerly explained plan says, and cannot fail after ``decide()``
has returned.
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from operator import attrgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

from _deferral import is_set
from cxrecovery import (
    ActionKind,
    Agent,
    Case,
    Engine,
    PolicyError,
    RecoveryPlan,
    default_policy,
    load_case,
    load_policy,
)
from cxrecovery.engine._support import earliest, fixed_epochs, instant
from cxrecovery.engine.sweep import sweep
from cxrecovery.testing.strategies import cases

POLICY = default_policy()
ENGINE = Engine(POLICY)
ROLES = [r.name for r in POLICY.roles]
CASES = Path(__file__).resolve().parent.parent / "examples" / "cases"
# The fields an explanation fills; every other field is the decision's, set at once.
EXPLAINED = ("actions", "facts", "trace")


def _without_why_not(plan: RecoveryPlan) -> RecoveryPlan:
    """``plan`` as decided without ``explain``: the trace without its why-not lines."""
    return attrs.evolve(plan, trace=tuple(attrs.evolve(t, why_not=()) for t in plan.trace))


def _story(name: str) -> Case:
    return load_case(json.loads((CASES / f"{name}.json").read_text()))


@st.composite
def decisions(draw: st.DrawFn) -> tuple[Case, Any, Agent]:
    case = draw(cases())
    offset = draw(st.integers(min_value=0, max_value=10 * 24 * 3600))
    role = draw(st.sampled_from(ROLES))
    return case, case.last_event_at() + timedelta(seconds=offset), Agent("a-1", role)


_DECIDED = attrgetter(
    "kind", "owner", "due", "amount", "ratio", "form", "tier", "level", "channel"
)
_AUTHORISED = attrgetter("authority", "approval", "overdue")
# An action's words: worked out on their first read.
WORDS = ("summary", "details", "reasons")


@given(decisions())
def test_the_explanation_is_made_from_the_decision(found: tuple[Case, Any, Agent]) -> None:
    """Differential: the plan as decided (each action's kind, owner, due time, amount,
    ratio, form, tier, level, channel, authority, approval, and the plan's own fields)
    is the plan explained eagerly (``explain=True``, less its why-not lines), and its
    explanation, read later, is the same too."""
    case, at, agent = found
    plan = ENGINE.decide(case, at=at, agent=agent)
    assert not any(is_set(plan, name) for name in EXPLAINED)  # deferred until read
    eager = _without_why_not(ENGINE.decide(case, at=at, agent=agent, explain=True))
    assert all(is_set(eager, name) for name in EXPLAINED)  # explain=True stays eager
    decided = plan.actions
    worded = [a for a in decided if a.kind is not ActionKind.ESCALATE]  # escalate's: now
    assert not any(is_set(a, w) for a in worded for w in WORDS)
    assert [(*_DECIDED(a), *_AUTHORISED(a)) for a in decided] == [
        (*_DECIDED(a), *_AUTHORISED(a)) for a in eager.actions
    ]
    assert not any(is_set(a, "summary") for a in worded)
    assert [a.summary for a in decided] == [a.summary for a in eager.actions]
    assert plan == eager
    assert plan.to_json() == eager.to_json()


def _pickled(plan: RecoveryPlan) -> RecoveryPlan:
    copied: RecoveryPlan = pickle.loads(pickle.dumps(plan))
    return copied


@given(decisions())
def test_a_deferred_plan_behaves_as_an_eager_one(found: tuple[Case, Any, Agent]) -> None:
    """Equality, hash, repr, pickling and evolve read a deferred plan through."""
    case, at, agent = found
    eager = _without_why_not(ENGINE.decide(case, at=at, agent=agent, explain=True))
    for use in (hash, repr, _pickled, attrs.asdict):
        plan = ENGINE.decide(case, at=at, agent=agent)
        assert use(plan) == use(eager)  # type: ignore[operator]
    plan = ENGINE.decide(case, at=at, agent=agent)
    assert attrs.evolve(plan, owner="someone") == attrs.evolve(eager, owner="someone")


def _clashing_policy() -> Any:
    """The default policy with its recovery table's rows (written for first-hit) made
    ``unique``: a case that more than one row fits is an error of the policy."""
    document = copy.deepcopy(POLICY.document)
    document["tables"]["recovery"]["hit_policy"] = "unique"
    return load_policy(document)


def test_an_error_is_raised_by_decide_itself() -> None:
    """A policy error found while deciding is raised by decide(), never later when the
    plan is read; a case it does not touch decides, and its plan reads without error."""
    engine = Engine(_clashing_policy())
    outcomes = []
    for path in sorted(CASES.glob("*.json")):
        case = _story(path.stem)
        at = case.last_event_at() + timedelta(hours=1)
        try:
            plan = engine.decide(case, at=at)
        except PolicyError as error:
            assert "a unique table allows one" in str(error)
            outcomes.append("raised")
            continue
        assert plan.to_json()  # reads every field: nothing is raised on reading
        assert plan == _without_why_not(engine.decide(case, at=at, explain=True))
        outcomes.append("decided")
    assert "raised" in outcomes


def test_the_explanation_waits_for_its_first_read() -> None:
    """decide() makes the decision only: no action object, no text, no trace."""
    case = _story("laptop-repair")
    plan = ENGINE.decide(case, at=case.last_event_at() + timedelta(hours=1))
    assert plan.owner
    assert plan.next_review_at is not None  # the decision reads at once
    assert not any(is_set(plan, name) for name in EXPLAINED)
    apology = plan.action(ActionKind.APOLOGIZE)  # the actions, still without words
    assert apology is not None
    assert not any(is_set(apology, w) for w in WORDS)
    assert apology.summary.startswith("Apologise")
    assert all(is_set(apology, w) for w in WORDS)


class _Explained:
    """A decider whose plans are explained when made (``explain=True``), their clock
    states shown (each state's due time and warnings read)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def decide(self, case: Case, *, at: Any) -> RecoveryPlan:
        plan = self.engine.decide(case, at=at, explain=True)
        for clock in plan.clocks:
            assert clock.warnings is not None
        return plan


@given(
    st.lists(cases(), min_size=1, max_size=4),
    st.integers(0, 5 * 24 * 3600),
    st.sampled_from([None, UTC, timezone(timedelta(hours=-5)), ZoneInfo("America/New_York")]),
)
def test_a_sweep_reads_the_decision_as_it_reads_the_plan(
    open_cases: list[Case], offset: int, zone: tzinfo | None
) -> None:
    """A sweep over deferred plans (the decision, explained only where it lists an
    item: its summary alone, in the order the decision took the actions) finds what it
    finds over plans explained when made, and an engine's own sweep too."""
    unique = {c.id: c for c in open_cases}.values()
    at = max(c.last_event_at() for c in unique) + timedelta(seconds=offset)
    if zone is not None:
        at = at.astimezone(zone)
    hours = timedelta(hours=8)
    explained = sweep(_Explained(ENGINE), unique, at, horizon=hours)
    assert sweep(ENGINE, unique, at, horizon=hours) == explained
    assert ENGINE.sweep(unique, at, horizon=hours) == explained


_FIXED = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=30)),
        # Zones with one offset for all time, as a calendar's answers come in them.
        ZoneInfo("UTC"),
        ZoneInfo("Etc/GMT+5"),
    ]
)
# The epochs of the zones a policy's fixed calendars answer in (UTC and Etc/GMT+5; not
# New York's, which has DST).
_EPOCHS = fixed_epochs(
    load_policy(
        {
            "policy": {"name": "fixed", "version": "1", "extends": "default"},
            "calendars": {
                "gmt5": {"time_zone": "Etc/GMT+5", "hours": {"mon-sun": ["00:00-24:00"]}},
                "support": {
                    "time_zone": "America/New_York",
                    "hours": {"mon-fri": ["09:00-17:00"]},
                },
            },
        }
    )
)
# The hours a DST zone repeats (a fold): its wall clock and its instants disagree there.
_FOLDS = st.sampled_from(
    [
        (ZoneInfo("America/New_York"), datetime(2025, 11, 2, 1)),
        (ZoneInfo("Europe/Berlin"), datetime(2025, 10, 26, 2)),
    ]
)


@st.composite
def _times(draw: st.DrawFn) -> datetime:
    minute = timedelta(minutes=draw(st.integers(0, 59)))
    if draw(st.booleans()):
        zone, hour = draw(_FOLDS)
        return (hour + minute).replace(tzinfo=zone, fold=draw(st.integers(0, 1)))
    naive = datetime(2025, 11, 2, 5) + minute * draw(st.integers(-180, 180))
    return naive.replace(tzinfo=draw(_FIXED))


@given(st.lists(_times(), min_size=1, max_size=8))
def test_the_earliest_time_is_the_first_of_the_earliest_instants(times: list[datetime]) -> None:
    """The plan's next review time: ``min`` without a key where every zone is a fixed
    offset, or keyed by a subtraction within the zone for a zone the policy knows has
    one offset, against the keyed ``min`` it stands for (DST folds included)."""
    assert set(_EPOCHS) == {UTC, ZoneInfo("UTC"), ZoneInfo("Etc/GMT+5")}
    for epochs in (_EPOCHS, {}):
        assert earliest(times, epochs) is min(times, key=instant)


def test_every_pending_action_holds_exactly_its_fields() -> None:
    # A pending action is a tuple made without its length check (``new_pending``): one
    # made a field too long reads right by name, but its repr and anything that unpacks
    # it by position break. Every step's, over the examples and varied cases.
    from cxrecovery import synthetic_cases
    from cxrecovery.engine._context import DecisionContext
    from cxrecovery.engine._pending import Pending
    from cxrecovery.plan._deferred import source

    engine = Engine(default_policy())
    examples = Path(__file__).parent.parent / "examples" / "cases"
    cases = [load_case(p.read_text()) for p in sorted(examples.glob("*.json"))]
    cases += synthetic_cases(60, seed=5)
    kinds = set()
    for case in cases:
        plan = engine.decide(case, at=case.last_event_at() + timedelta(hours=1))
        d = source(plan)
        assert type(d) is DecisionContext
        for pending in d.pending:
            assert len(pending) == len(Pending._fields), pending[0]
            assert repr(pending).startswith(type(pending).__name__)
            kinds.add(pending[0])
    assert {ActionKind.APOLOGIZE, ActionKind.REMEDY, ActionKind.MAKE_PROMISE} <= kinds
