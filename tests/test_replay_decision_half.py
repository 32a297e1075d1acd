"""Replay tallies and compares plans from their decision and never makes them word it.

A plan whose wording is deferred (each action's summary and reasons, each approval's
reason and checks, the plan's owner_reason, facts and trace), with fills that fail if
called, adds up and compares exactly as the plan made in one go.
"""

from __future__ import annotations

from datetime import timedelta
from operator import attrgetter
from typing import Any
from unittest import mock

import attrs
from hypothesis import given
from hypothesis import strategies as st

from _deferral import is_set
from cxrecovery import ActionKind, Agent, Case, Engine, compare, default_policy, simulate
from cxrecovery.engine import decided
from cxrecovery.engine import sweep as sweep_module
from cxrecovery.engine._decision import DecisionContext
from cxrecovery.plan import Action, Approval, RecoveryPlan, decided_actions, source
from cxrecovery.plan._deferred import Deferrable
from cxrecovery.replay import DueKind, synthetic_cases
from cxrecovery.replay._compare import _diff, plan_digest
from cxrecovery.replay._tally import _Tally
from cxrecovery.testing.strategies import cases

ENGINE = Engine(default_policy())
ROLES = [r.name for r in default_policy().roles]
WORDING = {
    RecoveryPlan: {"owner_reason", "facts", "trace"},
    Action: {"summary", "reasons"},
    Approval: {"reason", "checks"},
}


def _refuse() -> dict[str, Any]:
    raise AssertionError("the replay read a plan's wording")


def unworded(value: Deferrable) -> Any:
    """``value`` with its wording deferred to a fill that fails."""
    fields = {f.name: getattr(value, f.name) for f in attrs.fields(type(value))}
    if isinstance(value, RecoveryPlan):
        fields["actions"] = tuple(unworded(a) for a in value.actions)
        fields["approvals"] = tuple(unworded(a) for a in value.approvals)
    wording = WORDING[type(value)]
    eager = {n: v for n, v in fields.items() if n not in wording}
    return type(value)._deferred(_refuse, **eager)


@st.composite
def decisions(draw: st.DrawFn) -> tuple[Case, RecoveryPlan, RecoveryPlan]:
    """A case and two of its plans: by two roles, at two instants (often the same)."""
    case: Case = draw(cases())
    plans = []
    for _ in range(2):
        later = draw(st.sampled_from([0, 0, 3600, 86400 * 3]))
        role = draw(st.sampled_from(ROLES))
        at = case.last_event_at() + timedelta(seconds=later)
        plans.append(ENGINE.decide(case, at=at, agent=Agent("a-1", role)))
    return case, plans[0], plans[1]


def _digest_diff(a: RecoveryPlan, b: RecoveryPlan) -> tuple[str, ...]:
    """The comparison by digests alone, as compare made it before it read keys first."""
    left, right = plan_digest(a), plan_digest(b)
    return tuple(
        f"{key}: {left.get(key, 'absent')} -> {right.get(key, 'absent')}"
        for key in sorted(left.keys() | right.keys())
        if left.get(key) != right.get(key)
    )


@given(decisions())
def test_compare_finds_the_changes_the_digests_find(
    decision: tuple[Case, RecoveryPlan, RecoveryPlan],
) -> None:
    case, a, b = decision
    assert _digest_diff(a, b) == _diff(case, a, b)
    assert () == _diff(case, a, a)
    assert () == _diff(case, unworded(a), unworded(a))
    with mock.patch("cxrecovery.replay._compare.plan_digest", side_effect=AssertionError):
        assert () == _diff(case, a, attrs.evolve(a))  # equal plans: no digest text made


@given(decisions())
def test_a_tally_reads_the_decision_only(
    decision: tuple[Case, RecoveryPlan, RecoveryPlan],
) -> None:
    case, a, b = decision
    horizon = timedelta(hours=24)
    worded, plain = _Tally(), _Tally()
    for plan in (a, b):
        worded.add(case.as_of(plan.decided_at), plan, horizon)
        plain.add(case.as_of(plan.decided_at), unworded(plan), horizon)
    ordered = sorted((a, b), key=lambda p: p.decided_at)
    worded.timed(case, [(p.decided_at, p) for p in ordered])
    plain.timed(case, [(p.decided_at, unworded(p)) for p in ordered])
    assert worded.freeze("p", "f") == plain.freeze("p", "f")


_DECIDED = attrgetter(
    "kind",
    "owner",
    "due",
    "authority",
    "approval",
    "amount",
    "ratio",
    "form",
    "tier",
    "level",
    "channel",
)


@given(decisions())
def test_the_decided_values_are_those_of_the_plan_s_actions(
    decision: tuple[Case, RecoveryPlan, RecoveryPlan],
) -> None:
    """``decided()`` reads a deferred plan's decision (no action made): the values its
    actions have, in their order; on any other plan, its actions."""
    _, plan, _ = decision
    values = [_DECIDED(a) for a in decided(plan)]
    assert not is_set(plan, "actions")
    assert values == [_DECIDED(a) for a in plan.actions]
    assert list(decided(plan)) == list(plan.actions)  # read: the actions themselves
    assert values == [_DECIDED(a) for a in decided(unworded(plan))]


def _recording(monkeypatch: Any) -> list[RecoveryPlan]:
    """Every plan ``Engine.decide`` (or ``Engine._decide_known``, a sweep's and a
    replay's) returns from now on, in a list, each once."""
    made: list[RecoveryPlan] = []
    for name in ("decide", "_decide_known"):
        monkeypatch.setattr(Engine, name, _recorder(getattr(Engine, name), made))
    return made


def _recorder(decide: Any, made: list[RecoveryPlan]) -> Any:
    def recorded(self: Engine, *args: Any, **kwargs: Any) -> RecoveryPlan:
        plan: RecoveryPlan = decide(self, *args, **kwargs)
        if not any(p is plan for p in made[-2:]):  # (the seam may call decide itself)
            made.append(plan)
        return plan

    return recorded


SYNTHETIC = list(synthetic_cases(120, seed=5))


def test_a_replay_fills_no_plan_and_words_no_action(monkeypatch: Any) -> None:
    made = _recording(monkeypatch)
    summary = simulate(default_policy(), SYNTHETIC, at="walk")
    assert summary.decisions > len(SYNTHETIC)
    assert len(made) == summary.decisions
    assert summary.cost
    assert summary.escalations
    # The explanation of a plan (its facts and trace) and the words of its actions are
    # never worked out: the tally reads the decision only.
    assert [] == [p for p in made if is_set(p, "facts") or is_set(p, "trace")]
    worded = {a.kind for p in made for a in decided_actions(p) if is_set(a, "reasons")}
    assert set() == worded  # an escalation's words wait too


def test_a_comparison_fills_no_plan(monkeypatch: Any) -> None:
    made = _recording(monkeypatch)
    policy = default_policy()
    comparison = compare(policy, policy, SYNTHETIC[:40])
    assert 0 == comparison.changed
    assert len(made) == 80
    assert [] == [p for p in made if is_set(p, "facts") or is_set(p, "trace")]
    # A remedy's details are part of what a comparison compares.
    worded = {a.kind for p in made for a in decided_actions(p) if is_set(a, "reasons")}
    assert worded <= {ActionKind.ESCALATE, ActionKind.REMEDY}


def test_a_sweep_fills_no_plan_and_words_only_the_actions_it_lists(monkeypatch: Any) -> None:
    made = _recording(monkeypatch)
    worded: list[ActionKind] = []
    words = sweep_module._words

    def counted(d: Any, action: Any) -> str:
        worded.append(action.kind)
        return words(d, action)

    monkeypatch.setattr(sweep_module, "_words", counted)
    at = max(c.opened_at for c in SYNTHETIC) + timedelta(hours=1)
    result = ENGINE.sweep(SYNTHETIC, at, horizon=timedelta(days=3))
    assert result.decided == len(made) > 20
    listed = {DueKind.ESCALATION, DueKind.CUSTOMER_UPDATE, DueKind.FOLLOW_UP}
    assert any(item.kind in listed for item in result.items)
    # Read from the decision: no plan filled, no action made (not even alone).
    assert [] == [p for p in made if is_set(p, "facts") or is_set(p, "trace")]
    assert [] == [p for p in made if is_set(p, "actions")]
    assert all(isinstance(source(p), DecisionContext) for p in made)
    assert [] == [p for p in made if object.__getattribute__(p, "_pending")._made]
    # Each action listed worded once, and no other.
    assert len(worded) == sum(1 for i in result.items if i.kind in listed)
