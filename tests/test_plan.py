"""The plan's lookups, overdue actions, and how the command line prints instants."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from cxrecovery import (
    ActionKind,
    CxRecoveryError,
    Engine,
    UnknownNameError,
    default_policy,
    load_case,
)
from cxrecovery.cli import main

CASES = Path(__file__).parent.parent / "examples" / "cases"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(default_policy())


def test_an_unknown_action_kind_is_a_key_error_with_a_hint(engine: Engine) -> None:
    case = load_case(CASES / "laptop-repair.json")
    plan = engine.decide(case, at=case.last_event_at())
    with pytest.raises(KeyError) as caught:
        plan.action("compensation")
    assert isinstance(caught.value, UnknownNameError)
    assert isinstance(caught.value, CxRecoveryError)
    assert "did you mean 'compensate'?" in str(caught.value)
    with pytest.raises(UnknownNameError, match="not an action kind"):
        plan.actions_of("refund")
    assert plan.action("compensate") is plan.action(ActionKind.COMPENSATE) is not None


def test_a_known_kind_the_plan_lacks_is_none(engine: Engine) -> None:
    case = load_case(CASES / "coffee-order.json")
    plan = engine.decide(case, at=case.last_event_at())
    assert plan.action("escalate") is None
    assert () == plan.actions_of(ActionKind.ESCALATE)


def test_an_unknown_clock_is_a_key_error_with_a_hint(engine: Engine) -> None:
    case = load_case(CASES / "laptop-repair.json")
    plan = engine.decide(case, at=case.last_event_at())
    assert "resolution" == plan.clock("resolution").name
    with pytest.raises(KeyError, match="did you mean 'resolution'"):
        plan.clock("resolutoin")


def test_an_action_past_due_at_the_decision_time_is_overdue(engine: Engine) -> None:
    case = load_case(CASES / "laptop-repair.json")
    now = engine.decide(case, at=case.last_event_at())
    escalate = now.action("escalate")
    assert escalate is not None
    assert escalate.due is not None
    assert not escalate.overdue
    assert () == now.overdue
    later = engine.decide(case, at=escalate.due + timedelta(minutes=1))
    late = later.action("escalate")
    assert late is not None
    assert late.due is not None
    assert late.overdue
    assert late.due < later.decided_at
    assert late in later.overdue
    assert all(a.due is not None and a.due < later.decided_at for a in later.overdue)
    assert any(a.get("overdue") is True for a in json.loads(later.to_json())["actions"])
    # Lateness moves with the decision time alone: it is not a different decision.
    assert not any(a.overdue for a in later.decision().actions)


def test_the_command_line_marks_overdue_and_prints_instants_cleanly(engine: Engine) -> None:
    case = load_case(CASES / "laptop-repair.json")
    plan = engine.decide(case, at=case.last_event_at() + timedelta(hours=3))
    assert plan.next_review_at is not None
    assert 1 == plan.next_review_at.microsecond  # the change comes just after a boundary
    out = io.StringIO()
    at = plan.decided_at.isoformat()
    assert 0 == main(["decide", str(CASES / "laptop-repair.json"), "--at", at], out=out)
    text = out.getvalue()
    assert ".000001" not in text
    bound = plan.next_review_at.replace(microsecond=0).isoformat()
    assert f"Next review: just after {bound}" in text
    assert "OVERDUE" in text
