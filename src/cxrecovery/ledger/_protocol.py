"""What a host's store must do to back a :class:`~cxrecovery.ledger.Desk`.

Two protocols: a :class:`LedgerView` answers the queries the engine's facts need, and a
:class:`LedgerSession` adds the append-only writes. A :class:`Ledger` hands out views
(a consistent snapshot) and sessions (one serialised, atomic, durable transaction).
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from cxrecovery.ledger._records import (
    ApprovalRecord,
    CaseRecord,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
    PromiseRecord,
)
from cxrecovery.model import Attributes, PromiseStatus
from cxrecovery.money import Money

__all__ = ["GrantReads", "Ledger", "LedgerSession", "LedgerView"]


@attrs.frozen
class GrantReads:
    """Everything a grant's limit checks are about to read, announced up front.

    A desk hands it to ``session.prefetch_grant(reads)`` before its first read, when
    the session has that method (no store needs it): a store that can, then locks and
    reads it all in one round trip, and answers the queries that follow (the request
    id, the case and its grants, the agent's spend and the customer's goodwill in
    these windows, the approval and the grant under it) from what it read, until the
    session appends. The answers must be the very ones the queries would give.
    """

    request_id: str
    case_id: str
    customer_id: str
    agent_id: str
    currency: str
    agent_window: tuple[datetime, datetime]
    customer_window: tuple[datetime, datetime]
    approval_id: str | None


@runtime_checkable
class LedgerView(Protocol):
    """The queries a desk asks of a ledger; all from one consistent snapshot.

    Windows are open at ``after`` and closed at ``before``: ``after < at <= before``.

    .. versionadded:: 0.1.0
    """

    def case(self, case_id: str) -> CaseRecord | None:
        """The case recorded under ``case_id``, or ``None``."""
        ...

    def cases(self, customer_id: str) -> tuple[CaseRecord, ...]:
        """The customer's recorded cases, oldest first (their prior failures)."""
        ...

    def grant(self, request_id: str) -> GrantRecord | None:
        """The grant recorded under ``request_id``, or ``None``."""
        ...

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
        """The grants that match every filter given, in ``(at, request_id)`` order.

        ``since <= at < until``; ``voided`` True or False keeps only voided or only
        standing grants. A page: ``limit`` grants that come after ``after`` (the last
        grant of the previous page) in that order.

        .. versionchanged:: 0.2.0 ``agent_id``, ``since``, ``until``, ``voided``,
           ``after``, ``limit``.
        """
        ...

    def spent(self, agent_id: str, currency: str, *, after: datetime, before: datetime) -> Money:
        """What ``agent_id`` granted on their own authority (no approval) in the window,
        voided grants aside."""
        ...

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        """What ``customer_id`` received in the window, approved or not, voided aside."""
        ...

    def promise(self, case_id: str, promise_id: str) -> PromiseRecord | None:
        """The promise, with its settlement if any, or ``None``."""
        ...

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        """The promises on a case or to a customer, in the order they were made."""
        ...

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        """The approval, with its decision if any, or ``None``."""
        ...

    def grant_under(self, approval_id: str) -> GrantRecord | None:
        """The grant made under ``approval_id``, or ``None`` while it is unused."""
        ...

    def plans(self, case_id: str) -> tuple[PlanRecord, ...]:
        """The plans decided for a case, in the order they were recorded."""
        ...

    def events(
        self,
        *,
        case_id: str | None = None,
        kinds: Collection[EventKind] | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> tuple[LedgerEvent, ...]:
        """The event history (of one case, or all; of some kinds), in ``seq`` order.

        A page: ``limit`` events whose ``seq`` is above ``after_seq``.

        .. versionchanged:: 0.2.0 ``kinds``, ``after_seq``, ``limit``.
        """
        ...


@runtime_checkable
class LedgerSession(LedgerView, Protocol):
    """A write transaction: the queries, plus appends that land together or not at all.

    Nothing is ever updated in place: a settlement and an approval's decision are new
    rows beside the promise or approval they settle.

    .. versionadded:: 0.1.0
    """

    def now(self) -> datetime:
        """The store's clock (aware): the desk refuses times too far from it.

        A store that several hosts share should answer from one clock for all of them
        (the database server's), not from each host's own.

        .. versionadded:: 0.2.0
        """
        ...

    def add_case(self, record: CaseRecord) -> None:
        """Record a case (the caller checked it is not there yet)."""
        ...

    def add_grant(self, record: GrantRecord) -> None:
        """Record a grant (the caller checked the request id is new)."""
        ...

    def add_promise(self, record: PromiseRecord) -> None:
        """Record a pending promise."""
        ...

    def add_settlement(
        self,
        case_id: str,
        promise_id: str,
        status: PromiseStatus,
        *,
        at: datetime,
        by: str | None,
    ) -> None:
        """Record how and when a pending promise was settled."""
        ...

    def add_approval(self, record: ApprovalRecord) -> None:
        """Record an approval asked (status ``asked``)."""
        ...

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
        """Record an approval's decision."""
        ...

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        """Record that a grant was voided: a new row beside it, never an update.

        .. versionadded:: 0.2.0
        """
        ...

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        """Record that an approval was withdrawn.

        .. versionadded:: 0.2.0
        """
        ...

    def add_plan(self, record: PlanRecord) -> None:
        """Record a decided plan."""
        ...

    def add_event(
        self, kind: EventKind, case_id: str, *, at: datetime, ref: str, body: Attributes
    ) -> None:
        """Append an event to the history; its ``seq`` follows every committed one."""
        ...


@runtime_checkable
class Ledger(Protocol):
    """A store of grants, promises, approvals and plans that a desk can rely on.

    ``write()`` must be serialised against every other writer of the same store (in
    every thread and process), atomic (on an exception nothing of the session stays)
    and durable once the ``with`` block has exited. ``read()`` must see only committed
    writes, from one snapshot.

    .. versionadded:: 0.1.0
    """

    def read(self) -> AbstractContextManager[LedgerView]:
        """A consistent snapshot to query."""
        ...

    def write(self) -> AbstractContextManager[LedgerSession]:
        """One write transaction: committed when the block ends, rolled back on error."""
        ...

    def close(self) -> None:
        """Release the store's resources; the ledger is unusable afterwards."""
        ...
