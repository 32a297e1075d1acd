"""The desk: the engine's decisions, checked and recorded against a ledger.

The engine is pure; the desk is where its answers meet what was already given. A grant
is re-authorised inside the ledger's write transaction, with the agent's spend and the
customer's goodwill read in that same transaction, so two desks granting at once can
never both spend the last of a budget.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from cxrecovery.engine import Engine
from cxrecovery.errors import InvalidValueError
from cxrecovery.ledger import _support as _s
from cxrecovery.ledger._errors import (
    ApprovalError,
    LedgerError,
    RequestConflictError,
)
from cxrecovery.ledger._protocol import Ledger, LedgerSession, LedgerView
from cxrecovery.ledger._records import (
    ApprovalRecord,
    ApprovalStatus,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
    PromiseRecord,
)
from cxrecovery.model import (
    Agent,
    Attributes,
    Case,
    CompensationForm,
    Promise,
    PromiseStatus,
)
from cxrecovery.money import Money
from cxrecovery.plan import Action, Authorization, RecoveryPlan
from cxrecovery.policy import RolePolicy

__all__ = ["Desk"]


# The desk's log: one record per plan decided, grant recorded and approval asked or
# decided, each with its facts as flat ``cx_*`` fields (``extra=``), so a JSON formatter
# writes them as keys. INFO level: silent unless the host configures logging, and the
# work of building a record is skipped while nothing listens.
log = logging.getLogger("cxrecovery.desk")


def _logged(event: str, message: str, **fields: object) -> None:
    if log.isEnabledFor(logging.INFO):
        extra = {"cx_event": event, **{f"cx_{k}": v for k, v in fields.items()}}
        log.info(message, extra=extra)


class Desk:
    """Where an engine's plans are decided, granted and kept, against a ledger.

    Args:
        engine: the compiled policy.
        ledger: the store (:class:`SQLiteLedger`, :class:`MemoryLedger`, or the host's).
        agents: the roster; when given, only these agents (with these roles) may act.
        clock_tolerance: how far a grant's or an approval's time may lie from the
            store's clock (:meth:`LedgerSession.now`), either way; further is refused.
        approval_lifetime: how long an approval asked stays open unless the request
            names its own ``expires_at``; after it, it can be neither decided nor used.

    Budgets are rolling windows: an agent's spend is what they granted on their own
    authority within one role ``period`` of the grant's time, the customer's goodwill
    what they received within ``customer_window``. A grant recorded with a later time
    (a clock running ahead) counts against an earlier one too, so that no window of
    that length ever holds more than the limit. A case's limits count every grant
    recorded on the case, whatever its date.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``clock_tolerance``: times far from the store's clock
       are refused; ``approval_lifetime``; :meth:`void` and :meth:`withdraw_approval`.
    """

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        *,
        agents: Iterable[Agent] | None = None,
        clock_tolerance: timedelta = timedelta(minutes=5),
        approval_lifetime: timedelta = timedelta(days=1),
    ) -> None:
        if not isinstance(clock_tolerance, timedelta) or clock_tolerance < timedelta(0):
            raise InvalidValueError.at(
                "clock_tolerance", f"{clock_tolerance!r} is not a non-negative timedelta"
            )
        if not isinstance(approval_lifetime, timedelta) or approval_lifetime <= timedelta(0):
            raise InvalidValueError.at(
                "approval_lifetime", f"{approval_lifetime!r} is not a positive timedelta"
            )
        self.clock_tolerance = clock_tolerance
        self.approval_lifetime = approval_lifetime
        if not isinstance(engine, Engine):
            raise InvalidValueError.at("engine", f"{engine!r} is not an Engine")
        if not isinstance(ledger, Ledger):
            raise InvalidValueError.at("ledger", f"{ledger!r} does not implement Ledger")
        self.engine = engine
        self.ledger = ledger
        self._roster: dict[str, Agent] | None = None
        if agents is not None:
            self._roster = {}
            for i, agent in enumerate(agents):
                self._role(agent, f"agents[{i}]")
                self._roster[agent.id] = agent

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
        return view.spent(agent.id, currency, after=at - role.period, before=at + role.period)

    def decide(
        self,
        case: Case,
        *,
        at: datetime,
        agent: Agent | None = None,
        explain: bool = False,
        record: bool = True,
    ) -> RecoveryPlan:
        """Decide ``case`` at ``at`` with the facts the ledger feeds.

        The agent's spend, the customer's goodwill, the grants and promises recorded on
        the case and the customer's earlier cases come from the ledger. With ``record``
        the plan's policy fingerprint and digest are recorded for audit.

        .. versionadded:: 0.1.0
        """
        case = _s.the_case(case)
        _s.aware(at, "at")
        role = None if agent is None else self._role(agent)
        value = case.failure.value_at_stake
        with self.ledger.read() as view:
            merged = _s.merged(view, case, full=True)
            spent = goodwill = None
            if value is not None:
                window = self.engine.policy.facts.goodwill_window
                goodwill = _s.goodwill(view, case, value.currency, at, window)
                if agent is not None and role is not None:
                    spent = self._spent(view, agent, role, value.currency, at)
        plan = self.engine.decide(
            merged, at=at, agent=agent, spent=spent, goodwill=goodwill, explain=explain
        )
        if record:
            entry = PlanRecord(
                case.id,
                at,
                None if agent is None else agent.id,
                plan.role,
                plan.policy_name,
                plan.policy_version,
                plan.policy_fingerprint,
                hashlib.sha256(plan.to_json().encode()).hexdigest(),
            )
            with self.ledger.write() as session:
                _s.ensure_case(session, case)
                session.add_plan(entry)
                session.add_event(
                    EventKind.PLAN_DECIDED,
                    case.id,
                    at=at,
                    ref=entry.plan_digest,
                    body=Attributes(
                        {
                            "agent_id": entry.agent_id,
                            "role": entry.role,
                            "policy": f"{entry.policy_name} {entry.policy_version}",
                            "policy_fingerprint": entry.policy_fingerprint,
                        }
                    ),
                )
        if log.isEnabledFor(logging.INFO):
            compensate = plan.action("compensate")
            _logged(
                "plan_decided",
                f"plan decided for case {case.id}: owner {plan.owner},"
                f" escalation level {plan.escalation_level}",
                case_id=case.id,
                at=at.isoformat(),
                agent_id=None if agent is None else agent.id,
                role=plan.role,
                owner=plan.owner,
                escalation_level=plan.escalation_level,
                compensation=None if compensate is None else str(compensate.amount),
                approvals=[a.role for a in plan.approvals],
                overdue=[a.kind.value for a in plan.overdue],
                next_review_at=None
                if plan.next_review_at is None
                else plan.next_review_at.isoformat(),
                policy=f"{plan.policy_name} {plan.policy_version}",
                policy_fingerprint=plan.policy_fingerprint,
            )
        return plan

    def current(self, case: Case) -> Case:
        """The case with the grants, promises and earlier cases the ledger holds.

        .. versionadded:: 0.1.0
        """
        case = _s.the_case(case)
        with self.ledger.read() as view:
            return _s.merged(view, case, full=True)

    def history(self, case_id: str) -> tuple[LedgerEvent, ...]:
        """Every recorded change to a case, in commit order.

        .. versionadded:: 0.1.0
        """
        with self.ledger.read() as view:
            return view.events(case_id=_s.identifier(case_id, "case_id"))

    # --- grant ---------------------------------------------------------------------------

    def grant(
        self,
        case: Case,
        amount: Money | Action,
        form: CompensationForm | str | None = None,
        *,
        at: datetime,
        agent: Agent,
        request_id: str,
        approval: str | None = None,
        note: str | None = None,
    ) -> GrantRecord:
        """Re-check every limit against the ledger and record the grant, atomically.

        ``amount`` may be a plan's ``compensate`` action (its amount and form are used).
        A retry with the same ``request_id`` and the same grant returns the original
        record and writes nothing.

        Raises:
            LimitExceededError: the grant breaks a limit (named, with the room left)
                and no ``approval`` covers it.
            ApprovalError: ``approval`` is unknown, pending, refused, used, or too low.
            RequestConflictError: ``request_id`` was used for a different grant.
            InvalidValueError: a naive time, an unknown role, the wrong currency…

        .. versionadded:: 0.1.0
        """
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
        with self.ledger.write() as session:
            existing = session.grant(record.request_id)
            if existing is not None:
                if existing.same_request(record):
                    return existing
                raise RequestConflictError.at(
                    "request_id",
                    f"{record.request_id!r} already granted {existing.amount} as"
                    f" {existing.form} on {existing.case_id!r} by {existing.agent_id!r}",
                )
            _s.check_clock(session, at, self.clock_tolerance)
            _s.ensure_case(session, case)
            merged = _s.merged(session, case, full=False, counted_at=at)
            spent = self._spent(session, agent, role, amount.currency, at)
            goodwill = _s.goodwill(session, case, amount.currency, at, role.customer_window)
            auth = self.engine.authorize(
                merged, amount, kind, at=at, agent=agent, spent=spent, goodwill=goodwill
            )
            if record.approval_id is None:
                if not auth.allowed:
                    raise _s.refusal(auth, role, merged, amount, spent, goodwill)
            else:
                self._check_approval(session, record, auth, role, merged, spent, goodwill)
            session.add_grant(record)
            session.add_event(
                EventKind.GRANT_RECORDED,
                case.id,
                at=at,
                ref=record.request_id,
                body=Attributes(
                    {
                        "customer_id": record.customer_id,
                        "agent_id": record.agent_id,
                        "role": record.role,
                        "form": record.form.value,
                        "amount": str(amount.amount),
                        "currency": amount.currency,
                        "approval_id": record.approval_id,
                    }
                ),
            )
        _logged(
            "grant_recorded",
            f"grant recorded on case {case.id}: {amount} {record.form} by {agent.id}",
            case_id=case.id,
            request_id=record.request_id,
            at=at.isoformat(),
            agent_id=agent.id,
            role=agent.role,
            form=record.form.value,
            amount=str(amount),
            approval_id=record.approval_id,
        )
        return record

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

    # --- approvals -------------------------------------------------------------------

    def request_approval(
        self,
        case: Case,
        amount: Money,
        form: CompensationForm | str,
        *,
        at: datetime,
        agent: Agent,
        approval_id: str,
        expires_at: datetime | None = None,
    ) -> ApprovalRecord:
        """Ask for an approval of a grant the agent may not make alone.

        The record names the lowest role that may approve it, as the ledger stands now.
        It stays open until ``expires_at`` (``at`` plus the desk's
        ``approval_lifetime`` if not given). Asking again with the same id and request
        returns the original record.

        Raises:
            LimitExceededError: no role in the policy may grant this.

        .. versionadded:: 0.1.0
        """
        case = _s.the_case(case)
        amount = _s.money_for(amount, case)
        kind = _s.form_of(form)
        _s.aware(at, "at")
        role = self._role(agent)
        approval_id = _s.identifier(approval_id, "approval_id")
        if expires_at is None:
            expires_at = at + self.approval_lifetime
        elif _s.aware(expires_at, "expires_at") <= at:
            raise InvalidValueError.at(
                "expires_at", f"{expires_at.isoformat()} is not after {at.isoformat()}"
            )
        with self.ledger.write() as session:
            existing = session.approval(approval_id)
            if existing is not None:
                # A retry is recognised before the limits are checked again: once the
                # approval is used, the grant it covered fills the very room it asked for.
                if (
                    existing.case_id,
                    existing.customer_id,
                    existing.asked_by,
                    existing.asked_role,
                    existing.form,
                    existing.amount,
                ) == (case.id, case.customer.id, agent.id, agent.role, kind, amount):
                    return existing
                raise RequestConflictError.at(
                    "approval_id", f"{approval_id!r} was asked for another grant"
                )
            _s.check_clock(session, at, self.clock_tolerance)
            _s.ensure_case(session, case)
            merged = _s.merged(session, case, full=False, counted_at=at)
            spent = self._spent(session, agent, role, amount.currency, at)
            goodwill = _s.goodwill(session, case, amount.currency, at, role.customer_window)
            auth = self.engine.authorize(
                merged, amount, kind, at=at, agent=agent, spent=spent, goodwill=goodwill
            )
            if not auth.allowed and auth.approver is None:
                raise _s.refusal(auth, role, merged, amount, spent, goodwill)
            record = ApprovalRecord(
                approval_id,
                case.id,
                case.customer.id,
                agent.id,
                agent.role,
                auth.approver or agent.role,
                kind,
                amount,
                at,
                reason=auth.reason,
                expires_at=expires_at,
            )
            session.add_approval(record)
            session.add_event(
                EventKind.APPROVAL_ASKED,
                case.id,
                at=at,
                ref=record.approval_id,
                body=Attributes(
                    {
                        "asked_by": agent.id,
                        "approver_role": record.approver_role,
                        "form": kind.value,
                        "amount": str(amount.amount),
                        "currency": amount.currency,
                        "expires_at": expires_at.isoformat(),
                    }
                ),
            )
        return record

    def approve(
        self,
        approval_id: str,
        *,
        at: datetime,
        approver: Agent,
        granted: bool = True,
        note: str | None = None,
    ) -> ApprovalRecord:
        """Grant (or, with ``granted=False``, refuse) an approval asked for.

        The approver must hold at least the role the approval needs, and may not approve
        their own request. Deciding again the same way returns the recorded decision.

        .. versionadded:: 0.1.0
        """
        _s.identifier(approval_id, "approval_id")
        _s.aware(at, "at")
        self._role(approver, "approver")
        if not isinstance(granted, bool):
            raise InvalidValueError.at("granted", f"{granted!r} is not true or false")
        with self.ledger.write() as session:
            found = session.approval(approval_id)
            if found is None:
                raise ApprovalError.at("approval_id", f"{approval_id!r} is not recorded")
            if found.status is ApprovalStatus.WITHDRAWN:
                raise ApprovalError.at(
                    "approval_id", f"{approval_id!r} was withdrawn by {found.withdrawn_by!r}"
                )
            if found.status is not ApprovalStatus.ASKED:
                wanted = ApprovalStatus.GRANTED if granted else ApprovalStatus.REFUSED
                if found.status is wanted and found.decided_by == approver.id:
                    return found
                raise ApprovalError.at(
                    "approval_id",
                    f"{approval_id!r} was already {found.status} by {found.decided_by!r}",
                )
            _s.check_clock(session, at, self.clock_tolerance)
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
                raise InvalidValueError.at(
                    "at", f"{at.isoformat()} is before the approval was asked"
                )
            if found.is_expired(at):
                assert found.expires_at is not None
                raise ApprovalError.at(
                    "approval_id", f"{approval_id!r} expired at {found.expires_at.isoformat()}"
                )
            session.add_decision(
                approval_id, granted, by=approver.id, role=approver.role, at=at, note=note
            )
            session.add_event(
                EventKind.APPROVAL_DECIDED,
                found.case_id,
                at=at,
                ref=approval_id,
                body=Attributes(
                    {"granted": granted, "decided_by": approver.id, "role": approver.role}
                ),
            )
            decided = session.approval(approval_id)
        assert decided is not None
        _logged(
            "approval_decided",
            f"approval {approval_id} {'granted' if granted else 'refused'} by {approver.id}",
            approval_id=approval_id,
            case_id=decided.case_id,
            at=at.isoformat(),
            granted=granted,
            approver_id=approver.id,
            approver_role=approver.role,
            amount=str(decided.amount),
            form=decided.form.value,
        )
        return decided

    def withdraw_approval(
        self, approval_id: str, *, at: datetime, agent: Agent, reason: str
    ) -> ApprovalRecord:
        """Take back an approval asked for (decided or not) while no grant used it.

        The one who asked may withdraw it, or anyone holding the role it needs or
        above. Withdrawing again with the same reason returns the recorded withdrawal.

        Raises:
            ApprovalError: unknown, already used by a grant, or not the agent's to
                withdraw.

        .. versionadded:: 0.2.0
        """
        _s.identifier(approval_id, "approval_id")
        _s.aware(at, "at")
        self._role(agent)
        reason = _s.reason_arg(reason)
        with self.ledger.write() as session:
            found = session.approval(approval_id)
            if found is None:
                raise ApprovalError.at("approval_id", f"{approval_id!r} is not recorded")
            if found.status is ApprovalStatus.WITHDRAWN:
                if found.withdrawn_by == agent.id and found.withdraw_reason == reason:
                    return found
                raise ApprovalError.at(
                    "approval_id",
                    f"{approval_id!r} was already withdrawn by {found.withdrawn_by!r}",
                )
            if agent.id != found.asked_by and self._rank(agent.role) < self._rank(
                found.approver_role
            ):
                raise ApprovalError.at(
                    "agent",
                    f"{agent.id!r} neither asked for {approval_id!r} nor holds the role it"
                    f" needs ({found.approver_role})",
                )
            used = session.grant_under(approval_id)
            if used is not None:
                raise ApprovalError.at(
                    "approval_id",
                    f"{approval_id!r} was used by grant {used.request_id!r}; void the grant",
                )
            _s.check_clock(session, at, self.clock_tolerance)
            session.add_withdrawal(approval_id, by=agent.id, at=at, reason=reason)
            session.add_event(
                EventKind.APPROVAL_WITHDRAWN,
                found.case_id,
                at=at,
                ref=approval_id,
                body=Attributes({"withdrawn_by": agent.id, "reason": reason}),
            )
            withdrawn = session.approval(approval_id)
        assert withdrawn is not None
        return withdrawn

    # --- corrections ---------------------------------------------------------------------

    def void(self, request_id: str, *, at: datetime, agent: Agent, reason: str) -> GrantRecord:
        """Void a grant: a compensating entry beside it, which frees every limit it used.

        The grant's row stays as it was; the void records who voided it, when and why,
        and the history gains a ``grant_voided`` event. The agent who granted it may
        void it, or anyone holding a role ranked above the grant's. Voiding again with
        the same reason by the same agent returns the voided record. An approval the
        grant used stays used.

        Raises:
            LedgerError: the grant is not recorded, or the time is far from the
                store's clock.
            ApprovalError: the agent may not void this grant.
            RequestConflictError: the grant was voided already, by another or for
                another reason.

        .. versionadded:: 0.2.0
        """
        request_id = _s.identifier(request_id, "request_id")
        _s.aware(at, "at")
        self._role(agent)
        reason = _s.reason_arg(reason)
        with self.ledger.write() as session:
            found = session.grant(request_id)
            if found is None:
                raise LedgerError.at("request_id", f"{request_id!r} is not a recorded grant")
            if found.is_voided:
                if found.voided_by == agent.id and found.void_reason == reason:
                    return found
                raise RequestConflictError.at(
                    "request_id",
                    f"{request_id!r} was already voided by {found.voided_by!r}:"
                    f" {found.void_reason}",
                )
            if agent.id != found.agent_id and self._rank(agent.role) <= self._rank(found.role):
                raise ApprovalError.at(
                    "agent",
                    f"{agent.id!r} ({agent.role}) may not void a grant by {found.agent_id!r}"
                    f" ({found.role}); its agent or a higher role may",
                )
            _s.check_clock(session, at, self.clock_tolerance)
            session.case(found.case_id)  # the case's lock: its grants change
            session.add_void(request_id, by=agent.id, role=agent.role, at=at, reason=reason)
            session.add_event(
                EventKind.GRANT_VOIDED,
                found.case_id,
                at=at,
                ref=request_id,
                body=Attributes(
                    {
                        "voided_by": agent.id,
                        "role": agent.role,
                        "reason": reason,
                        "amount": str(found.amount.amount),
                        "currency": found.amount.currency,
                    }
                ),
            )
        return attrs.evolve(
            found, voided_at=at, voided_by=agent.id, voided_role=agent.role, void_reason=reason
        )

    # --- promises ------------------------------------------------------------------------

    def make_promise(self, case: Case, promise: Promise) -> PromiseRecord:
        """Record a promise made on ``case`` (and its settlement, if it is settled).

        .. versionadded:: 0.1.0
        """
        case = _s.the_case(case)
        if not isinstance(promise, Promise):
            raise InvalidValueError.at("promise", f"{promise!r} is not a Promise")
        if promise.made_at < case.opened_at:
            raise InvalidValueError.at("promise.made_at", "is before the case opened")
        with self.ledger.write() as session:
            return self._record_promise(session, case, promise)

    def _record_promise(
        self, session: LedgerSession, case: Case, promise: Promise
    ) -> PromiseRecord:
        record = PromiseRecord(
            case.id,
            promise.id,
            case.customer.id,
            promise.what,
            promise.made_at,
            promise.due,
            made_by=promise.made_by,
        )
        existing = session.promise(case.id, promise.id)
        if existing is not None:
            pending = attrs.evolve(
                existing, status=PromiseStatus.PENDING, settled_at=None, settled_by=None
            )
            if pending != record:
                raise RequestConflictError.at(
                    "promise.id", f"{promise.id!r} was recorded as another promise"
                )
            return existing
        _s.ensure_case(session, case)
        session.add_promise(record)
        session.add_event(
            EventKind.PROMISE_MADE,
            case.id,
            at=promise.made_at,
            ref=promise.id,
            body=Attributes({"what": promise.what, "due": promise.due.isoformat()}),
        )
        if not promise.is_pending and promise.settled_at is not None:
            self._settle(session, case.id, record, promise.status, promise.settled_at, None)
        found = session.promise(case.id, promise.id)
        assert found is not None
        return found

    def settle_promise(
        self,
        case: Case,
        promise_id: str,
        status: PromiseStatus | str,
        *,
        at: datetime,
        agent: Agent | None = None,
    ) -> PromiseRecord:
        """Record how a promise ended: kept, broken or withdrawn, at ``at``.

        A promise on the case document that the ledger has not seen is recorded first.
        Settling again the same way returns the recorded settlement.

        .. versionadded:: 0.1.0
        """
        case = _s.the_case(case)
        _s.identifier(promise_id, "promise_id")
        try:
            outcome = PromiseStatus(status)
        except ValueError:
            outcome = None
        if outcome is None or outcome is PromiseStatus.PENDING:
            raise InvalidValueError.at(
                "status", f"{status!r} is not one of kept, broken, withdrawn"
            )
        _s.aware(at, "at")
        if agent is not None:
            self._role(agent)
        with self.ledger.write() as session:
            found = session.promise(case.id, promise_id)
            if found is None:
                known = case.promise(promise_id)
                if known is None:
                    raise LedgerError.at(
                        "promise_id", f"{promise_id!r} is not a promise on case {case.id!r}"
                    )
                found = self._record_promise(
                    session,
                    case,
                    attrs.evolve(known, status=PromiseStatus.PENDING, settled_at=None),
                )
            if not found.is_open:
                if found.status is outcome:
                    return found
                raise LedgerError.at(
                    "status",
                    f"{promise_id!r} was already settled as {found.status} at"
                    f" {found.settled_at.isoformat() if found.settled_at else '?'}",
                )
            self._settle(session, case.id, found, outcome, at, None if agent is None else agent.id)
            settled = session.promise(case.id, promise_id)
        assert settled is not None
        return settled

    def _settle(
        self,
        session: LedgerSession,
        case_id: str,
        record: PromiseRecord,
        status: PromiseStatus,
        at: datetime,
        by: str | None,
    ) -> None:
        if at < record.made_at:
            raise InvalidValueError.at("at", f"{at.isoformat()} is before the promise was made")
        session.add_settlement(case_id, record.promise_id, status, at=at, by=by)
        session.add_event(
            EventKind.PROMISE_SETTLED,
            case_id,
            at=at,
            ref=record.promise_id,
            body=Attributes({"status": status.value, "settled_by": by}),
        )
