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

from cxrecovery.engine import Engine
from cxrecovery.errors import InvalidValueError
from cxrecovery.ledger import _support as _s
from cxrecovery.ledger._desk_corrections import Corrections
from cxrecovery.ledger._desk_promises import Promises
from cxrecovery.ledger._errors import (
    ApprovalError,
    RequestConflictError,
)
from cxrecovery.ledger._protocol import Ledger, LedgerSession
from cxrecovery.ledger._records import (
    ApprovalRecord,
    ApprovalStatus,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
)
from cxrecovery.model import (
    Agent,
    Attributes,
    Case,
    CompensationForm,
)
from cxrecovery.money import Money
from cxrecovery.plan import Action, RecoveryPlan

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


class Desk(Corrections, Promises):
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
            self._record_plan(case, at, agent, plan)
        if log.isEnabledFor(logging.INFO):
            _log_plan(case, at, agent, plan)
        return plan

    def _record_plan(
        self, case: Case, at: datetime, agent: Agent | None, plan: RecoveryPlan
    ) -> None:
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
        case, amount, kind, role, record = self._grant_record(
            case, amount, form, at, agent, request_id, approval, note
        )
        with self.ledger.write() as session:
            _s.prefetch_grant(session, record, role)
            existing = session.grant(record.request_id)
            if existing is not None:
                if existing.same_request(record):
                    return existing
                raise RequestConflictError.at(
                    "request_id",
                    f"{record.request_id!r} already granted {existing.amount} as"
                    f" {existing.form} on {existing.case_id!r} by {existing.agent_id!r}",
                )
            auth, merged, spent, goodwill = self._authorized(
                session, case, amount, kind, at, agent, role
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
            auth, merged, spent, goodwill = self._authorized(
                session, case, amount, kind, at, agent, role
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
            _approval_asked(session, record, at, expires_at)
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
            self._may_decide(approval_id, found, at, approver)
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


def _log_plan(case: Case, at: datetime, agent: Agent | None, plan: RecoveryPlan) -> None:
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
        next_review_at=None if plan.next_review_at is None else plan.next_review_at.isoformat(),
        policy=f"{plan.policy_name} {plan.policy_version}",
        policy_fingerprint=plan.policy_fingerprint,
    )


def _approval_asked(
    session: LedgerSession, record: ApprovalRecord, at: datetime, expires_at: datetime
) -> None:
    # The times as given: the record holds them in UTC.
    session.add_event(
        EventKind.APPROVAL_ASKED,
        record.case_id,
        at=at,
        ref=record.approval_id,
        body=Attributes(
            {
                "asked_by": record.asked_by,
                "approver_role": record.approver_role,
                "form": record.form.value,
                "amount": str(record.amount.amount),
                "currency": record.amount.currency,
                "expires_at": expires_at.isoformat(),
            }
        ),
    )
