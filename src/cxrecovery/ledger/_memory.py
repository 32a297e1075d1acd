"""A ledger held in memory: for tests, and as the plainest model of the protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

import attrs

from cxrecovery.ledger._chain import GENESIS, body_json, event_hash
from cxrecovery.ledger._errors import LedgerError, RequestConflictError
from cxrecovery.ledger._records import (
    ApprovalRecord,
    ApprovalStatus,
    CaseRecord,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
    PromiseRecord,
    instant_us,
)
from cxrecovery.ledger._support import clock_arg as _clock_arg
from cxrecovery.ledger._support import kinds_arg, page_limit, select_grants, seq_arg
from cxrecovery.model import Attributes, PromiseStatus
from cxrecovery.money import Money

__all__ = ["MemoryLedger"]


@attrs.define
class _Settlement:
    status: PromiseStatus
    at: datetime
    by: str | None


@attrs.define
class _Decision:
    granted: bool
    by: str
    role: str
    at: datetime
    note: str | None


@attrs.define
class _Void:
    by: str
    role: str
    at: datetime
    reason: str


@attrs.define
class _Withdrawal:
    by: str
    at: datetime
    reason: str


@attrs.define
class _State:
    cases: dict[str, CaseRecord] = attrs.Factory(dict)
    grants: dict[str, GrantRecord] = attrs.Factory(dict)
    by_approval: dict[str, str] = attrs.Factory(dict)
    promises: dict[tuple[str, str], PromiseRecord] = attrs.Factory(dict)
    settlements: dict[tuple[str, str], _Settlement] = attrs.Factory(dict)
    approvals: dict[str, ApprovalRecord] = attrs.Factory(dict)
    decisions: dict[str, _Decision] = attrs.Factory(dict)
    plans: list[PlanRecord] = attrs.Factory(list)
    events: list[LedgerEvent] = attrs.Factory(list)
    voids: dict[str, _Void] = attrs.Factory(dict)
    withdrawals: dict[str, _Withdrawal] = attrs.Factory(dict)

    def copy(self) -> _State:
        return _State(
            dict(self.cases),
            dict(self.grants),
            dict(self.by_approval),
            dict(self.promises),
            dict(self.settlements),
            dict(self.approvals),
            dict(self.decisions),
            list(self.plans),
            list(self.events),
            dict(self.voids),
            dict(self.withdrawals),
        )


def _within(at: datetime, after: datetime, before: datetime) -> bool:
    return after < at <= before


class _View:
    def __init__(self, state: _State) -> None:
        self._s = state

    def case(self, case_id: str) -> CaseRecord | None:
        return self._s.cases.get(case_id)

    def cases(self, customer_id: str) -> tuple[CaseRecord, ...]:
        found = [c for c in self._s.cases.values() if c.customer_id == customer_id]
        return tuple(sorted(found, key=lambda c: (c.opened_at, c.case_id)))

    def _with_void(self, record: GrantRecord) -> GrantRecord:
        void = self._s.voids.get(record.request_id)
        if void is None:
            return record
        return attrs.evolve(
            record,
            voided_at=void.at,
            voided_by=void.by,
            voided_role=void.role,
            void_reason=void.reason,
        )

    def grant(self, request_id: str) -> GrantRecord | None:
        record = self._s.grants.get(request_id)
        return None if record is None else self._with_void(record)

    def grants(
        self,
        *,
        case_id: str | None = None,
        customer_id: str | None = None,
        agent_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        voided: bool | None = None,
        after: GrantRecord | None = None,
        limit: int | None = None,
    ) -> tuple[GrantRecord, ...]:
        return select_grants(
            (self._with_void(g) for g in self._s.grants.values()),
            case_id=case_id,
            customer_id=customer_id,
            agent_id=agent_id,
            since=since,
            until=until,
            voided=voided,
            after=after,
            limit=limit,
        )

    def spent(self, agent_id: str, currency: str, *, after: datetime, before: datetime) -> Money:
        return Money.sum(
            (
                g.amount
                for g in self._s.grants.values()
                if g.agent_id == agent_id
                and g.approval_id is None
                and g.amount.currency == currency
                and _within(g.at, after, before)
                and g.request_id not in self._s.voids
            ),
            currency,
        )

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        return Money.sum(
            (
                g.amount
                for g in self._s.grants.values()
                if g.customer_id == customer_id
                and g.amount.currency == currency
                and _within(g.at, after, before)
                and g.request_id not in self._s.voids
            ),
            currency,
        )

    def promise(self, case_id: str, promise_id: str) -> PromiseRecord | None:
        key = (case_id, promise_id)
        record = self._s.promises.get(key)
        settled = self._s.settlements.get(key)
        if record is None or settled is None:
            return record
        return attrs.evolve(
            record, status=settled.status, settled_at=settled.at, settled_by=settled.by
        )

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        found = []
        for key, p in self._s.promises.items():
            if (case_id is None or p.case_id == case_id) and (
                customer_id is None or p.customer_id == customer_id
            ):
                record = self.promise(*key)
                assert record is not None
                found.append(record)
        return tuple(found)

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        record = self._s.approvals.get(approval_id)
        if record is None:
            return None
        decided = self._s.decisions.get(approval_id)
        if decided is not None:
            record = attrs.evolve(
                record,
                status=ApprovalStatus.GRANTED if decided.granted else ApprovalStatus.REFUSED,
                decided_by=decided.by,
                decided_role=decided.role,
                decided_at=decided.at,
                note=decided.note,
            )
        withdrawn = self._s.withdrawals.get(approval_id)
        if withdrawn is not None:
            record = attrs.evolve(
                record,
                status=ApprovalStatus.WITHDRAWN,
                withdrawn_by=withdrawn.by,
                withdrawn_at=withdrawn.at,
                withdraw_reason=withdrawn.reason,
            )
        return record

    def grant_under(self, approval_id: str) -> GrantRecord | None:
        request_id = self._s.by_approval.get(approval_id)
        return None if request_id is None else self.grant(request_id)

    def plans(self, case_id: str) -> tuple[PlanRecord, ...]:
        return tuple(p for p in self._s.plans if p.case_id == case_id)

    def events(
        self,
        *,
        case_id: str | None = None,
        kinds: Collection[EventKind] | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> tuple[LedgerEvent, ...]:
        limit = page_limit(limit)
        wanted = kinds_arg(kinds)
        found = [
            e
            for e in self._s.events[seq_arg(after_seq) :]
            if (case_id is None or e.case_id == case_id) and (wanted is None or e.kind in wanted)
        ]
        return tuple(found if limit is None else found[:limit])


class _Session(_View):
    def __init__(self, state: _State, clock: Callable[[], datetime]) -> None:
        super().__init__(state)
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def add_case(self, record: CaseRecord) -> None:
        if record.case_id in self._s.cases:
            raise RequestConflictError.at("case_id", f"{record.case_id!r} is already recorded")
        self._s.cases[record.case_id] = record

    def _need_case(self, case_id: str) -> None:
        if case_id not in self._s.cases:
            raise LedgerError.at("case_id", f"{case_id!r} is not recorded")

    def add_grant(self, record: GrantRecord) -> None:
        self._need_case(record.case_id)
        if record.request_id in self._s.grants:
            raise RequestConflictError.at(
                "request_id", f"{record.request_id!r} is already recorded"
            )
        if record.approval_id is not None:
            if record.approval_id not in self._s.approvals:
                raise LedgerError.at("approval", f"{record.approval_id!r} is not recorded")
            if record.approval_id in self._s.by_approval:
                raise RequestConflictError.at(
                    "approval", f"{record.approval_id!r} is already used"
                )
            self._s.by_approval[record.approval_id] = record.request_id
        self._s.grants[record.request_id] = record

    def add_promise(self, record: PromiseRecord) -> None:
        self._need_case(record.case_id)
        key = (record.case_id, record.promise_id)
        if key in self._s.promises:
            raise RequestConflictError.at("promise", f"{record.promise_id!r} is already recorded")
        self._s.promises[key] = attrs.evolve(
            record, status=PromiseStatus.PENDING, settled_at=None, settled_by=None
        )

    def add_settlement(
        self,
        case_id: str,
        promise_id: str,
        status: PromiseStatus,
        *,
        at: datetime,
        by: str | None,
    ) -> None:
        key = (case_id, promise_id)
        if key not in self._s.promises:
            raise LedgerError.at("promise", f"{promise_id!r} is not recorded on {case_id!r}")
        if key in self._s.settlements:
            raise RequestConflictError.at("promise", f"{promise_id!r} is already settled")
        self._s.settlements[key] = _Settlement(status, at, by)

    def add_approval(self, record: ApprovalRecord) -> None:
        self._need_case(record.case_id)
        if record.approval_id in self._s.approvals:
            raise RequestConflictError.at(
                "approval", f"{record.approval_id!r} is already recorded"
            )
        self._s.approvals[record.approval_id] = record

    def add_decision(
        self,
        approval_id: str,
        granted: bool,
        *,
        by: str,
        role: str,
        at: datetime,
        note: str | None,
    ) -> None:
        if approval_id not in self._s.approvals:
            raise LedgerError.at("approval", f"{approval_id!r} is not recorded")
        if approval_id in self._s.decisions:
            raise RequestConflictError.at("approval", f"{approval_id!r} is already decided")
        self._s.decisions[approval_id] = _Decision(granted, by, role, at, note)

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        if request_id not in self._s.grants:
            raise LedgerError.at("request_id", f"{request_id!r} is not recorded")
        if request_id in self._s.voids:
            raise RequestConflictError.at("request_id", f"{request_id!r} is already voided")
        self._s.voids[request_id] = _Void(by, role, at, reason)

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        if approval_id not in self._s.approvals:
            raise LedgerError.at("approval", f"{approval_id!r} is not recorded")
        if approval_id in self._s.withdrawals:
            raise RequestConflictError.at("approval", f"{approval_id!r} is already withdrawn")
        self._s.withdrawals[approval_id] = _Withdrawal(by, at, reason)

    def add_plan(self, record: PlanRecord) -> None:
        self._s.plans.append(record)

    def add_event(
        self, kind: EventKind, case_id: str, *, at: datetime, ref: str, body: Attributes
    ) -> None:
        seq = len(self._s.events) + 1
        prev = self._s.events[-1].hash if self._s.events else None
        kind = EventKind(kind)
        digest = event_hash(
            prev or GENESIS, seq, kind.value, case_id, instant_us(at), ref, body_json(body)
        )
        self._s.events.append(LedgerEvent(seq, kind, case_id, at, ref, body, hash=digest))


class MemoryLedger:
    """A :class:`Ledger` in memory: shared by threads, lost with the process.

    Writers take turns under one lock; each session works on a copy of the state that
    replaces it only when the session ends without an error, so a failed call leaves
    nothing behind. Meant for tests and examples, not for volume.

    Args:
        clock: the store's clock (:meth:`LedgerSession.now`); the wall clock in UTC
            if not given. Tests pass a fixed or stepped one.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``clock``.
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = _clock_arg(clock)
        self._state = _State()
        self._lock = threading.Lock()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError.at("ledger", "this ledger is closed")

    @contextmanager
    def read(self) -> Iterator[_View]:
        self._check_open()
        # Committed states are never mutated (a session works on a copy), so a reference
        # is a snapshot.
        yield _View(self._state)

    @contextmanager
    def write(self) -> Iterator[_Session]:
        self._check_open()
        with self._lock:
            staged = self._state.copy()
            yield _Session(staged, self._clock)
            self._state = staged

    def close(self) -> None:
        self._closed = True
