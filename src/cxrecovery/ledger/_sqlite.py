"""The embedded ledger: one SQLite file in WAL mode, shared by threads and processes."""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final, TypeVar

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger._chain import GENESIS, body_json, event_hash
from cxrecovery.ledger._errors import (
    LedgerBusyError,
    LedgerError,
    LedgerFormatError,
    RequestConflictError,
)
from cxrecovery.ledger._migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
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

__all__ = ["SQLiteLedger"]

_HEADER: Final = b"SQLite format 3\x00"
_us = instant_us
_dt = from_us


def _opt_dt(us: int | None) -> datetime | None:
    return None if us is None else _dt(us)


def _translate(error: sqlite3.Error, path: str) -> CxRecoveryError:
    """The cxrecovery error for an SQLite error, naming the file."""
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return LedgerBusyError(f"{path}: still locked by another writer after the busy timeout")
    if isinstance(error, sqlite3.IntegrityError):
        return RequestConflictError.at("ledger", f"{path}: refused by the schema: {text}")
    if isinstance(error, sqlite3.OperationalError):
        return LedgerError.at("ledger", f"{path}: {text}")
    if isinstance(error, sqlite3.DatabaseError):
        return LedgerFormatError.at("ledger", f"{path}: not a usable cxrecovery ledger: {text}")
    return LedgerError.at("ledger", f"{path}: {text}")


_PROMISE_SELECT: Final = (
    "SELECT p.case_id, p.promise_id, p.customer_id, p.what, p.made_us, p.due_us, p.made_by,"
    " s.status, s.settled_us, s.settled_by FROM promises p LEFT JOIN promise_settlements s"
    " ON s.case_id = p.case_id AND s.promise_id = p.promise_id"
)


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
        settled_at=_opt_dt(row[8]),
        settled_by=row[9],
    )


_T = TypeVar("_T")

# What reading a damaged row can raise on its way to a record: text that is not UTF-8,
# JSON that does not parse, a NULL where a value must be, a value a record refuses.
_DAMAGE: Final = (sqlite3.DatabaseError, UnicodeDecodeError, ValueError, TypeError, KeyError)


def _damaged(path: str, what: str, error: Exception) -> LedgerFormatError:
    return LedgerFormatError(
        f"{path}: damaged data in {what}: {type(error).__name__}: {error}", path="ledger"
    )


def _case(row: tuple[Any, ...]) -> CaseRecord:
    return CaseRecord(row[0], row[1], _dt(row[2]), row[3], row[4])


def _event(row: tuple[Any, ...]) -> LedgerEvent:
    body = json.loads(row[5])
    if not isinstance(body, dict):
        raise TypeError(f"event body {row[5]!r:.40} is not a JSON object")
    return LedgerEvent(row[0], row[1], row[2], _dt(row[3]), row[4], Attributes(body), hash=row[6])


class _View:
    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._c = conn
        self._path = path

    def _one(
        self, sql: str, *args: object, convert: Callable[[tuple[Any, ...]], _T] | None = None
    ) -> Any:
        try:
            row = self._c.execute(sql, args).fetchone()
            return row if row is None or convert is None else convert(row)
        except sqlite3.OperationalError:
            raise
        except _DAMAGE as error:
            raise _damaged(self._path, sql.split(" FROM ", 1)[-1].split()[0], error) from None

    def _all(
        self, sql: str, *args: object, convert: Callable[[tuple[Any, ...]], _T]
    ) -> tuple[_T, ...]:
        try:
            return tuple(convert(row) for row in self._c.execute(sql, args))
        except sqlite3.OperationalError:
            raise
        except _DAMAGE as error:
            raise _damaged(self._path, sql.split(" FROM ", 1)[-1].split()[0], error) from None

    def case(self, case_id: str) -> CaseRecord | None:
        found: CaseRecord | None = self._one(
            "SELECT case_id, customer_id, opened_us, category, severity FROM cases"
            " WHERE case_id = ?",
            case_id,
            convert=_case,
        )
        return found

    def cases(self, customer_id: str) -> tuple[CaseRecord, ...]:
        return self._all(
            "SELECT case_id, customer_id, opened_us, category, severity FROM cases"
            " WHERE customer_id = ? ORDER BY opened_us, case_id",
            customer_id,
            convert=_case,
        )

    def grant(self, request_id: str) -> GrantRecord | None:
        found: GrantRecord | None = self._one(
            f"{GRANT_SELECT} WHERE g.request_id = ?", request_id, convert=grant_row
        )
        return found

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
        sql, args = grants_query(
            "?",
            case_id=case_id,
            customer_id=customer_id,
            agent_id=agent_id,
            since=since,
            until=until,
            voided=voided,
            after=after,
            limit=limit,
        )
        return self._all(sql, *args, convert=grant_row)

    def _sum(self, sql: str, currency: str, *args: object) -> Money:
        found: Money = self._one(sql, *args, convert=lambda r: Money.from_minor(r[0], currency))
        return found

    def spent(self, agent_id: str, currency: str, *, after: datetime, before: datetime) -> Money:
        return self._sum(
            "SELECT coalesce(sum(amount_minor), 0) FROM grants WHERE agent_id = ?"
            " AND currency = ? AND approval_id IS NULL AND at_us > ? AND at_us <= ?" + NOT_VOIDED,
            currency,
            agent_id,
            currency,
            _us(after),
            _us(before),
        )

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        return self._sum(
            "SELECT coalesce(sum(amount_minor), 0) FROM grants WHERE customer_id = ?"
            " AND currency = ? AND at_us > ? AND at_us <= ?" + NOT_VOIDED,
            currency,
            customer_id,
            currency,
            _us(after),
            _us(before),
        )

    def promise(self, case_id: str, promise_id: str) -> PromiseRecord | None:
        found: PromiseRecord | None = self._one(
            f"{_PROMISE_SELECT} WHERE p.case_id = ? AND p.promise_id = ?",
            case_id,
            promise_id,
            convert=_promise,
        )
        return found

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        return self._all(
            f"{_PROMISE_SELECT} WHERE (?1 IS NULL OR p.case_id = ?1)"
            " AND (?2 IS NULL OR p.customer_id = ?2) ORDER BY p.rowid",
            case_id,
            customer_id,
            convert=_promise,
        )

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        found: ApprovalRecord | None = self._one(
            f"{APPROVAL_SELECT} WHERE a.approval_id = ?", approval_id, convert=approval_row
        )
        return found

    def grant_under(self, approval_id: str) -> GrantRecord | None:
        found: GrantRecord | None = self._one(
            f"{GRANT_SELECT} WHERE g.approval_id = ?", approval_id, convert=grant_row
        )
        return found

    def plans(self, case_id: str) -> tuple[PlanRecord, ...]:
        return self._all(
            "SELECT case_id, decided_us, agent_id, role, policy_name, policy_version,"
            " policy_fingerprint, plan_digest FROM plans WHERE case_id = ? ORDER BY seq",
            case_id,
            convert=lambda r: PlanRecord(r[0], _dt(r[1]), *r[2:]),
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
            "?", case_id=case_id, kinds=kinds, after_seq=after_seq, limit=limit
        )
        return self._all(sql, *args, convert=_event)


class _Session(_View):
    def __init__(self, conn: sqlite3.Connection, path: str, clock: Callable[[], datetime]):
        super().__init__(conn, path)
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def add_case(self, record: CaseRecord) -> None:
        self._c.execute(
            "INSERT INTO cases (case_id, customer_id, opened_us, category, severity)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                record.case_id,
                record.customer_id,
                _us(record.opened_at),
                record.category,
                record.severity.value,
            ),
        )

    def add_grant(self, record: GrantRecord) -> None:
        self._c.execute(
            "INSERT INTO grants (request_id, case_id, customer_id, agent_id, role, form,"
            " currency, amount_minor, at_us, approval_id, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    def add_promise(self, record: PromiseRecord) -> None:
        self._c.execute(
            "INSERT INTO promises (case_id, promise_id, customer_id, what, made_us, due_us,"
            " made_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        self._c.execute(
            "INSERT INTO promise_settlements (case_id, promise_id, status, settled_us,"
            " settled_by) VALUES (?, ?, ?, ?, ?)",
            (case_id, promise_id, PromiseStatus(status).value, _us(at), by),
        )

    def add_approval(self, record: ApprovalRecord) -> None:
        self._c.execute(
            "INSERT INTO approvals (approval_id, case_id, customer_id, asked_by, asked_role,"
            " approver_role, form, currency, amount_minor, asked_us, reason, expires_us)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        self._c.execute(
            "INSERT INTO approval_decisions (approval_id, granted, decided_by, decided_role,"
            " decided_us, note) VALUES (?, ?, ?, ?, ?, ?)",
            (approval_id, int(granted), by, role, _us(at), note),
        )

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        self._c.execute(
            "INSERT INTO grant_voids (request_id, voided_by, voided_role, voided_us, reason)"
            " VALUES (?, ?, ?, ?, ?)",
            (request_id, by, role, _us(at), reason),
        )

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._c.execute(
            "INSERT INTO approval_withdrawals (approval_id, withdrawn_by, withdrawn_us, reason)"
            " VALUES (?, ?, ?, ?)",
            (approval_id, by, _us(at), reason),
        )

    def add_plan(self, record: PlanRecord) -> None:
        self._c.execute(
            "INSERT INTO plans (case_id, decided_us, agent_id, role, policy_name,"
            " policy_version, policy_fingerprint, plan_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        # Writers take turns (BEGIN IMMEDIATE), so the last event read here is still the
        # last one at commit: the chain links in commit order.
        last = self._c.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1] or GENESIS)
        kind_value = EventKind(kind).value
        text = body_json(body)
        self._c.execute(
            "INSERT INTO events (seq, kind, case_id, at_us, ref, body, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                kind_value,
                case_id,
                _us(at),
                ref,
                text,
                event_hash(prev, seq, kind_value, case_id, _us(at), ref, text),
            ),
        )


class SQLiteLedger:
    """A :class:`Ledger` in one SQLite file, safe to share among threads and processes.

    The file is in WAL mode (readers never wait for the writer); every write session is
    one ``BEGIN IMMEDIATE`` transaction, so writers take turns at the start of the
    session and a limit checked inside it still holds when the grant is committed.
    ``synchronous=FULL``: once a session has ended, its writes survive a crash of the
    process or of the machine.

    Each thread gets its own connection, opened on first use.

    Args:
        path: the database file; created (with the schema) if it does not exist.
        timeout: how long, in seconds, a writer waits for the others before giving up
            with :class:`LedgerBusyError`.
        verify: run SQLite's ``quick_check`` over the whole file on opening.
        clock: the store's clock (:meth:`LedgerSession.now`); the host's wall clock in
            UTC if not given.

    Raises:
        LedgerFormatError: the file is not SQLite, is corrupted, belongs to another
            application, or was written by a newer cxrecovery. The file is not touched.
        LedgerError: the file cannot be opened or created.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``clock``; an existing file is identified through a
       read-only connection before anything may write to it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        verify: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise LedgerError.at("path", f"{path!r:.60} is not a file path")
        self.path = os.fspath(path)
        self._timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._clock = clock_arg(clock)
        if self._refuse_foreign_file():
            self._probe(verify=verify)
        try:
            self._open_schema(self._connection(), verify=verify)
        except BaseException:
            self.close()
            raise

    def _refuse_foreign_file(self) -> bool:
        """Refuse a file that is not SQLite before SQLite opens (and perhaps writes) it.

        Returns whether the file exists with content (and needs :meth:`_probe`).
        """
        if os.path.isdir(self.path):
            raise LedgerError.at("path", f"{self.path!r} is a directory")
        try:
            with open(self.path, "rb") as file:
                header = file.read(len(_HEADER))
        except FileNotFoundError:
            return False
        except OSError as error:
            raise LedgerError.at("path", f"{self.path!r} cannot be read: {error}") from None
        if header and header != _HEADER:
            raise LedgerFormatError.at("path", f"{self.path!r} is not an SQLite database")
        return bool(header)

    def _probe(self, *, verify: bool) -> None:
        """Identify (and with ``verify`` check) an existing file read-only.

        A read-write connection would recover the file's ``-wal`` into the main file and
        delete it when it closes, even if the file is then refused; a read-only one
        reads the ``-wal`` without touching either (SQLite may create the ``-shm``
        index beside them, which holds no data).
        """
        uri = f"{pathlib.Path(os.path.abspath(self.path)).as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        try:
            self._identify(conn)
            if verify:
                self._quick_check(conn)
        except sqlite3.OperationalError as error:
            raise _translate(error, self.path) from None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            raise _damaged(self.path, "the schema", error) from None
        finally:
            conn.close()

    def _quick_check(self, conn: sqlite3.Connection) -> None:
        problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise LedgerFormatError.at(
                "path", f"{self.path!r} is corrupted: {'; '.join(problems[:3])}"
            )

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise LedgerError.at("ledger", f"{self.path}: this ledger is closed")
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as error:
            conn.close()
            raise _translate(error, self.path) from None
        except UnicodeDecodeError as error:
            conn.close()
            raise _damaged(self.path, "the schema", error) from None
        self._local.conn = conn
        with self._guard:
            self._connections.append(conn)
        return conn

    def _open_schema(self, conn: sqlite3.Connection, *, verify: bool) -> None:
        try:
            if self._identify(conn) is None:
                # A new, empty file: WAL first (it cannot change inside a transaction).
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._identify(conn)
                for step in MIGRATIONS[version or 0 :]:
                    for statement in step:
                        if callable(statement):
                            statement(conn)
                        else:
                            conn.execute(statement)
                if (version or 0) < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        except UnicodeDecodeError as error:
            raise _damaged(self.path, "the schema", error) from None

    def _identify(self, conn: sqlite3.Connection) -> int | None:
        """The file's schema version; ``None`` for a new file; refuse any other file."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise LedgerFormatError.at(
                    "path",
                    f"{self.path!r} has ledger schema version {version}, newer than this"
                    f" cxrecovery knows ({SCHEMA_VERSION}); upgrade cxrecovery",
                )
            return int(version)
        objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and version == 0 and objects == 0:
            return None
        raise LedgerFormatError.at(
            "path",
            f"{self.path!r} is an SQLite database of another application"
            f" (application_id {app_id:#x}, {objects} schema objects), not a cxrecovery ledger",
        )

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        row = self._connection().execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @contextmanager
    def read(self) -> Iterator[_View]:
        conn = self._connection()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        try:
            yield _View(conn, self.path)
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        finally:
            conn.execute("ROLLBACK")

    @contextmanager
    def write(self) -> Iterator[_Session]:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise _translate(error, self.path) from None
        try:
            yield _Session(conn, self.path, self._clock)
            conn.execute("COMMIT")
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise _translate(error, self.path) from None
            raise

    def close(self) -> None:
        """Close every thread's connection (call it once no session is open)."""
        self._closed = True
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
