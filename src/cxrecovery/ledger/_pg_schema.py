"""The PostgreSQL ledger's schema, as numbered migrations kept in code.

Everything lives in one schema (``cxrecovery`` unless the host names another); its
``ledger_meta`` table says whose schema it is and which migration was applied last.
Money is an integer count of minor units beside the currency, times integer
microseconds since the Unix epoch in UTC: the same values as the SQLite ledger.
"""

from __future__ import annotations

from typing import Final

__all__ = ["APPLICATION", "PG_MIGRATIONS", "PG_SCHEMA_VERSION"]

APPLICATION: Final = "cxrecovery-ledger"

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

_V1: Final = (
    """CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    f"INSERT INTO ledger_meta VALUES ('application', '{APPLICATION}')",
    "INSERT INTO ledger_meta VALUES ('schema_version', '0')",
    """CREATE TABLE cases (
        case_id      TEXT PRIMARY KEY,
        customer_id  TEXT NOT NULL,
        opened_us    BIGINT NOT NULL,
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
        amount_minor  BIGINT NOT NULL CHECK (amount_minor >= 0),
        asked_us      BIGINT NOT NULL,
        reason        TEXT NOT NULL
    )""",
    """CREATE TABLE approval_decisions (
        approval_id  TEXT PRIMARY KEY REFERENCES approvals (approval_id),
        granted      BOOLEAN NOT NULL,
        decided_by   TEXT NOT NULL,
        decided_role TEXT NOT NULL,
        decided_us   BIGINT NOT NULL,
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
        amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
        at_us        BIGINT NOT NULL,
        approval_id  TEXT UNIQUE REFERENCES approvals (approval_id),
        note         TEXT
    )""",
    "CREATE INDEX grants_agent ON grants (agent_id, currency, at_us)",
    "CREATE INDEX grants_customer ON grants (customer_id, currency, at_us)",
    "CREATE INDEX grants_case ON grants (case_id, at_us)",
    """CREATE TABLE promises (
        n           BIGSERIAL UNIQUE,
        case_id     TEXT NOT NULL REFERENCES cases (case_id),
        promise_id  TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        what        TEXT NOT NULL,
        made_us     BIGINT NOT NULL,
        due_us      BIGINT NOT NULL,
        made_by     TEXT,
        PRIMARY KEY (case_id, promise_id)
    )""",
    "CREATE INDEX promises_customer ON promises (customer_id, made_us)",
    """CREATE TABLE promise_settlements (
        case_id    TEXT NOT NULL,
        promise_id TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('kept', 'broken', 'withdrawn')),
        settled_us BIGINT NOT NULL,
        settled_by TEXT,
        PRIMARY KEY (case_id, promise_id),
        FOREIGN KEY (case_id, promise_id) REFERENCES promises (case_id, promise_id)
    )""",
    """CREATE TABLE plans (
        seq                BIGSERIAL PRIMARY KEY,
        case_id            TEXT NOT NULL,
        decided_us         BIGINT NOT NULL,
        agent_id           TEXT,
        role               TEXT NOT NULL,
        policy_name        TEXT NOT NULL,
        policy_version     TEXT NOT NULL,
        policy_fingerprint TEXT NOT NULL,
        plan_digest        TEXT NOT NULL
    )""",
    "CREATE INDEX plans_case ON plans (case_id, seq)",
    # Sealed events: seq dense and in the order they were sealed, each hash chained to
    # the one before (see _postgres.py for why events are queued, then sealed).
    """CREATE TABLE events (
        seq     BIGINT PRIMARY KEY,
        kind    TEXT NOT NULL,
        case_id TEXT NOT NULL,
        at_us   BIGINT NOT NULL,
        ref     TEXT NOT NULL,
        body    TEXT NOT NULL,
        hash    TEXT NOT NULL
    )""",
    "CREATE INDEX events_case ON events (case_id, seq)",
    """CREATE TABLE event_queue (
        id      BIGSERIAL PRIMARY KEY,
        kind    TEXT NOT NULL,
        case_id TEXT NOT NULL,
        at_us   BIGINT NOT NULL,
        ref     TEXT NOT NULL,
        body    TEXT NOT NULL
    )""",
    # The seal, on the server: the seal lock is then held from the function's call to
    # the commit that follows it in the same round trip, never across a client's wait.
    # Each statement of a PL/pgSQL function at READ COMMITTED takes a new snapshot, so
    # the queue is read after the lock is held. The hash is _chain.event_hash's.
    """CREATE FUNCTION frame(t TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE
        AS $$ SELECT octet_length(t)::text || ':' || t $$""",
    """CREATE FUNCTION seal() RETURNS INTEGER LANGUAGE plpgsql SET search_path FROM CURRENT
    AS $$
    DECLARE
        head_seq BIGINT;
        head TEXT;
        item RECORD;
        sealed BIGINT[] := '{}';
    BEGIN
        SELECT seq, hash INTO head_seq, head FROM events ORDER BY seq DESC LIMIT 1;
        IF NOT FOUND THEN
            head_seq := 0;
            head := repeat('0', 64);
        END IF;
        FOR item IN SELECT id, kind, case_id, at_us, ref, body FROM event_queue ORDER BY id
        LOOP
            head_seq := head_seq + 1;
            head := encode(sha256(convert_to(
                frame(head) || frame(head_seq::text) || frame(item.kind)
                || frame(item.case_id) || frame(item.at_us::text) || frame(item.ref)
                || frame(item.body), 'UTF8')), 'hex');
            INSERT INTO events (seq, kind, case_id, at_us, ref, body, hash)
                VALUES (head_seq, item.kind, item.case_id, item.at_us, item.ref, item.body,
                        head);
            sealed := sealed || item.id;
        END LOOP;
        DELETE FROM event_queue WHERE id = ANY(sealed);
        RETURN cardinality(sealed);
    END $$""",
    """CREATE FUNCTION try_seal(lock_class INTEGER, lock_key TEXT) RETURNS BOOLEAN
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        IF pg_try_advisory_xact_lock(lock_class, hashtext(lock_key)) THEN
            PERFORM seal();
            RETURN true;
        END IF;
        RETURN false;
    END $$""",
    """CREATE FUNCTION seal_waiting(lock_class INTEGER, lock_key TEXT) RETURNS INTEGER
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(lock_class, hashtext(lock_key));
        RETURN seal();
    END $$""",
    """CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'cxrecovery ledger: % is append-only', TG_TABLE_NAME;
        END $$""",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION append_only()"
        for table in _TABLES
    ),
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION append_only()"
        for table in _TABLES
    ),
)

# Version 2: corrections (as the SQLite ledger's version 3).
_V2: Final = (
    """CREATE TABLE grant_voids (
        request_id  TEXT PRIMARY KEY REFERENCES grants (request_id),
        voided_by   TEXT NOT NULL,
        voided_role TEXT NOT NULL,
        voided_us   BIGINT NOT NULL,
        reason      TEXT NOT NULL
    )""",
    """CREATE TABLE approval_withdrawals (
        approval_id  TEXT PRIMARY KEY REFERENCES approvals (approval_id),
        withdrawn_by TEXT NOT NULL,
        withdrawn_us BIGINT NOT NULL,
        reason       TEXT NOT NULL
    )""",
    "ALTER TABLE approvals ADD COLUMN expires_us BIGINT",
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION append_only()"
        for table in ("grant_voids", "approval_withdrawals")
    ),
)

PG_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2)
"""``PG_MIGRATIONS[n]`` takes a ledger schema from version ``n`` to ``n + 1``."""

PG_SCHEMA_VERSION: Final = len(PG_MIGRATIONS)
