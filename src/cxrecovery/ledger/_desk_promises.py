"""The desk's promises: recording a promise made and how it ended."""

from __future__ import annotations

from datetime import datetime

import attrs

from cxrecovery.errors import InvalidValueError
from cxrecovery.ledger import _support as _s
from cxrecovery.ledger._desk_base import DeskBase
from cxrecovery.ledger._errors import LedgerError, RequestConflictError
from cxrecovery.ledger._protocol import LedgerSession
from cxrecovery.ledger._records import EventKind, PromiseRecord
from cxrecovery.model import Agent, Attributes, Case, Promise, PromiseStatus

__all__ = ["Promises"]


class Promises(DeskBase):
    """:meth:`Desk.make_promise` and :meth:`Desk.settle_promise`."""

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
