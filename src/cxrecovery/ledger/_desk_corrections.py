"""The desk's corrections: withdrawing an approval, voiding a grant."""

from __future__ import annotations

from datetime import datetime

import attrs

from cxrecovery.ledger import _support as _s
from cxrecovery.ledger._desk_base import DeskBase
from cxrecovery.ledger._errors import ApprovalError, LedgerError, RequestConflictError
from cxrecovery.ledger._records import ApprovalRecord, ApprovalStatus, EventKind, GrantRecord
from cxrecovery.model import Agent, Attributes

__all__ = ["Corrections"]


class Corrections(DeskBase):
    """:meth:`Desk.withdraw_approval` and :meth:`Desk.void`."""

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
