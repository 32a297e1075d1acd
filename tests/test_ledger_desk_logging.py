"""The desk's log records: one per plan, grant and approval decision, with cx_* fields."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cxrecovery as cx
from cxrecovery.ledger import Desk, MemoryLedger

CASES = Path(__file__).parent.parent / "examples" / "cases"
NOW = datetime(2026, 3, 24, 9, 30, tzinfo=UTC)


def test_plans_grants_and_approvals_are_logged_with_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cxrecovery.desk")
    desk = Desk(cx.Engine(cx.default_policy()), MemoryLedger(clock=lambda: NOW))
    case = cx.load_case(CASES / "laptop-repair.json")
    agent, boss = cx.Agent("fl-1", "front_line"), cx.Agent("sv-1", "supervisor")
    plan = desk.decide(case, at=NOW, agent=agent)
    desk.grant(case, cx.Money("20.00", "GBP"), "credit", at=NOW, agent=agent, request_id="r-1")
    desk.request_approval(
        case, cx.Money("30.00", "GBP"), "credit", at=NOW, agent=agent, approval_id="a-1"
    )
    desk.approve("a-1", at=NOW, approver=boss)
    records = [r for r in caplog.records if r.name == "cxrecovery.desk"]
    assert ["plan_decided", "grant_recorded", "approval_decided"] == [
        r.cx_event  # type: ignore[attr-defined]
        for r in records
    ]
    decided, granted, approved = records
    assert plan.policy_fingerprint == decided.cx_policy_fingerprint  # type: ignore[attr-defined]
    assert plan.escalation_level == decided.cx_escalation_level  # type: ignore[attr-defined]
    assert ("r-1", "20.00 GBP") == (granted.cx_request_id, granted.cx_amount)  # type: ignore[attr-defined]
    assert ("sv-1", True) == (approved.cx_approver_id, approved.cx_granted)  # type: ignore[attr-defined]
    assert all(r.levelno == logging.INFO for r in records)


def test_nothing_is_logged_while_nobody_listens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cxrecovery.desk")
    desk = Desk(cx.Engine(cx.default_policy()), MemoryLedger(clock=lambda: NOW))
    case = cx.load_case(CASES / "laptop-repair.json")
    desk.decide(case, at=NOW, agent=cx.Agent("fl-1", "front_line"))
    assert [] == [r for r in caplog.records if r.name == "cxrecovery.desk"]
