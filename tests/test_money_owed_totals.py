"""Money owed back (``repay``) is totalled on its own, beside goodwill, never in it."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

from cxrecovery import metrics
from cxrecovery.documents import load_case
from cxrecovery.engine import Engine
from cxrecovery.model import Case
from cxrecovery.plan import ActionKind, RecoveryPlan
from cxrecovery.policy import default_policy
from cxrecovery.replay import simulate
from cxrecovery.replay._report import write_table

CASES = Path(__file__).parent.parent / "examples" / "cases"


def _cases() -> list[Case]:
    return [load_case(path) for path in sorted(CASES.glob("*.json"))]


def _totals(plans: list[RecoveryPlan], kind: ActionKind) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for plan in plans:
        for action in plan.actions_of(kind):
            if action.amount is not None:
                cur = action.amount.currency
                totals[cur] = totals.get(cur, Decimal(0)) + action.amount.amount
    return totals


def _plans() -> list[RecoveryPlan]:
    engine = Engine(default_policy())
    return [engine.decide(c, at=c.last_event_at()) for c in _cases()]


def test_the_stories_owe_money_back_and_pay_goodwill() -> None:
    plans = _plans()
    assert _totals(plans, ActionKind.REPAY), "a story with money owed (the laptop)"
    assert _totals(plans, ActionKind.COMPENSATE)


def test_a_replay_totals_money_owed_apart_from_the_goodwill_cost() -> None:
    plans = _plans()
    summary = simulate(default_policy(), _cases())
    assert summary.owed == _totals(plans, ActionKind.REPAY)
    assert summary.cost == _totals(plans, ActionKind.COMPENSATE)
    data = summary.to_dict()
    assert data["owed"] == {k: str(v) for k, v in summary.owed.items()}
    assert json.loads(json.dumps(data))["owed"]


def test_the_replay_table_shows_money_owed_on_its_own_line() -> None:
    summary = simulate(default_policy(), _cases())
    out = io.StringIO()
    write_table(summary, out)
    text = out.getvalue()
    for currency, amount in summary.owed.items():
        assert any(
            line.split()[:2] == ["owed", currency] and str(amount) in line
            for line in text.splitlines()
        ), text


def test_recovery_cost_keeps_goodwill_and_money_owed_apart() -> None:
    plans = _plans()
    cost = metrics.recovery_cost(plans)
    assert cost.goodwill == _totals(plans, ActionKind.COMPENSATE)
    assert cost.owed == _totals(plans, ActionKind.REPAY)
    assert metrics.recovery_cost([]).owed == {}
