"""The shared ledger: one PostgreSQL schema that every application server writes to.

Design (argued at length in ``docs/ledger.md``):

- **Budgets** are exact through locks, not retries. A write session runs at READ
  COMMITTED and, before it reads what a limit needs, takes a transaction-scoped
  advisory lock on that budget: the request id, the case, the agent, the customer, the
  approval. A second writer on the same budget waits at the lock, and its next
  statement (a new snapshot) sees the first one's grant. Writers on other budgets never
  wait for each other. The desk always takes the locks in that order, so they cannot
  deadlock among themselves. SERIALIZABLE would need the whole desk call re-run on a
  serialization failure, which a ``with ledger.write()`` block cannot do for its caller.
- **Event order.** A write session queues its events; a *seal* moves queued events
  into ``events`` under one lock, giving each the next ``seq`` and its chain hash. A
  session seals inside its own transaction when the seal lock is free (one commit), or
  right after its commit otherwise, so the seals of many writers share one commit
  while their grants commit in parallel (the server groups their WAL flushes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger._chain import body_json
from cxrecovery.ledger._errors import (
    LedgerBusyError,
    LedgerError,
    LedgerFormatError,
    RequestConflictError,
)
from cxrecovery.ledger._pg_schema import APPLICATION, PG_MIGRATIONS, PG_SCHEMA_VERSION
from cxrecovery.ledger._records import (
    ApprovalRecord,
    CaseRecord,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
    PromiseRecord,
    from_us,
    instant_us,
)
from cxrecovery.ledger._sql import (
    APPROVAL_SELECT,
    GRANT_SELECT,
    NOT_VOIDED,
    approval_row,
    events_query,
    grant_row,
    grants_query,
)
from cxrecovery.ledger._support import clock_arg
from cxrecovery.model import Attributes, PromiseStatus
from cxrecovery.money import Money

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLedger"]

_T = TypeVar("_T")
_us = instant_us
_dt = from_us

# Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)), taken in
# this order by every desk call: request < case < agent < customer < approval.
_SEAL: Final = 0x43585200
_MIGRATE: Final = 0x43585201
_REQUEST: Final = 0x43585210
_CASE: Final = 0x43585211
_AGENT: Final = 0x43585212
_CUSTOMER: Final = 0x43585213
_APPROVAL: Final = 0x43585214

_CASE_SELECT: Final = (
    "SELECT case_id, customer_id, opened_us, category, severity FROM cases WHERE case_id = %s"
)
_CASE_GRANTS_SELECT: Final = f"{GRANT_SELECT} WHERE g.case_id = %s ORDER BY g.at_us, g.request_id"
_PROMISE_SELECT: Final = (
    "SELECT p.case_id, p.promise_id, p.customer_id, p.what, p.made_us, p.due_us, p.made_by,"
    " s.status, s.settled_us, s.settled_by FROM promises p LEFT JOIN promise_settlements s"
    " ON s.case_id = p.case_id AND s.promise_id = p.promise_id"
)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the installation
        raise LedgerError.at(
            "ledger",
            "PostgresLedger needs psycopg 3: pip install 'cxrecovery[postgres]'",
        ) from None
    return psycopg


def _translate(error: Exception, where: str) -> CxRecoveryError:
    """The cxrecovery error for a psycopg error."""
    errors = _psycopg().errors
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, errors.LockNotAvailable | errors.DeadlockDetected):
        return LedgerBusyError(f"{where}: still locked by another writer ({text})")
    if isinstance(error, errors.QueryCanceled):
        return LedgerBusyError(f"{where}: {text}")
    if isinstance(error, errors.SerializationFailure):
        return LedgerBusyError(f"{where}: {text}")
    if isinstance(error, errors.IntegrityError):
        return RequestConflictError.at("ledger", f"{where}: refused by the schema: {text}")
    return LedgerError.at("ledger", f"{where}: {text}")


def _promise(row: tuple[Any, ...]) -> PromiseRecord:
    return PromiseRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        _dt(row[4]),
        _dt(row[5]),
        made_by=row[6],
        status=row[7] or PromiseStatus.PENDING,
        settled_at=None if row[8] is None else _dt(row[8]),
        settled_by=row[9],
    )


def _case(row: tuple[Any, ...]) -> CaseRecord:
    return CaseRecord(row[0], row[1], _dt(row[2]), row[3], row[4])


def _event(row: tuple[Any, ...]) -> LedgerEvent:
    import json

    return LedgerEvent(
        row[0], row[1], row[2], _dt(row[3]), row[4], Attributes(json.loads(row[5])), hash=row[6]
    )


class _View:
    def __init__(self, conn: psycopg.Connection[Any], where: str) -> None:
        self._c = conn
        self._where = where

    def _lock(self, kind: int, key: str) -> None:
        """Nothing in a read view; a write session locks what it is about to read."""

    def _execute(self, sql: str, args: Any) -> psycopg.Cursor[Any]:
        return self._c.execute(sql, args)

    def _one(self, sql: str, args: Any, convert: Callable[[Any], _T]) -> _T | None:
        row = self._execute(sql, args).fetchone()
        return None if row is None else convert(row)

    def _all(self, sql: str, args: Any, convert: Callable[[Any], _T]) -> tuple[_T, ...]:
        return tuple(convert(row) for row in self._execute(sql, args).fetchall())

    def case(self, case_id: str) -> CaseRecord | None:
        self._lock(_CASE, case_id)
        return self._one(_CASE_SELECT, (case_id,), _case)

    def cases(self, customer_id: str) -> tuple[CaseRecord, ...]:
        return self._all(
            "SELECT case_id, customer_id, opened_us, category, severity FROM cases"
            " WHERE customer_id = %s ORDER BY opened_us, case_id",
            (customer_id,),
            _case,
        )

    def grant(self, request_id: str) -> GrantRecord | None:
        self._lock(_REQUEST, request_id)
        return self._one(f"{GRANT_SELECT} WHERE g.request_id = %s", (request_id,), grant_row)

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
        if case_id is not None:
            self._lock(_CASE, case_id)
        sql, args = grants_query(
            "%s",
            case_id=case_id,
            customer_id=customer_id,
            agent_id=agent_id,
            since=since,
            until=until,
            voided=voided,
            after=after,
            limit=limit,
        )
        return self._all(sql, tuple(args), grant_row)

    def _sum(self, sql: str, args: tuple[object, ...], currency: str) -> Money:
        found = self._one(sql, args, lambda r: Money.from_minor(int(r[0]), currency))
        assert found is not None  # an aggregate always gives a row
        return found

    def spent(self, agent_id: str, currency: str, *, after: datetime, before: datetime) -> Money:
        self._lock(_AGENT, agent_id)
        return self._sum(
            "SELECT coalesce(sum(amount_minor), 0) FROM grants WHERE agent_id = %s"
            " AND currency = %s AND approval_id IS NULL AND at_us > %s AND at_us <= %s"
            + NOT_VOIDED,
            (agent_id, currency, _us(after), _us(before)),
            currency,
        )

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        self._lock(_CUSTOMER, customer_id)
        return self._sum(
            "SELECT coalesce(sum(amount_minor), 0) FROM grants WHERE customer_id = %s"
            " AND currency = %s AND at_us > %s AND at_us <= %s" + NOT_VOIDED,
            (customer_id, currency, _us(after), _us(before)),
            currency,
        )

    def promise(self, case_id: str, promise_id: str) -> PromiseRecord | None:
        return self._one(
            f"{_PROMISE_SELECT} WHERE p.case_id = %s AND p.promise_id = %s",
            (case_id, promise_id),
            _promise,
        )

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        return self._all(
            f"{_PROMISE_SELECT} WHERE (%(c)s::text IS NULL OR p.case_id = %(c)s)"
            " AND (%(k)s::text IS NULL OR p.customer_id = %(k)s) ORDER BY p.n",
            {"c": case_id, "k": customer_id},
            _promise,
        )

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        self._lock(_APPROVAL, approval_id)
        return self._one(
            f"{APPROVAL_SELECT} WHERE a.approval_id = %s", (approval_id,), approval_row
        )

    def grant_under(self, approval_id: str) -> GrantRecord | None:
        return self._one(f"{GRANT_SELECT} WHERE g.approval_id = %s", (approval_id,), grant_row)

    def plans(self, case_id: str) -> tuple[PlanRecord, ...]:
        return self._all(
            "SELECT case_id, decided_us, agent_id, role, policy_name, policy_version,"
            " policy_fingerprint, plan_digest FROM plans WHERE case_id = %s ORDER BY seq",
            (case_id,),
            lambda r: PlanRecord(r[0], _dt(r[1]), *r[2:]),
        )

    def events(
        self,
        *,
        case_id: str | None = None,
        kinds: Collection[EventKind] | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> tuple[LedgerEvent, ...]:
        sql, args = events_query(
            "%s", case_id=case_id, kinds=kinds, after_seq=after_seq, limit=limit
        )
        return self._all(sql, tuple(args), _event)


class _Session(_View):
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
            self._c.execute(sql, args)
            if sql == "BEGIN":
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
        self._lock(_CASE, case_id)
        with self._c.pipeline():
            self._flush()
            found = self._c.execute(_CASE_SELECT, (case_id,))
            grants = self._c.execute(_CASE_GRANTS_SELECT, (case_id,))
        self._case_grants[case_id] = [grant_row(r) for r in grants.fetchall()]
        row = found.fetchone()
        return None if row is None else _case(row)

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
            got = self._c.execute("SELECT try_seal(%s, %s)", (_SEAL, self._schema))
            self._c.execute("COMMIT")
        row = got.fetchone()
        return row is not None and bool(row[0])

    def rollback(self) -> None:
        if self._started and not self._c.closed:
            self._c.execute("ROLLBACK")

    def add_case(self, record: CaseRecord) -> None:
        self._defer(
            "INSERT INTO cases (case_id, customer_id, opened_us, category, severity)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                record.case_id,
                record.customer_id,
                _us(record.opened_at),
                record.category,
                record.severity.value,
            ),
        )

    def add_grant(self, record: GrantRecord) -> None:
        self._defer(
            "INSERT INTO grants (request_id, case_id, customer_id, agent_id, role, form,"
            " currency, amount_minor, at_us, approval_id, note)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                record.request_id,
                record.case_id,
                record.customer_id,
                record.agent_id,
                record.role,
                record.form.value,
                record.amount.currency,
                record.amount.minor,
                _us(record.at),
                record.approval_id,
                record.note,
            ),
        )
        known = self._case_grants.get(record.case_id)
        if known is not None:
            known.append(record)
            known.sort(key=lambda g: (g.at, g.request_id))

    def add_promise(self, record: PromiseRecord) -> None:
        self._defer(
            "INSERT INTO promises (case_id, promise_id, customer_id, what, made_us, due_us,"
            " made_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                record.case_id,
                record.promise_id,
                record.customer_id,
                record.what,
                _us(record.made_at),
                _us(record.due),
                record.made_by,
            ),
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
        self._defer(
            "INSERT INTO promise_settlements (case_id, promise_id, status, settled_us,"
            " settled_by) VALUES (%s, %s, %s, %s, %s)",
            (case_id, promise_id, PromiseStatus(status).value, _us(at), by),
        )

    def add_approval(self, record: ApprovalRecord) -> None:
        self._defer(
            "INSERT INTO approvals (approval_id, case_id, customer_id, asked_by, asked_role,"
            " approver_role, form, currency, amount_minor, asked_us, reason, expires_us)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                record.approval_id,
                record.case_id,
                record.customer_id,
                record.asked_by,
                record.asked_role,
                record.approver_role,
                record.form.value,
                record.amount.currency,
                record.amount.minor,
                _us(record.asked_at),
                record.reason,
                None if record.expires_at is None else _us(record.expires_at),
            ),
        )

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
            "INSERT INTO approval_decisions (approval_id, granted, decided_by, decided_role,"
            " decided_us, note) VALUES (%s, %s, %s, %s, %s, %s)",
            (approval_id, granted, by, role, _us(at), note),
        )

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        self._defer(
            "INSERT INTO grant_voids (request_id, voided_by, voided_role, voided_us, reason)"
            " VALUES (%s, %s, %s, %s, %s)",
            (request_id, by, role, _us(at), reason),
        )
        for known in self._case_grants.values():
            for i, g in enumerate(known):
                if g.request_id == request_id:
                    known[i] = attrs.evolve(
                        g, voided_at=at, voided_by=by, voided_role=role, void_reason=reason
                    )

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._defer(
            "INSERT INTO approval_withdrawals (approval_id, withdrawn_by, withdrawn_us, reason)"
            " VALUES (%s, %s, %s, %s)",
            (approval_id, by, _us(at), reason),
        )

    def add_plan(self, record: PlanRecord) -> None:
        self._defer(
            "INSERT INTO plans (case_id, decided_us, agent_id, role, policy_name,"
            " policy_version, policy_fingerprint, plan_digest)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                record.case_id,
                _us(record.decided_at),
                record.agent_id,
                record.role,
                record.policy_name,
                record.policy_version,
                record.policy_fingerprint,
                record.plan_digest,
            ),
        )

    def add_event(
        self, kind: EventKind, case_id: str, *, at: datetime, ref: str, body: Attributes
    ) -> None:
        self._defer(
            "INSERT INTO event_queue (kind, case_id, at_us, ref, body)"
            " VALUES (%s, %s, %s, %s, %s)",
            (EventKind(kind).value, case_id, _us(at), ref, body_json(body)),
        )
        self.queued = True


class PostgresLedger:
    """A :class:`Ledger` in a PostgreSQL schema, shared by every process and host.

    Each thread gets its own connection. Budgets stay exact under any number of
    concurrent writers: a write session locks each budget (request id, case, agent,
    customer, approval) before it reads it, so writers on one budget take turns and
    writers on different budgets do not wait for each other. Events get a dense ``seq``
    and a hash chain; a desk call's events are sealed before the call returns.

    Args:
        dsn: a libpq connection string or URI.
        schema: the schema that holds the ledger's tables (created if missing).
        timeout: how long, in seconds, a writer waits for a lock before giving up with
            :class:`LedgerBusyError` (nothing is written).
        clock: the store's clock; the database server's ``clock_timestamp()`` if not
            given, one clock for every host.

    Raises:
        LedgerFormatError: the schema holds another application's tables, or a ledger
            from a newer cxrecovery. Nothing is written.
        LedgerError: psycopg is not installed, or the server cannot be reached.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "cxrecovery",
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(dsn, str):
            raise LedgerError.at("dsn", f"{dsn!r:.60} is not a connection string")
        if not isinstance(schema, str) or not schema.isidentifier():
            raise LedgerError.at("schema", f"{schema!r} is not a plain SQL identifier")
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise LedgerError.at("timeout", f"{timeout!r} is not a positive number of seconds")
        self._pg = _psycopg()
        self.dsn = dsn
        self.schema = schema
        self._where = f"PostgreSQL schema {schema!r}"
        self._timeout_ms = int(timeout * 1000)
        self._clock = None if clock is None else clock_arg(clock)
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._guard = threading.Lock()
        self._closed = False
        try:
            self._open_schema()
            self._seal_now()
        except BaseException:
            self.close()
            raise

    # --- connections and schema --------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        if self._closed:
            raise LedgerError.at("ledger", f"{self._where}: this ledger is closed")
        try:
            conn = self._pg.connect(self.dsn, autocommit=True)
            assert conn is not None
            conn.execute(
                self._pg.sql.SQL("SET search_path TO {}").format(
                    self._pg.sql.Identifier(self.schema)
                )
            )
            conn.execute(f"SET lock_timeout = {self._timeout_ms}")
        except self._pg.Error as error:
            raise _translate(error, self._where) from None
        self._local.conn = conn
        with self._guard:
            self._connections.append(conn)
        return conn

    def _identify(self, conn: psycopg.Connection[Any]) -> int | None:
        """The schema's ledger version; ``None`` when it is missing or empty."""
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s",
            (self.schema,),
        ).fetchone()
        if row is None or row[0] == 0:
            return None
        meta = conn.execute(
            "SELECT to_regclass(format('%%I.ledger_meta', %s::text))", (self.schema,)
        ).fetchone()
        if meta is None or meta[0] is None:
            raise LedgerFormatError.at(
                "schema",
                f"{self._where} holds {row[0]} objects of another application,"
                " not a cxrecovery ledger",
            )
        values = dict(conn.execute("SELECT key, value FROM ledger_meta").fetchall())
        if values.get("application") != APPLICATION:
            raise LedgerFormatError.at(
                "schema",
                f"{self._where} belongs to {values.get('application')!r}, not a cxrecovery ledger",
            )
        version = int(values.get("schema_version", "0"))
        if version > PG_SCHEMA_VERSION:
            raise LedgerFormatError.at(
                "schema",
                f"{self._where} has ledger schema version {version}, newer than this"
                f" cxrecovery knows ({PG_SCHEMA_VERSION}); upgrade cxrecovery",
            )
        return version

    def _open_schema(self) -> None:
        conn = self._connection()
        pg = self._pg
        try:
            # Identify read-only first: a refused schema is never written to.
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                version = self._identify(conn)
            if version == PG_SCHEMA_VERSION:
                return
            with conn.transaction():
                # Two hosts opening a new ledger at once: one migrates, the other waits
                # and then finds the schema current.
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_MIGRATE, self.schema)
                )
                version = self._identify(conn)
                conn.execute(
                    pg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        pg.sql.Identifier(self.schema)
                    )
                )
                for step in PG_MIGRATIONS[version or 0 :]:
                    for statement in step:
                        conn.execute(statement)
                conn.execute(
                    "UPDATE ledger_meta SET value = %s WHERE key = 'schema_version'",
                    (str(PG_SCHEMA_VERSION),),
                )
        except pg.Error as error:
            raise _translate(error, self._where) from None

    @property
    def schema_version(self) -> int:
        """The schema version of the open ledger."""
        row = (
            self._connection()
            .execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'")
            .fetchone()
        )
        assert row is not None
        return int(row[0])

    def _seal_now(self) -> None:
        """Seal every queued event, waiting for the seal lock: one round trip."""
        conn = self._connection()
        try:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute("SELECT seal_waiting(%s, %s)", (_SEAL, self.schema))
                conn.execute("COMMIT")
        except BaseException:
            if not conn.closed and conn.info.transaction_status != 0:  # not IDLE
                conn.execute("ROLLBACK")
            raise

    # --- sessions ------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[_View]:
        conn = self._connection()
        pg = self._pg
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield _View(conn, self._where)
        except pg.Error as error:
            raise _translate(error, self._where) from None

    @contextmanager
    def write(self) -> Iterator[_Session]:
        conn = self._connection()
        pg = self._pg
        session = _Session(conn, self._where, self.schema, self._clock)
        try:
            try:
                yield session
                sealed = session.commit()
            except BaseException:
                session.rollback()
                raise
            if session.queued and not sealed:
                # Another writer held the seal: ours is committed (durable) and queued;
                # seal it, with whatever else is queued, before the call returns.
                self._seal_now()
        except pg.Error as error:
            raise _translate(error, self._where) from None

    def close(self) -> None:
        """Close every thread's connection (call it once no session is open)."""
        self._closed = True
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
