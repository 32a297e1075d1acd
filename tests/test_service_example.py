"""The sample CRM service in examples/service/.

The ticket mapping is tested everywhere; the app is driven through FastAPI's test
client, skipped where FastAPI is not installed (the README's test command needs only
``.[tests]``). CI installs ``.[dev]``, which includes the ``service`` extra, and sets
``CXRECOVERY_REQUIRE_SERVICE=1`` so that there a missing FastAPI fails instead.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cxrecovery import dump, load_case
from cxrecovery.analysis import check_policy

SERVICE = Path(__file__).parent.parent / "examples" / "service"
sys.path.insert(0, str(SERVICE))

from crm_recovery.mapping import TicketError, ticket_to_case  # noqa: E402

HAS_SERVICE = all(importlib.util.find_spec(m) is not None for m in ("fastapi", "httpx"))
needs_service = pytest.mark.skipif(
    not HAS_SERVICE and os.environ.get("CXRECOVERY_REQUIRE_SERVICE") != "1",
    reason="the service extra (FastAPI) is not installed",
)

TICKET: dict[str, Any] = json.loads((SERVICE / "ticket.json").read_text(encoding="utf-8"))


class Clock:
    """The service's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.fromisoformat("2026-03-03T13:00:00+01:00"))


@pytest.fixture
def client(tmp_path: Path, clock: Clock) -> Iterator[Any]:
    from crm_recovery.app import Settings, create_app
    from fastapi.testclient import TestClient

    settings = Settings(data_dir=tmp_path, clock=clock, sweep_every=None)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_sample_ticket_maps_to_a_case_the_library_reads() -> None:
    case = ticket_to_case(TICKET)
    assert ("T-2026-4711", "K-1001") == (case.id, case.customer.id)
    assert ("wrong_item", "high", "company") == (
        case.failure.category,
        case.failure.severity,
        case.failure.fault,
    )
    assert ["phone", "email"] == [str(tp.channel) for tp in case.touchpoints]
    assert "broken" == case.promises[0].status
    assert case == load_case(json.loads(json.dumps(dump(case))))


def test_a_bad_ticket_is_one_error_with_every_ticket_path() -> None:
    ticket = copy.deepcopy(TICKET)
    ticket["fehler"]["schwere"] = "sehr hoch"
    ticket["kontakte"][1]["art"] = "fax"
    with pytest.raises(TicketError) as caught:
        ticket_to_case(ticket)
    assert ["fehler.schwere", "kontakte[1].art"] == [p for p, _ in caught.value.problems]


def test_the_sample_policy_is_clean() -> None:
    assert check_policy(SERVICE / "policy.toml").is_clean


@needs_service
def test_the_webhook_maps_the_ticket_and_returns_the_plan(client: Any) -> None:
    response = client.post("/webhook/ticket", json=TICKET)
    assert 200 == response.status_code, response.text
    body = response.json()
    assert "T-2026-4711" == body["case_id"]
    plan = body["plan"]
    assert "beispiel-crm" == plan["policy_name"]
    assert "fl-anna" == plan["agent"]
    kinds = [a["kind"] for a in plan["actions"]]
    assert "compensate" in kinds
    assert "escalate" in kinds  # the broken promise escalates
    # 30 EUR is the front line's limit in this policy: the plan names an approver.
    assert body["needs_approval"]
    assert body["next_review_at"] is not None


@needs_service
def test_a_bad_ticket_names_the_ticket_fields(client: Any) -> None:
    ticket = copy.deepcopy(TICKET)
    ticket["fehler"]["schwere"] = "sehr hoch"
    del ticket["kunde"]["kundenNr"]
    ticket["kontakte"][0]["zeit"] = "2026-03-02T09:15:00"
    response = client.post("/webhook/ticket", json=ticket)
    assert 422 == response.status_code
    paths = [p["path"] for p in response.json()["problems"]]
    assert ["kunde.kundenNr", "fehler.schwere"] == paths
    ticket = copy.deepcopy(TICKET)
    ticket["kontakte"][0]["zeit"] = "2026-03-02T09:15:00"
    response = client.post("/webhook/ticket", json=ticket)
    assert 422 == response.status_code
    problem = response.json()["problems"][0]
    assert "touchpoints[0].at" in problem["path"]
    assert "naive" in problem["message"]


@needs_service
def test_approval_then_grant_is_recorded_in_the_ledger(client: Any) -> None:
    assert 200 == client.post("/webhook/ticket", json=TICKET).status_code
    # The front line may not grant the plan's compensation alone.
    alone = client.post(
        "/cases/T-2026-4711/grants", json={"request_id": "crm-1", "agent_id": "fl-anna"}
    )
    assert 409 == alone.status_code
    assert any("max_per_case" in p["path"] for p in alone.json()["problems"])
    asked = client.post(
        "/cases/T-2026-4711/approvals", json={"approval_id": "ap-1", "agent_id": "fl-anna"}
    )
    assert 200 == asked.status_code, asked.text
    role = asked.json()["approver_role"]
    approver = {"supervisor": "sv-ben", "manager": "mg-cara"}[role]
    decided = client.post("/approvals/ap-1", json={"approver_id": approver})
    assert "granted" == decided.json()["status"]
    granted = client.post(
        "/cases/T-2026-4711/grants",
        json={"request_id": "crm-1", "agent_id": "fl-anna", "approval_id": "ap-1"},
    )
    assert 200 == granted.status_code, granted.text
    assert asked.json()["amount"] == granted.json()["amount"]
    # A retry of the same request is the same grant, not a second one.
    again = client.post(
        "/cases/T-2026-4711/grants",
        json={"request_id": "crm-1", "agent_id": "fl-anna", "approval_id": "ap-1"},
    )
    assert granted.json() == again.json()
    # The next plan sees the grant: nothing more to compensate.
    plan = client.post("/webhook/ticket", json=TICKET).json()["plan"]
    compensate = [a for a in plan["actions"] if a["kind"] == "compensate"]
    assert not compensate or "amount" not in compensate[0]


@needs_service
def test_someone_off_the_roster_may_not_act(client: Any) -> None:
    assert 200 == client.post("/webhook/ticket", json=TICKET).status_code
    response = client.post(
        "/cases/T-2026-4711/grants",
        json={"request_id": "x", "agent_id": "intern", "amount": "5.00", "currency": "EUR"},
    )
    assert 403 == response.status_code


@needs_service
def test_the_sweep_redecides_only_cases_whose_review_has_come(client: Any, clock: Clock) -> None:
    review = client.post("/webhook/ticket", json=TICKET).json()["next_review_at"]
    at = datetime.fromisoformat(review)
    clock.at = at - timedelta(seconds=1)
    assert [] == client.post("/sweep").json()["redecided"]
    clock.at = at + timedelta(seconds=1)
    redecided = client.post("/sweep").json()["redecided"]
    assert ["T-2026-4711"] == [r["case_id"] for r in redecided]
    later = redecided[0]["next_review_at"]
    assert later is None or datetime.fromisoformat(later) > clock.at
    assert [] == client.post("/sweep").json()["redecided"]


@needs_service
def test_the_desk_logs_plans_grants_and_approvals_with_fields(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cxrecovery.desk")
    client.post("/webhook/ticket", json=TICKET)
    client.post(
        "/cases/T-2026-4711/grants",
        json={"request_id": "crm-9", "agent_id": "fl-anna", "amount": "10.00", "currency": "EUR"},
    )
    events = [(r.cx_event, r.cx_case_id) for r in caplog.records if hasattr(r, "cx_event")]  # type: ignore[attr-defined]
    assert [("plan_decided", "T-2026-4711"), ("grant_recorded", "T-2026-4711")] == events
    plan_record = next(r for r in caplog.records if getattr(r, "cx_event", "") == "plan_decided")
    assert "fl-anna" == plan_record.cx_agent_id  # type: ignore[attr-defined]
    assert plan_record.cx_policy_fingerprint.startswith("sha256:")  # type: ignore[attr-defined]
