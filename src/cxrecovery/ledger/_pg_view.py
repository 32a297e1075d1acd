"""The PostgreSQL ledger's read view: the queries, and the advisory-lock classes that a
write session takes before them (see ``_postgres.py`` for the design)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

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
    PROMISE_SELECT,
    approval_row,
    events_query,
    grant_row,
    grants_query,
    promise_row,
)
from cxrecovery.model import Attributes
from cxrecovery.money import Money

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "AGENT",
    "APPROVAL",
    "CASE",
    "CASE_GRANTS_SELECT",
    "CASE_SELECT",
    "CUSTOMER",
    "MIGRATE",
    "REQUEST",
    "SEAL",
    "View",
    "case_row",
]

_T = TypeVar("_T")
_us = instant_us
_dt = from_us

# Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)), taken in
# this order by every desk call: request < case < agent < customer < approval.
SEAL: Final = 0x43585200
MIGRATE: Final = 0x43585201
REQUEST: Final = 0x43585210
CASE: Final = 0x43585211
AGENT: Final = 0x43585212
CUSTOMER: Final = 0x43585213
APPROVAL: Final = 0x43585214

CASE_SELECT: Final = (
    "SELECT case_id, customer_id, opened_us, category, severity FROM cases WHERE case_id = %s"
)
CASE_GRANTS_SELECT: Final = f"{GRANT_SELECT} WHERE g.case_id = %s ORDER BY g.at_us, g.request_id"


def case_row(row: tuple[Any, ...]) -> CaseRecord:
    return CaseRecord(row[0], row[1], _dt(row[2]), row[3], row[4])


def _event(row: tuple[Any, ...]) -> LedgerEvent:
    import json

    return LedgerEvent(
        row[0], row[1], row[2], _dt(row[3]), row[4], Attributes(json.loads(row[5])), hash=row[6]
    )


class View:
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
        self._lock(CASE, case_id)
        return self._one(CASE_SELECT, (case_id,), case_row)

    def cases(self, customer_id: str) -> tuple[CaseRecord, ...]:
        return self._all(
            "SELECT case_id, customer_id, opened_us, category, severity FROM cases"
            " WHERE customer_id = %s ORDER BY opened_us, case_id",
            (customer_id,),
            case_row,
        )

    def grant(self, request_id: str) -> GrantRecord | None:
        self._lock(REQUEST, request_id)
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
            self._lock(CASE, case_id)
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
        self._lock(AGENT, agent_id)
        return self._sum(
            "SELECT agent_spent(%s, %s, %s, %s)",
            (agent_id, currency, _us(after), _us(before)),
            currency,
        )

    def goodwill(
        self, customer_id: str, currency: str, *, after: datetime, before: datetime
    ) -> Money:
        self._lock(CUSTOMER, customer_id)
        return self._sum(
            "SELECT customer_goodwill(%s, %s, %s, %s)",
            (customer_id, currency, _us(after), _us(before)),
            currency,
        )

    def promise(self, case_id: str, promise_id: str) -> PromiseRecord | None:
        return self._one(
            f"{PROMISE_SELECT} WHERE p.case_id = %s AND p.promise_id = %s",
            (case_id, promise_id),
            promise_row,
        )

    def promises(
        self, *, case_id: str | None = None, customer_id: str | None = None
    ) -> tuple[PromiseRecord, ...]:
        return self._all(
            f"{PROMISE_SELECT} WHERE (%(c)s::text IS NULL OR p.case_id = %(c)s)"
            " AND (%(k)s::text IS NULL OR p.customer_id = %(k)s) ORDER BY p.n",
            {"c": case_id, "k": customer_id},
            promise_row,
        )

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        self._lock(APPROVAL, approval_id)
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
