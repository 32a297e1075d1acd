"""What every verb of the desk checks: who may act, the ledger's view of a grant, and
the approval a grant names."""

from __future__ import annotations

from datetime import datetime, timedelta

from cxrecovery.engine import Engine
from cxrecovery.errors import InvalidValueError
from cxrecovery.ledger import _support as _s
from cxrecovery.ledger._errors import ApprovalError
from cxrecovery.ledger._protocol import Ledger, LedgerSession, LedgerView
from cxrecovery.ledger._records import ApprovalRecord, ApprovalStatus, GrantRecord
from cxrecovery.model import Agent, Case, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import Action, Authorization
from cxrecovery.policy import RolePolicy

__all__ = ["DeskBase"]


class DeskBase:
    """The state and the checks the desk's verbs share (see :class:`Desk`)."""

    engine: Engine
    ledger: Ledger
    clock_tolerance: timedelta
    approval_lifetime: timedelta
    _roster: dict[str, Agent] | None

    # --- checks ----------------------------------------------------------------------

    def _role(self, agent: object, path: str = "agent") -> RolePolicy:
        if not isinstance(agent, Agent):
            raise InvalidValueError.at(path, f"{agent!r} is not an Agent")
        role = self.engine.policy.role(agent.role)
        if role is None:
            names = ", ".join(r.name for r in self.engine.policy.roles)
            raise InvalidValueError.at(
                f"{path}.role", f"{agent.role!r} is not a role of this policy ({names})"
            )
        if path in ("agent", "approver"):
            self._on_roster(agent, path)
        return role

    def _on_roster(self, agent: Agent, path: str) -> None:
        if self._roster is None:
            return
        known = self._roster.get(agent.id)
        if known is None:
            raise InvalidValueError.at(f"{path}.id", f"{agent.id!r} is not on the desk's roster")
        if known.role != agent.role:
            raise InvalidValueError.at(
                f"{path}.role", f"{agent.id!r} holds the role {known.role!r}, not {agent.role!r}"
            )

    def _rank(self, role: str) -> int:
        found = self.engine.policy.role(role)
        return -1 if found is None else found.rank

    # --- what the ledger knows ---------------------------------------------------------

    def _spent(
        self, view: LedgerView, agent: Agent, role: RolePolicy, currency: str, at: datetime
    ) -> Money:
        after, before = _s.window(at, role.period)
        return view.spent(agent.id, currency, after=after, before=before)

    def _authorized(
        self,
        session: LedgerSession,
        case: Case,
        amount: Money,
        kind: CompensationForm,
        at: datetime,
        agent: Agent,
        role: RolePolicy,
    ) -> tuple[Authorization, Case, Money, Money]:
        """Authorise a grant against the ledger inside its write transaction: the
        authorisation, the case as the ledger holds it, the agent's spend and the
        customer's goodwill."""
        _s.check_clock(session, at, self.clock_tolerance)
        _s.ensure_case(session, case)
        merged = _s.merged(session, case, full=False, counted_at=at)
        spent = self._spent(session, agent, role, amount.currency, at)
        goodwill = _s.goodwill(session, case, amount.currency, at, role.customer_window)
        auth = self.engine.authorize(
            merged, amount, kind, at=at, agent=agent, spent=spent, goodwill=goodwill
        )
        return auth, merged, spent, goodwill

    def _grant_record(
        self,
        case: Case,
        amount: Money | Action,
        form: CompensationForm | str | None,
        at: datetime,
        agent: Agent,
        request_id: str,
        approval: str | None,
        note: str | None,
    ) -> tuple[Case, Money, CompensationForm, RolePolicy, GrantRecord]:
        """A grant's arguments, checked, and the record they make."""
        case = _s.the_case(case)
        if isinstance(amount, Action):
            form = amount.form if form is None else form
            if amount.amount is None:
                raise InvalidValueError.at("amount", f"the {amount.kind} action has no amount")
            amount = amount.amount
        amount = _s.money_for(amount, case)
        kind = _s.form_of(form)
        _s.aware(at, "at")
        role = self._role(agent)
        if at < case.opened_at:
            raise InvalidValueError.at(
                "at", f"{at.isoformat()} is before the case opened ({case.opened_at.isoformat()})"
            )
        record = GrantRecord(
            _s.identifier(request_id, "request_id"),
            case.id,
            case.customer.id,
            agent.id,
            agent.role,
            kind,
            amount,
            at,
            approval_id=None if approval is None else _s.identifier(approval, "approval"),
            note=note,
        )
        return case, amount, kind, role, record

    def _may_decide(
        self, approval_id: str, found: ApprovalRecord, at: datetime, approver: Agent
    ) -> None:
        """Refuse an approver who asked for it, ranks too low, or comes too early or late."""
        if approver.id == found.asked_by:
            raise ApprovalError.at(
                "approver.id", f"{approver.id!r} may not decide their own request"
            )
        if self._rank(approver.role) < self._rank(found.approver_role):
            raise ApprovalError.at(
                "approver.role",
                f"{approval_id!r} needs a {found.approver_role} or above;"
                f" {approver.id!r} is a {approver.role}",
            )
        if at < found.asked_at:
            raise InvalidValueError.at("at", f"{at.isoformat()} is before the approval was asked")
        if found.is_expired(at):
            assert found.expires_at is not None
            raise ApprovalError.at(
                "approval_id", f"{approval_id!r} expired at {found.expires_at.isoformat()}"
            )

    def _check_approval(
        self,
        session: LedgerSession,
        record: GrantRecord,
        auth: Authorization,
        role: RolePolicy,
        merged: Case,
        spent: Money,
        goodwill: Money,
    ) -> None:
        approval_id = record.approval_id
        assert approval_id is not None
        found = session.approval(approval_id)
        if found is None:
            raise ApprovalError.at("approval", f"{approval_id!r} is not recorded")
        if (found.case_id, found.form, found.amount, found.asked_by) != (
            record.case_id,
            record.form,
            record.amount,
            record.agent_id,
        ):
            raise ApprovalError.at(
                "approval",
                f"{approval_id!r} was asked by {found.asked_by!r} for {found.amount} as"
                f" {found.form} on {found.case_id!r}, not by {record.agent_id!r} for"
                f" {record.amount} as {record.form} on {record.case_id!r}",
            )
        if found.status is ApprovalStatus.WITHDRAWN:
            raise ApprovalError.at(
                "approval",
                f"{approval_id!r} was withdrawn by {found.withdrawn_by!r}:"
                f" {found.withdraw_reason}",
            )
        if found.is_expired(record.at):
            assert found.expires_at is not None
            raise ApprovalError.at(
                "approval", f"{approval_id!r} expired at {found.expires_at.isoformat()}"
            )
        if found.status is ApprovalStatus.ASKED:
            raise ApprovalError.at("approval", f"{approval_id!r} is still waiting for a decision")
        if found.status is ApprovalStatus.REFUSED:
            raise ApprovalError.at(
                "approval", f"{approval_id!r} was refused by {found.decided_by!r}"
            )
        used = session.grant_under(approval_id)
        if used is not None:
            raise ApprovalError.at(
                "approval", f"{approval_id!r} was already used by grant {used.request_id!r}"
            )
        if auth.allowed:
            return
        if auth.approver is None:
            raise _s.refusal(auth, role, merged, record.amount, spent, goodwill)
        if self._rank(found.decided_role or "") < self._rank(auth.approver):
            raise ApprovalError.at(
                "approval",
                f"{approval_id!r} was approved by a {found.decided_role}, but the grant now"
                f" needs a {auth.approver}: {auth.reason}",
            )
