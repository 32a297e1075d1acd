"""The PostgreSQL ledger's write session: locks before reads, appends deferred into the
next round trip, and the commit (see ``_postgres.py`` for the design).

A grant takes two round trips: ``BEGIN`` and ``grant_reads`` (every lock, then every
read its limits need, on the server), then the appends, the events (sealed at once
when the seal lock is free, queued otherwise) and ``COMMIT``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs

from cxrecovery.ledger._chain import body_json
from cxrecovery.ledger._pg_view import (
    AGENT,
    APPROVAL,
    CASE,
    CASE_GRANTS_SELECT,
    CASE_SELECT,
    CUSTOMER,
    REQUEST,
    SEAL,
    View,
    case_row,
)
from cxrecovery.ledger._protocol import GrantReads
from cxrecovery.ledger._records import (
    ApprovalRecord,
    CaseRecord,
    EventKind,
    GrantRecord,
    PlanRecord,
    PromiseRecord,
    from_us,
    instant_us,
)
from cxrecovery.ledger._sql import (
    approval_row,
    approval_values,
    case_values,
    grant_row,
    grant_values,
    inserts,
    plan_values,
    promise_values,
    settlement_values,
)
from cxrecovery.model import Attributes, PromiseStatus
from cxrecovery.money import Money

if TYPE_CHECKING:
    import psycopg

__all__ = ["Session"]

_us = instant_us
_INSERT: Final = inserts("%s")

_GRANT_READS: Final = "SELECT grant_reads(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_QUEUE_EVENTS: Final = "SELECT queue_events(%s, %s, %s, %s, %s, %s, %s)"


@attrs.frozen
class _Read:
    """What ``grant_reads`` answered, for the queries that follow it."""

    reads: GrantReads
    case: CaseRecord | None
    grant: GrantRecord | None
    spent: int
    goodwill: int
    approval: ApprovalRecord | None
    under: GrantRecord | None


class Session(View):
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        where: str,
        schema: str,
        clock: Callable[[], datetime] | None,
    ) -> None:
        super().__init__(conn, where)
        # One cursor for the statements whose results nobody reads (BEGIN, the locks,
        # the appends, COMMIT): fewer cursors made a grant.
        self._sink = conn.cursor()
        self._schema = schema
        self._clock = clock
        self._held: set[tuple[int, str]] = set()
        self._locks: list[tuple[int, str]] = []
        # Statements sent with the next query, in one round trip: BEGIN (and the
        # server's clock) at first, then the appends, which return nothing to wait for.
        self._deferred: list[tuple[str, Any]] = [("BEGIN", None)]
        self._clock_cursor: psycopg.Cursor[Any] | None = None
        self._now: datetime | None = None
        self._case_grants: dict[str, list[GrantRecord]] = {}
        # What grant_reads answered, while the session has not appended since.
        self._read: _Read | None = None
        # The events to queue at the commit, as the columns of ``queue_events``.
        self._events: tuple[list[str], list[str], list[int], list[str], list[str]]
        self._events = ([], [], [], [], [])
        self._started = False

    def _lock(self, kind: int, key: str) -> None:
        if (kind, key) not in self._held:
            self._held.add((kind, key))
            self._locks.append((kind, f"{self._schema}:{key}"))

    @property
    def queued(self) -> bool:
        """Whether this session has events to queue at its commit."""
        return bool(self._events[0])

    def _flush(self, *, clock: bool = True) -> None:
        """Send the deferred statements and the locks (inside a pipeline)."""
        for sql, args in self._deferred:
            self._sink.execute(sql, args)
            if sql == "BEGIN":
                self._started = True
                if self._clock is None and clock:
                    self._clock_cursor = self._c.execute("SELECT clock_timestamp()")
        self._deferred.clear()
        for key in self._locks:
            # The lock before the query it guards: the server runs them in turn, so
            # the query's snapshot is taken once the lock is held.
            self._sink.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", key)
        self._locks.clear()

    def _execute(self, sql: str, args: Any) -> psycopg.Cursor[Any]:
        if not self._deferred and not self._locks:
            return self._c.execute(sql, args)
        with self._c.pipeline():
            self._flush()
            cursor = self._c.execute(sql, args)
        return cursor

    def _send(self, last: list[tuple[str, Any]]) -> psycopg.ClientCursor[Any]:
        """Send the deferred statements, the locks and then ``last`` as one message
        (the simple protocol, values bound here), so the server wakes once for all of
        them; the cursor is left on the last statement's result. A grant's two round
        trips go this way: fewer messages mean fewer waits for a CPU on a busy host."""
        parts: list[str] = []
        args: list[Any] = []
        for sql, values in self._deferred:
            if sql == "BEGIN":
                self._started = True
            parts.append(sql)
            args.extend(values or ())
        self._deferred.clear()
        for key in self._locks:
            parts.append("SELECT pg_advisory_xact_lock(%s, hashtext(%s))")
            args.extend(key)
        self._locks.clear()
        for sql, values in last:
            parts.append(sql)
            args.extend(values)
        import psycopg  # present: this session's connection is psycopg's

        cursor = psycopg.ClientCursor(self._c)
        cursor.execute("; ".join(parts), args)
        while cursor.nextset():
            pass
        return cursor

    def prefetch_grant(self, reads: GrantReads) -> None:
        """Lock and read all a grant's checks need, in one round trip with ``BEGIN``
        (see :class:`GrantReads`); only as the session's first step."""
        if self._started or self._locks:
            return
        keys = [
            (REQUEST, reads.request_id),
            (CASE, reads.case_id),
            (AGENT, reads.agent_id),
            (CUSTOMER, reads.customer_id),
        ]
        if reads.approval_id is not None:
            keys.append((APPROVAL, reads.approval_id))
        self._held.update(keys)
        (a_after, a_before), (c_after, c_before) = reads.agent_window, reads.customer_window
        found = self._send(
            [
                (
                    _GRANT_READS,
                    (
                        self._schema,
                        reads.request_id,
                        reads.case_id,
                        reads.agent_id,
                        reads.customer_id,
                        reads.currency,
                        _us(a_after),
                        _us(a_before),
                        _us(c_after),
                        _us(c_before),
                        reads.approval_id,
                    ),
                )
            ]
        )
        row = found.fetchone()
        assert row is not None
        now, grant, case, grants, spent, goodwill, approval, under = row[0]
        self._case_grants[reads.case_id] = [grant_row(g) for g in grants]
        if self._clock is None:
            self._now = from_us(now)
        self._read = _Read(
            reads,
            None if case is None else case_row(case),
            None if grant is None else grant_row(grant),
            spent,
            goodwill,
            None if approval is None else approval_row(approval),
            None if under is None else grant_row(under),
        )

    def grant(self, request_id: str) -> GrantRecord | None:
        read = self._read
        if read is not None and read.reads.request_id == request_id:
            return read.grant
        return super().grant(request_id)

    def spent(self, agent_id: str, currency: str, *, after: datetime, before: datetime) -> Money:
        read = self._read
        if read is not None and (agent_id, currency, after, before) == (
            read.reads.agent_id,
            read.reads.currency,
            *read.reads.agent_window,
        ):
            return Money.from_minor(read.spent, currency)
        return super().spent(agent_id, currency, after=after, before=before)

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        read = self._read
        if read is not None and (customer_id, currency, after, before) == (
            read.reads.customer_id,
            read.reads.currency,
            *read.reads.customer_window,
        ):
            return Money.from_minor(read.goodwill, currency)
        return super().goodwill(customer_id, currency, after=after, before=before)

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        read = self._read
        if read is not None and read.reads.approval_id == approval_id:
            return read.approval
        return super().approval(approval_id)

    def grant_under(self, approval_id: str) -> GrantRecord | None:
        read = self._read
        if read is not None and read.reads.approval_id == approval_id:
            return read.under
        return super().grant_under(approval_id)

    def case(self, case_id: str) -> CaseRecord | None:
        read = self._read
        if read is not None and read.reads.case_id == case_id:
            return read.case
        # A desk that looks a case up next reads its grants: both in one round trip.
        # The case's lock keeps them current for the rest of the session, since every
        # grant on the case is written under that lock.
        self._lock(CASE, case_id)
        with self._c.pipeline():
            self._flush()
            found = self._c.execute(CASE_SELECT, (case_id,))
            grants = self._c.execute(CASE_GRANTS_SELECT, (case_id,))
        self._case_grants[case_id] = [grant_row(r) for r in grants.fetchall()]
        row = found.fetchone()
        return None if row is None else case_row(row)

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
        known = None if case_id is None else self._case_grants.get(case_id)
        plain = (customer_id, agent_id, since, until, voided, after, limit) == (None,) * 7
        if known is not None and plain:
            return tuple(known)
        return super().grants(
            case_id=case_id,
            customer_id=customer_id,
            agent_id=agent_id,
            since=since,
            until=until,
            voided=voided,
            after=after,
            limit=limit,
        )

    def _defer(self, sql: str, args: Any, *, stale: bool = False) -> None:
        self._deferred.append((sql, args))
        if stale:  # an append that changes what grant_reads answered
            self._read = None

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        if self._now is None:
            if self._clock_cursor is None:
                with self._c.pipeline():
                    self._flush()
            assert self._clock_cursor is not None
            row = self._clock_cursor.fetchone()
            assert row is not None
            self._now = row[0]
        return self._now

    def commit(self) -> None:
        """Commit, in one round trip: the deferred appends, the events (sealed at once
        when the seal lock is free, after any others queued; queued otherwise, for the
        next seal: a writer's, or the one every read begins with) and ``COMMIT``. The
        writer never waits for the seal lock."""
        if not self._started and len(self._deferred) <= 1 and not self.queued:
            return  # nothing was read or written: no transaction to end
        last: list[tuple[str, Any]] = [("COMMIT", ())]
        if self.queued:
            last.insert(0, (_QUEUE_EVENTS, (SEAL, self._schema, *self._events)))
        self._send(last)

    def rollback(self) -> None:
        if self._started and not self._c.closed:
            self._c.execute("ROLLBACK")

    def add_case(self, record: CaseRecord) -> None:
        self._defer(_INSERT["case"], case_values(record))
        if self._read is not None and self._read.reads.case_id == record.case_id:
            self._read = attrs.evolve(self._read, case=record)

    def add_grant(self, record: GrantRecord) -> None:
        self._defer(_INSERT["grant"], grant_values(record), stale=True)
        known = self._case_grants.get(record.case_id)
        if known is not None:
            known.append(record)
            known.sort(key=lambda g: (g.at, g.request_id))

    def add_promise(self, record: PromiseRecord) -> None:
        self._defer(_INSERT["promise"], promise_values(record))

    def add_settlement(
        self,
        case_id: str,
        promise_id: str,
        status: PromiseStatus,
        *,
        at: datetime,
        by: str | None,
    ) -> None:
        self._defer(_INSERT["settlement"], settlement_values(case_id, promise_id, status, at, by))

    def add_approval(self, record: ApprovalRecord) -> None:
        self._defer(_INSERT["approval"], approval_values(record), stale=True)

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
        self._defer(
            _INSERT["decision"], (approval_id, granted, by, role, _us(at), note), stale=True
        )

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        self._defer(_INSERT["void"], (request_id, by, role, _us(at), reason), stale=True)
        for known in self._case_grants.values():
            for i, g in enumerate(known):
                if g.request_id == request_id:
                    known[i] = attrs.evolve(
                        g, voided_at=at, voided_by=by, voided_role=role, void_reason=reason
                    )

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._defer(_INSERT["withdrawal"], (approval_id, by, _us(at), reason), stale=True)

    def add_plan(self, record: PlanRecord) -> None:
        self._defer(_INSERT["plan"], plan_values(record))

    def add_event(
        self, kind: EventKind, case_id: str, *, at: datetime, ref: str, body: Attributes
    ) -> None:
        kinds, cases, ats, refs, bodies = self._events
        kinds.append(EventKind(kind).value)
        cases.append(case_id)
        ats.append(_us(at))
        refs.append(ref)
        bodies.append(body_json(body))
