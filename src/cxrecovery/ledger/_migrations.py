"""The SQLite ledger's schema, as numbered migrations kept in code.

``PRAGMA application_id`` marks a file as a cxrecovery ledger; ``PRAGMA user_version``
is the number of the last migration applied. Migrations only ever add: a file opened by
an older cxrecovery than the one that wrote it is refused, never rewritten.

Money is an integer count of the currency's minor unit beside the currency code, times
are integer microseconds since the Unix epoch in UTC: exact, ordered, and never floats.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

from cxrecovery.ledger._chain import GENESIS, event_hash

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION"]

# "CXRL" in ASCII: how a cxrecovery ledger file says what it is.
APPLICATION_ID: Final = 0x4358524C

_TABLES: Final = (
    "cases",
    "grants",
    "promises",
    "promise_settlements",
    "approvals",
    "approval_decisions",
    "plans",
    "events",
)


def _append_only(table: str) -> tuple[str, ...]:
    return tuple(
        f"""CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, 'cxrecovery ledger: {table} is append-only'); END"""
        for verb in ("update", "delete")
    )


_V1: Final = (
    """CREATE TABLE cases (
        case_id      TEXT PRIMARY KEY,
        customer_id  TEXT NOT NULL,
        opened_us    INTEGER NOT NULL,
        category     TEXT NOT NULL,
        severity     TEXT NOT NULL
    )""",
    "CREATE INDEX cases_customer ON cases (customer_id, opened_us)",
    """CREATE TABLE approvals (
        approval_id   TEXT PRIMARY KEY,
        case_id       TEXT NOT NULL REFERENCES cases (case_id),
        customer_id   TEXT NOT NULL,
        asked_by      TEXT NOT NULL,
        asked_role    TEXT NOT NULL,
        approver_role TEXT NOT NULL,
        form          TEXT NOT NULL,
        currency      TEXT NOT NULL,
        amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
        asked_us      INTEGER NOT NULL,
        reason        TEXT NOT NULL
    )""",
    """CREATE TABLE approval_decisions (
        approval_id  TEXT PRIMARY KEY REFERENCES approvals (approval_id),
        granted      INTEGER NOT NULL CHECK (granted IN (0, 1)),
        decided_by   TEXT NOT NULL,
        decided_role TEXT NOT NULL,
        decided_us   INTEGER NOT NULL,
        note         TEXT
    )""",
    """CREATE TABLE grants (
        request_id   TEXT PRIMARY KEY,
        case_id      TEXT NOT NULL REFERENCES cases (case_id),
        customer_id  TEXT NOT NULL,
        agent_id     TEXT NOT NULL,
        role         TEXT NOT NULL,
        form         TEXT NOT NULL,
        currency     TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
        at_us        INTEGER NOT NULL,
        approval_id  TEXT UNIQUE REFERENCES approvals (approval_id),
        note         TEXT
    )""",
    "CREATE INDEX grants_agent ON grants (agent_id, currency, at_us)",
    "CREATE INDEX grants_customer ON grants (customer_id, currency, at_us)",
    "CREATE INDEX grants_case ON grants (case_id, at_us)",
    """CREATE TABLE promises (
        case_id     TEXT NOT NULL REFERENCES cases (case_id),
        promise_id  TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        what        TEXT NOT NULL,
        made_us     INTEGER NOT NULL,
        due_us      INTEGER NOT NULL,
        made_by     TEXT,
        PRIMARY KEY (case_id, promise_id)
    )""",
    "CREATE INDEX promises_customer ON promises (customer_id, made_us)",
    """CREATE TABLE promise_settlements (
        case_id    TEXT NOT NULL,
        promise_id TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('kept', 'broken', 'withdrawn')),
        settled_us INTEGER NOT NULL,
        settled_by TEXT,
        PRIMARY KEY (case_id, promise_id),
        FOREIGN KEY (case_id, promise_id) REFERENCES promises (case_id, promise_id)
    )""",
    """CREATE TABLE plans (
        seq                INTEGER PRIMARY KEY,
        case_id            TEXT NOT NULL,
        decided_us         INTEGER NOT NULL,
        agent_id           TEXT,
        role               TEXT NOT NULL,
        policy_name        TEXT NOT NULL,
        policy_version     TEXT NOT NULL,
        policy_fingerprint TEXT NOT NULL,
        plan_digest        TEXT NOT NULL
    )""",
    "CREATE INDEX plans_case ON plans (case_id, seq)",
    """CREATE TABLE events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        kind    TEXT NOT NULL,
        case_id TEXT NOT NULL,
        at_us   INTEGER NOT NULL,
        ref     TEXT NOT NULL,
        body    TEXT NOT NULL
    )""",
    "CREATE INDEX events_case ON events (case_id, seq)",
    *(statement for table in _TABLES for statement in _append_only(table)),
    f"PRAGMA application_id = {APPLICATION_ID}",
)


def _chain_existing_events(conn: sqlite3.Connection) -> None:
    """Hash the events a version-1 ledger already holds, in ``seq`` order."""
    prev = GENESIS
    rows = conn.execute("SELECT seq, kind, case_id, at_us, ref, body FROM events ORDER BY seq")
    for seq, kind, case_id, at_us, ref, body in rows.fetchall():
        prev = event_hash(prev, seq, kind, case_id, at_us, ref, body)
        conn.execute("UPDATE events SET hash = ? WHERE seq = ?", (prev, seq))


# Version 2: the hash chain over the events (a column, filled for the events there).
_V2: Final = (
    "ALTER TABLE events ADD COLUMN hash TEXT",
    "DROP TRIGGER events_no_update",
    _chain_existing_events,
    _append_only("events")[0],
)

# Version 3: corrections. A void is a row beside the grant it voids; a withdrawal one
# beside its approval; an approval's lifetime a column (NULL: asked before version 3).
_V3: Final = (
    """CREATE TABLE grant_voids (
        request_id  TEXT PRIMARY KEY REFERENCES grants (request_id),
        voided_by   TEXT NOT NULL,
        voided_role TEXT NOT NULL,
        voided_us   INTEGER NOT NULL,
        reason      TEXT NOT NULL
    )""",
    """CREATE TABLE approval_withdrawals (
        approval_id  TEXT PRIMARY KEY REFERENCES approvals (approval_id),
        withdrawn_by TEXT NOT NULL,
        withdrawn_us INTEGER NOT NULL,
        reason       TEXT NOT NULL
    )""",
    "ALTER TABLE approvals ADD COLUMN expires_us INTEGER",
    *_append_only("grant_voids"),
    *_append_only("approval_withdrawals"),
)

Step = str | Callable[[sqlite3.Connection], None]

MIGRATIONS: Final[tuple[tuple[Step, ...], ...]] = (_V1, _V2, _V3)
"""``MIGRATIONS[n]`` takes a ledger from schema version ``n`` to ``n + 1``."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
