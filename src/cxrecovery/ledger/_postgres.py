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
- **Event order.** A *seal* moves queued events into ``events`` under one lock,
  giving each the next ``seq`` and its chain hash. A write session seals inside its
  own transaction when the seal lock is free (the events others left queued first,
  then its own: one commit), and otherwise queues its events and commits without
  waiting. Queued events are sealed by the next writer that finds the lock free, and
  before every read (:meth:`PostgresLedger.read`), so a read that begins after a desk
  call returned sees its events. Writers never wait for one another's seal: their
  commits overlap and the server groups their WAL flushes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger._errors import (
    LedgerBusyError,
    LedgerError,
    LedgerFormatError,
    RequestConflictError,
)
from cxrecovery.ledger._pg_schema import APPLICATION, PG_MIGRATIONS, PG_SCHEMA_VERSION
from cxrecovery.ledger._pg_session import Session
from cxrecovery.ledger._pg_view import MIGRATE, SEAL, View
from cxrecovery.ledger._support import clock_arg

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLedger"]

# A read's one message: seal what writers left queued (a transaction of its own, only
# when the queue holds something), then begin the snapshot.
_READ: Final = (
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM event_queue) THEN seal_waiting(%s, %s) END;"
    " COMMIT; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
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


class PostgresLedger:
    """A :class:`Ledger` in a PostgreSQL schema, shared by every process and host.

    Each thread gets its own connection. Budgets stay exact under any number of
    concurrent writers: a write session locks each budget (request id, case, agent,
    customer, approval) before it reads it, so writers on one budget take turns and
    writers on different budgets do not wait for each other. Events get a dense ``seq``
    and a hash chain; a read that begins after a desk call returned sees its events.

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
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (MIGRATE, self.schema)
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
        """Seal every queued event, waiting for the seal lock (on opening: events a
        writer killed between its commit and its seal left queued)."""
        conn = self._connection()
        try:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute("SELECT seal_waiting(%s, %s)", (SEAL, self.schema))
                conn.execute("COMMIT")
        except BaseException:
            if not conn.closed and conn.info.transaction_status != 0:  # not IDLE
                conn.execute("ROLLBACK")
            raise

    # --- sessions ------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[View]:
        """A read-only snapshot. Events that writers left queued are sealed first
        (waiting for the seal lock if another holds it), so a read that begins after a
        desk call returned sees that call's events; then the snapshot's transaction
        begins, in the same message."""
        conn = self._connection()
        pg = self._pg
        try:
            try:
                pg.ClientCursor(conn).execute(_READ, (SEAL, self.schema))
                yield View(conn, self._where)
            except BaseException:
                if not conn.closed and conn.info.transaction_status != 0:  # not IDLE
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except pg.Error as error:
            raise _translate(error, self._where) from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        conn = self._connection()
        pg = self._pg
        session = Session(conn, self._where, self.schema, self._clock)
        try:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
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
