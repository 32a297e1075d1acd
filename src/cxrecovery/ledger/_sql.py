"""SQL shared by the SQLite and PostgreSQL stores: the same tables, the same queries.

``ph`` is the store's parameter placeholder (``?`` or ``%s``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from cxrecovery.ledger._records import (
    ApprovalRecord,
    ApprovalStatus,
    CaseRecord,
    EventKind,
    GrantRecord,
    PlanRecord,
    PromiseRecord,
    from_us,
    instant_us,
)
from cxrecovery.ledger._support import after_arg, kinds_arg, page_limit, seq_arg
from cxrecovery.model import PromiseStatus
from cxrecovery.money import Money

__all__ = [
    "APPROVAL_SELECT",
    "GRANT_SELECT",
    "NOT_VOIDED",
    "PROMISE_SELECT",
    "approval_row",
    "events_query",
    "grant_row",
    "grants_query",
    "inserts",
    "promise_row",
]

GRANT_SELECT: Final = (
    "SELECT g.request_id, g.case_id, g.customer_id, g.agent_id, g.role, g.form, g.currency,"
    " g.amount_minor, g.at_us, g.approval_id, g.note,"
    " v.voided_us, v.voided_by, v.voided_role, v.reason"
    " FROM grants g LEFT JOIN grant_voids v ON v.request_id = g.request_id"
)

NOT_VOIDED: Final = (
    " AND NOT EXISTS (SELECT 1 FROM grant_voids v WHERE v.request_id = grants.request_id)"
)

APPROVAL_SELECT: Final = (
    "SELECT a.approval_id, a.case_id, a.customer_id, a.asked_by, a.asked_role,"
    " a.approver_role, a.form, a.currency, a.amount_minor, a.asked_us, a.reason,"
    " d.granted, d.decided_by, d.decided_role, d.decided_us, d.note,"
    " a.expires_us, w.withdrawn_by, w.withdrawn_us, w.reason"
    " FROM approvals a LEFT JOIN approval_decisions d ON d.approval_id = a.approval_id"
    " LEFT JOIN approval_withdrawals w ON w.approval_id = a.approval_id"
)


def _opt(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


PROMISE_SELECT: Final = (
    "SELECT p.case_id, p.promise_id, p.customer_id, p.what, p.made_us, p.due_us, p.made_by,"
    " s.status, s.settled_us, s.settled_by FROM promises p LEFT JOIN promise_settlements s"
    " ON s.case_id = p.case_id AND s.promise_id = p.promise_id"
)


def promise_row(row: tuple[Any, ...]) -> PromiseRecord:
    return PromiseRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        from_us(row[4]),
        from_us(row[5]),
        made_by=row[6],
        status=row[7] or PromiseStatus.PENDING,
        settled_at=_opt(row[8]),
        settled_by=row[9],
    )


def grant_row(row: tuple[Any, ...]) -> GrantRecord:
    return GrantRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        Money.from_minor(row[7], row[6]),
        from_us(row[8]),
        approval_id=row[9],
        note=row[10],
        voided_at=_opt(row[11]),
        voided_by=row[12],
        voided_role=row[13],
        void_reason=row[14],
    )


def approval_row(row: tuple[Any, ...]) -> ApprovalRecord:
    status = ApprovalStatus.ASKED
    if row[11] is not None:
        status = ApprovalStatus.GRANTED if row[11] else ApprovalStatus.REFUSED
    if row[18] is not None:
        status = ApprovalStatus.WITHDRAWN
    return ApprovalRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        Money.from_minor(row[8], row[7]),
        from_us(row[9]),
        reason=row[10],
        status=status,
        decided_by=row[12],
        decided_role=row[13],
        decided_at=_opt(row[14]),
        note=row[15],
        expires_at=_opt(row[16]),
        withdrawn_by=row[17],
        withdrawn_at=_opt(row[18]),
        withdraw_reason=row[19],
    )


def grants_query(
    ph: str,
    *,
    case_id: str | None,
    customer_id: str | None,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    voided: bool | None,
    after: GrantRecord | None,
    limit: int | None,
) -> tuple[str, list[object]]:
    """The query and parameters of :meth:`LedgerView.grants`."""
    limit = page_limit(limit)
    after = after_arg(after)
    where: list[str] = []
    args: list[object] = []
    for column, value in (
        ("g.case_id", case_id),
        ("g.customer_id", customer_id),
        ("g.agent_id", agent_id),
    ):
        if value is not None:
            where.append(f"{column} = {ph}")
            args.append(value)
    if since is not None:
        where.append(f"g.at_us >= {ph}")
        args.append(instant_us(since))
    if until is not None:
        where.append(f"g.at_us < {ph}")
        args.append(instant_us(until))
    if voided is not None:
        where.append("v.request_id IS NOT NULL" if voided else "v.request_id IS NULL")
    if after is not None:
        at = instant_us(after.at)
        where.append(f"(g.at_us > {ph} OR (g.at_us = {ph} AND g.request_id > {ph}))")
        args += [at, at, after.request_id]
    sql = GRANT_SELECT
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY g.at_us, g.request_id"
    if limit is not None:
        sql += f" LIMIT {limit}"
    return sql, args


def events_query(
    ph: str,
    *,
    case_id: str | None,
    kinds: Collection[EventKind] | None,
    after_seq: int,
    limit: int | None,
) -> tuple[str, list[object]]:
    """The query and parameters of :meth:`LedgerView.events`."""
    limit = page_limit(limit)
    wanted = kinds_arg(kinds)
    where = [f"seq > {ph}"]
    args: list[object] = [seq_arg(after_seq)]
    if case_id is not None:
        where.append(f"case_id = {ph}")
        args.append(case_id)
    if wanted is not None:
        values = sorted(k.value for k in wanted)
        if not values:
            where.append("1 = 0")
        else:
            where.append(f"kind IN ({', '.join([ph] * len(values))})")
            args += values
    sql = (
        "SELECT seq, kind, case_id, at_us, ref, body, hash FROM events WHERE "
        + " AND ".join(where)
        + " ORDER BY seq"
    )
    if limit is not None:
        sql += f" LIMIT {limit}"
    return sql, args


# --- writes: one statement and one row of values per record, for both stores --------
# Written with ``?``; :func:`inserts` gives them in a store's placeholder style.

_INSERTS: Final[dict[str, str]] = {
    "case": "INSERT INTO cases (case_id, customer_id, opened_us, category, severity)"
    " VALUES (?, ?, ?, ?, ?)",
    "grant": "INSERT INTO grants (request_id, case_id, customer_id, agent_id, role, form,"
    " currency, amount_minor, at_us, approval_id, note)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "promise": "INSERT INTO promises (case_id, promise_id, customer_id, what, made_us,"
    " due_us, made_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "settlement": "INSERT INTO promise_settlements (case_id, promise_id, status, settled_us,"
    " settled_by) VALUES (?, ?, ?, ?, ?)",
    "approval": "INSERT INTO approvals (approval_id, case_id, customer_id, asked_by,"
    " asked_role, approver_role, form, currency, amount_minor, asked_us, reason, expires_us)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "decision": "INSERT INTO approval_decisions (approval_id, granted, decided_by,"
    " decided_role, decided_us, note) VALUES (?, ?, ?, ?, ?, ?)",
    "void": "INSERT INTO grant_voids (request_id, voided_by, voided_role, voided_us, reason)"
    " VALUES (?, ?, ?, ?, ?)",
    "withdrawal": "INSERT INTO approval_withdrawals (approval_id, withdrawn_by, withdrawn_us,"
    " reason) VALUES (?, ?, ?, ?)",
    "plan": "INSERT INTO plans (case_id, decided_us, agent_id, role, policy_name,"
    " policy_version, policy_fingerprint, plan_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
}


def inserts(ph: str) -> dict[str, str]:
    """The insert statements by record name, with ``ph`` as the placeholder."""
    return {name: sql.replace("?", ph) for name, sql in _INSERTS.items()}


def case_values(record: CaseRecord) -> tuple[Any, ...]:
    return (
        record.case_id,
        record.customer_id,
        instant_us(record.opened_at),
        record.category,
        record.severity.value,
    )


def grant_values(record: GrantRecord) -> tuple[Any, ...]:
    return (
        record.request_id,
        record.case_id,
        record.customer_id,
        record.agent_id,
        record.role,
        record.form.value,
        record.amount.currency,
        record.amount.minor,
        instant_us(record.at),
        record.approval_id,
        record.note,
    )


def promise_values(record: PromiseRecord) -> tuple[Any, ...]:
    return (
        record.case_id,
        record.promise_id,
        record.customer_id,
        record.what,
        instant_us(record.made_at),
        instant_us(record.due),
        record.made_by,
    )


def settlement_values(
    case_id: str, promise_id: str, status: PromiseStatus, at: datetime, by: str | None
) -> tuple[Any, ...]:
    return (case_id, promise_id, PromiseStatus(status).value, instant_us(at), by)


def approval_values(record: ApprovalRecord) -> tuple[Any, ...]:
    expires = record.expires_at
    return (
        record.approval_id,
        record.case_id,
        record.customer_id,
        record.asked_by,
        record.asked_role,
        record.approver_role,
        record.form.value,
        record.amount.currency,
        record.amount.minor,
        instant_us(record.asked_at),
        record.reason,
        None if expires is None else instant_us(expires),
    )


def plan_values(record: PlanRecord) -> tuple[Any, ...]:
    return (
        record.case_id,
        instant_us(record.decided_at),
        record.agent_id,
        record.role,
        record.policy_name,
        record.policy_version,
        record.policy_fingerprint,
        record.plan_digest,
    )
