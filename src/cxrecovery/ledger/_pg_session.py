"""The PostgreSQL ledger's write session: locks before reads, appends deferred into the
next round trip, and the commit (see ``_postgres.py`` for the design)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs

from cxrecovery.ledger._chain import body_json
from cxrecovery.ledger._pg_view import (
    CASE,
    CASE_GRANTS_SELECT,
    CASE_SELECT,
    SEAL,
    View,
    case_row,
)
from cxrecovery.ledger._records import (
    ApprovalRecord,
    CaseRecord,
    EventKind,
    GrantRecord,
    PlanRecord,
    PromiseRecord,
    instant_us,
)
from cxrecovery.ledger._sql import (
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

if TYPE_CHECKING:
    import psycopg

__all__ = ["Session"]

_us = instant_us
_INSERT: Final = inserts("%s")

_QUEUE_EVENT: Final = (
    "INSERT INTO event_queue (kind, case_id, at_us, ref, body)"
    " VALUES (%s, %s, %s, %s, %s) RETURNING id"
)


class Session(View):
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        where: str,
        schema: str,
        clock: Callable[[], datetime] | None,
    ) -> None:
        super().__init__(conn, where)
        self._schema = schema
        self._clock = clock
        self._held: set[tuple[int, str]] = set()
        self._locks: list[tuple[int, str]] = []
        # Statements sent with the next query, in one round trip: BEGIN (and the
        # server's clock) at first, then the appends, which return nothing to wait for.
        self._deferred: list[tuple[str, Any]] = [("BEGIN", None)]
        self._clock_cursor: psycopg.Cursor[Any] | None = None
        self._event_cursor: psycopg.Cursor[Any] | None = None
        self._now: datetime | None = None
        self._case_grants: dict[str, list[GrantRecord]] = {}
        self._started = False
        self.queued = False

    def _lock(self, kind: int, key: str) -> None:
        if (kind, key) not in self._held:
            self._held.add((kind, key))
            self._locks.append((kind, f"{self._schema}:{key}"))

    def _flush(self) -> None:
        """Send the deferred statements and the locks (inside a pipeline)."""
        for sql, args in self._deferred:
            cursor = self._c.execute(sql, args)
            if sql is _QUEUE_EVENT:
                self._event_cursor = cursor  # the last one queued has the highest id
            elif sql == "BEGIN":
                self._started = True
                if self._clock is None:
                    self._clock_cursor = self._c.execute("SELECT clock_timestamp()")
        self._deferred.clear()
        for key in self._locks:
            # The lock before the query it guards: the server runs them in turn, so
            # the query's snapshot is taken once the lock is held.
            self._c.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", key)
        self._locks.clear()

    def _execute(self, sql: str, args: Any) -> psycopg.Cursor[Any]:
        if not self._deferred and not self._locks:
            return self._c.execute(sql, args)
        with self._c.pipeline():
            self._flush()
            cursor = self._c.execute(sql, args)
        return cursor

    def case(self, case_id: str) -> CaseRecord | None:
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

    def _defer(self, sql: str, args: Any) -> None:
        self._deferred.append((sql, args))

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

    def commit(self) -> bool:
        """Commit (sealing the queue when the seal lock is free); whether it sealed."""
        if not self._started and len(self._deferred) <= 1:
            return False  # nothing was read or written: no transaction to end
        if not self.queued:
            with self._c.pipeline():
                self._flush()
                self._c.execute("COMMIT")
            return False
        with self._c.pipeline():
            self._flush()
            got = self._c.execute("SELECT try_seal(%s, %s)", (SEAL, self._schema))
            self._c.execute("COMMIT")
        row = got.fetchone()
        return row is not None and bool(row[0])

    def rollback(self) -> None:
        if self._started and not self._c.closed:
            self._c.execute("ROLLBACK")

    def add_case(self, record: CaseRecord) -> None:
        self._defer(_INSERT["case"], case_values(record))

    def add_grant(self, record: GrantRecord) -> None:
        self._defer(_INSERT["grant"], grant_values(record))
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
        self._defer(_INSERT["approval"], approval_values(record))

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
        self._defer(_INSERT["decision"], (approval_id, granted, by, role, _us(at), note))

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        self._defer(_INSERT["void"], (request_id, by, role, _us(at), reason))
        for known in self._case_grants.values():
            for i, g in enumerate(known):
                if g.request_id == request_id:
                    known[i] = attrs.evolve(
                        g, voided_at=at, voided_by=by, voided_role=role, void_reason=reason
                    )

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._defer(_INSERT["withdrawal"], (approval_id, by, _us(at), reason))

    def add_plan(self, record: PlanRecord) -> None:
        self._defer(_INSERT["plan"], plan_values(record))

    def add_event(
        self, kind: EventKind, case_id: str, *, at: datetime, ref: str, body: Attributes
    ) -> None:
        self._defer(_QUEUE_EVENT, (EventKind(kind).value, case_id, _us(at), ref, body_json(body)))
        self.queued = True

    def last_queued(self) -> int:
        """The queue id of this session's last event (call it after the commit)."""
        assert self._event_cursor is not None
        row = self._event_cursor.fetchone()
        assert row is not None
        return int(row[0])
