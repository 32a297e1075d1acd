"""The SQLite ledger's read view and write session: the queries and the appends, each
row read back checked (a damaged row is a ``LedgerFormatError``, never a Python error)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection
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
    PROMISE_SELECT,
    approval_row,
    approval_values,
    case_values,
    events_query,
    grant_row,
    grant_values,
    grants_query,
    inserts,
    plan_values,
    promise_row,
    promise_values,
    settlement_values,
)
from cxrecovery.model import Attributes, PromiseStatus
from cxrecovery.money import Money

__all__ = ["Session", "View", "damaged", "translate"]

_us = instant_us
_INSERT: Final = inserts("?")
_dt = from_us


def translate(error: sqlite3.Error, path: str) -> CxRecoveryError:
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


_T = TypeVar("_T")

# What reading a damaged row can raise on its way to a record: text that is not UTF-8,
# JSON that does not parse, a NULL where a value must be, a value a record refuses.
_DAMAGE: Final = (sqlite3.DatabaseError, UnicodeDecodeError, ValueError, TypeError, KeyError)


def damaged(path: str, what: str, error: Exception) -> LedgerFormatError:
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


class View:
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
            raise damaged(self._path, sql.split(" FROM ", 1)[-1].split()[0], error) from None

    def _all(
        self, sql: str, *args: object, convert: Callable[[tuple[Any, ...]], _T]
    ) -> tuple[_T, ...]:
        try:
            return tuple(convert(row) for row in self._c.execute(sql, args))
        except sqlite3.OperationalError:
            raise
        except _DAMAGE as error:
            raise damaged(self._path, sql.split(" FROM ", 1)[-1].split()[0], error) from None

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
            f"{PROMISE_SELECT} WHERE p.case_id = ? AND p.promise_id = ?",
            case_id,
            promise_id,
            convert=promise_row,
        )
        return found

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        return self._all(
            f"{PROMISE_SELECT} WHERE (?1 IS NULL OR p.case_id = ?1)"
            " AND (?2 IS NULL OR p.customer_id = ?2) ORDER BY p.rowid",
            case_id,
            customer_id,
            convert=promise_row,
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


class Session(View):
    def __init__(self, conn: sqlite3.Connection, path: str, clock: Callable[[], datetime]):
        super().__init__(conn, path)
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def add_case(self, record: CaseRecord) -> None:
        self._c.execute(_INSERT["case"], case_values(record))

    def add_grant(self, record: GrantRecord) -> None:
        self._c.execute(_INSERT["grant"], grant_values(record))

    def add_promise(self, record: PromiseRecord) -> None:
        self._c.execute(_INSERT["promise"], promise_values(record))

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
            _INSERT["settlement"], settlement_values(case_id, promise_id, status, at, by)
        )

    def add_approval(self, record: ApprovalRecord) -> None:
        self._c.execute(_INSERT["approval"], approval_values(record))

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
        self._c.execute(_INSERT["decision"], (approval_id, int(granted), by, role, _us(at), note))

    def add_void(self, request_id: str, *, by: str, role: str, at: datetime, reason: str) -> None:
        self._c.execute(_INSERT["void"], (request_id, by, role, _us(at), reason))

    def add_withdrawal(self, approval_id: str, *, by: str, at: datetime, reason: str) -> None:
        self._c.execute(_INSERT["withdrawal"], (approval_id, by, _us(at), reason))

    def add_plan(self, record: PlanRecord) -> None:
        self._c.execute(_INSERT["plan"], plan_values(record))

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
