"""The FastAPI app: webhook, plan, approval, grant, and the sweep.

Endpoints (all JSON):

- ``POST /webhook/ticket``: the CRM's ticket → a case → a plan, decided through the desk
  over the ledger (the agent's spend and the customer's goodwill come from there).
- ``POST /cases/{case_id}/approvals``: ask for the approval a plan needs.
- ``POST /approvals/{approval_id}``: a supervisor grants (or refuses) it.
- ``POST /cases/{case_id}/grants``: record a grant; every limit is re-checked inside
  the ledger's transaction. ``request_id`` makes a retry safe.
- ``POST /sweep``: re-decide every case whose ``next_review_at`` has come. The app also
  runs it every ``Settings.sweep_every`` seconds while it serves.

Every decision time comes from ``Settings.clock`` (the wall clock by default), so tests
and replays can set it: the library itself never reads the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

import cxrecovery as cx
from crm_recovery.mapping import TicketError, ticket_to_case
from crm_recovery.store import CaseStore
from cxrecovery.ledger import (
    ApprovalError,
    Desk,
    LimitExceededError,
    RequestConflictError,
    SQLiteLedger,
)

HERE = Path(__file__).parent
log = logging.getLogger("crm_recovery")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Settings:
    """Where the service keeps its data, which policy and roster it uses, its clock."""

    data_dir: Path = Path("service-data")
    policy: str = str(HERE.parent / "policy.toml")
    # The roster: CRM user → role of the policy. Only these may act.
    agents: Mapping[str, str] = field(
        default_factory=lambda: {
            "fl-anna": "front_line",
            "fl-jonas": "front_line",
            "sv-ben": "supervisor",
            "mg-cara": "manager",
            "dm-dirk": "duty_manager",
        }
    )
    clock: Callable[[], datetime] = _now
    sweep_every: float | None = 300.0  # seconds; None: only POST /sweep


class ApprovalAsk(BaseModel):
    approval_id: str
    agent_id: str
    amount: str | None = None  # default: the plan's compensation
    currency: str | None = None
    form: str | None = None


class ApprovalDecision(BaseModel):
    approver_id: str
    granted: bool = True
    note: str | None = None


class GrantAsk(BaseModel):
    request_id: str
    agent_id: str
    amount: str | None = None  # default: the plan's compensation
    currency: str | None = None
    form: str | None = None
    approval_id: str | None = None
    note: str | None = None


def _problems(error: cx.InvalidValueError) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in error.problems]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app over a SQLite ledger and a case store in ``settings.data_dir``."""
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    policy = cx.load_policy(settings.policy)
    roster = [cx.Agent(agent_id, role) for agent_id, role in settings.agents.items()]
    # The ledger checks each grant's time against its clock: give it the service's own.
    ledger = SQLiteLedger(settings.data_dir / "ledger.db", clock=settings.clock)
    desk = Desk(cx.Engine(policy), ledger, agents=roster)
    store = CaseStore(settings.data_dir / "cases.db")
    by_id = {agent.id: agent for agent in roster}

    def agent(agent_id: str) -> cx.Agent:
        found = by_id.get(agent_id)
        if found is None:
            raise HTTPException(403, f"{agent_id!r} is not on the roster")
        return found

    def case_of(case_id: str) -> cx.Case:
        case = store.get(case_id)
        if case is None:
            raise HTTPException(404, f"no case {case_id!r}: send its ticket first")
        return case

    def decide(case: cx.Case, acting: cx.Agent | None) -> dict[str, Any]:
        at = settings.clock()
        plan = desk.decide(case, at=at, agent=acting)
        store.put(case, plan.next_review_at)
        return {
            "case_id": case.id,
            "decided_at": at.isoformat(),
            "owner": plan.owner,
            "needs_approval": [a.role for a in plan.approvals],
            "overdue": [a.summary for a in plan.overdue],
            "next_review_at": None
            if plan.next_review_at is None
            else plan.next_review_at.isoformat(),
            "plan": json.loads(plan.to_json()),
        }

    def grant_terms(
        case: cx.Case, acting: cx.Agent, amount: str | None, currency: str | None, form: str | None
    ) -> tuple[cx.Money, str]:
        if amount is not None:
            return cx.Money(amount, currency or ""), form or "credit"
        plan = desk.decide(case, at=settings.clock(), agent=acting, record=False)
        compensate = plan.action("compensate")
        if compensate is None or compensate.amount is None or compensate.form is None:
            raise HTTPException(422, "the plan has no compensation to grant: give an amount")
        return compensate.amount, form or compensate.form.value

    def sweep() -> dict[str, Any]:
        now = settings.clock()
        redecided = [decide(case, None) for case in store.due(now)]
        log.info("sweep at %s re-decided %d case(s)", now.isoformat(), len(redecided))
        return {"at": now.isoformat(), "redecided": redecided}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.sweep_every:

            async def every() -> None:
                while True:
                    await asyncio.sleep(settings.sweep_every or 300.0)
                    await asyncio.to_thread(sweep)

            task = asyncio.create_task(every())
        yield
        if task is not None:
            task.cancel()
        desk.ledger.close()
        store.close()

    app = FastAPI(title="CRM recovery service (cxrecovery sample)", lifespan=lifespan)

    @app.exception_handler(TicketError)
    async def bad_ticket(_: Any, error: TicketError) -> JSONResponse:
        problems = [{"path": p, "message": m} for p, m in error.problems]
        return JSONResponse({"error": "bad ticket", "problems": problems}, status_code=422)

    @app.exception_handler(LimitExceededError)
    async def over_limit(_: Any, error: LimitExceededError) -> JSONResponse:
        room = {k: str(v) for k, v in error.room.items()}
        body = {"error": "over a limit", "problems": _problems(error), "room": room}
        return JSONResponse(body, status_code=409)

    @app.exception_handler(RequestConflictError)
    @app.exception_handler(ApprovalError)
    async def conflict(_: Any, error: cx.InvalidValueError) -> JSONResponse:
        return JSONResponse({"error": str(error), "problems": _problems(error)}, 409)

    @app.exception_handler(cx.InvalidValueError)
    async def invalid(_: Any, error: cx.InvalidValueError) -> JSONResponse:
        return JSONResponse({"error": str(error), "problems": _problems(error)}, 422)

    @app.post("/webhook/ticket")
    def webhook(ticket: dict[str, Any]) -> dict[str, Any]:
        case = ticket_to_case(ticket)
        acting = by_id.get(case.owner or "")
        return decide(case, acting)

    @app.post("/cases/{case_id}/approvals")
    def ask_approval(case_id: str, ask: ApprovalAsk) -> dict[str, Any]:
        case, acting = case_of(case_id), agent(ask.agent_id)
        amount, form = grant_terms(case, acting, ask.amount, ask.currency, ask.form)
        record = desk.request_approval(
            case, amount, form, at=settings.clock(), agent=acting, approval_id=ask.approval_id
        )
        return {
            "approval_id": record.approval_id,
            "approver_role": record.approver_role,
            "amount": str(record.amount),
            "form": record.form.value,
            "status": record.status.value,
        }

    @app.post("/approvals/{approval_id}")
    def decide_approval(approval_id: str, decision: ApprovalDecision) -> dict[str, Any]:
        record = desk.approve(
            approval_id,
            at=settings.clock(),
            approver=agent(decision.approver_id),
            granted=decision.granted,
            note=decision.note,
        )
        return {"approval_id": record.approval_id, "status": record.status.value}

    @app.post("/cases/{case_id}/grants")
    def grant(case_id: str, ask: GrantAsk) -> dict[str, Any]:
        case, acting = case_of(case_id), agent(ask.agent_id)
        with desk.ledger.read() as view:
            # No amount given: a retry grants what the first try did, a grant under an
            # approval what was approved, any other the plan's compensation.
            done = view.grant(ask.request_id)
            approved = None if ask.approval_id is None else view.approval(ask.approval_id)
        earlier = done or approved
        if ask.amount is None and earlier is not None:
            amount, form = earlier.amount, ask.form or earlier.form.value
        else:
            amount, form = grant_terms(case, acting, ask.amount, ask.currency, ask.form)
        record = desk.grant(
            case,
            amount,
            form,
            at=settings.clock(),
            agent=acting,
            request_id=ask.request_id,
            approval=ask.approval_id,
            note=ask.note,
        )
        return {
            "request_id": record.request_id,
            "amount": str(record.amount),
            "form": record.form.value,
            "approval_id": record.approval_id,
        }

    @app.post("/sweep")
    def sweep_now() -> dict[str, Any]:
        return sweep()

    return app
