"""The PostgreSQL ledger's schema, as numbered migrations kept in code.

Everything lives in one schema (``cxrecovery`` unless the host names another); its
``ledger_meta`` table says whose schema it is and which migration was applied last.
Money is an integer count of minor units beside the currency, times integer
microseconds since the Unix epoch in UTC: the same values as the SQLite ledger.
"""

from __future__ import annotations

from typing import Final

from cxrecovery.ledger._pg_view import AGENT, APPROVAL, CASE, CUSTOMER, REQUEST

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

# Version 3: a grant in two round trips. The budget sums move into functions, which
# the read view calls too (one definition of each). ``grant_reads`` takes a grant's
# locks in the desk's order and then, in one statement (one snapshot, taken once every
# lock is held), reads all that its limits need. ``queue_events`` queues a session's
# events and tries the seal; ``seal_mine``, run after the commit in the same round
# trip, seals them when the seal lock was busy (see _postgres.py).
_GRANT_ROW: Final = (
    "json_build_array(g.request_id, g.case_id, g.customer_id, g.agent_id, g.role, g.form,"
    " g.currency, g.amount_minor, g.at_us, g.approval_id, g.note,"
    " v.voided_us, v.voided_by, v.voided_role, v.reason)"
)
_GRANTS: Final = "FROM grants g LEFT JOIN grant_voids v ON v.request_id = g.request_id"


def _lock(kind: int, key: str) -> str:
    return f"PERFORM pg_advisory_xact_lock({kind}, hashtext(p_schema || ':' || {key}));"


_V3: Final = (
    """CREATE FUNCTION agent_spent(p_agent TEXT, p_currency TEXT, p_after BIGINT,
        p_before BIGINT) RETURNS BIGINT
    LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
    BEGIN
        RETURN (SELECT coalesce(sum(g.amount_minor), 0) FROM grants g
            WHERE g.agent_id = p_agent AND g.currency = p_currency
              AND g.approval_id IS NULL AND g.at_us > p_after AND g.at_us <= p_before
              AND NOT EXISTS (SELECT 1 FROM grant_voids v WHERE v.request_id = g.request_id));
    END $$""",
    """CREATE FUNCTION customer_goodwill(p_customer TEXT, p_currency TEXT, p_after BIGINT,
        p_before BIGINT) RETURNS BIGINT
    LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
    BEGIN
        RETURN (SELECT coalesce(sum(g.amount_minor), 0) FROM grants g
            WHERE g.customer_id = p_customer AND g.currency = p_currency
              AND g.at_us > p_after AND g.at_us <= p_before
              AND NOT EXISTS (SELECT 1 FROM grant_voids v WHERE v.request_id = g.request_id));
    END $$""",
    f"""CREATE FUNCTION grant_reads(p_schema TEXT, p_request TEXT, p_case TEXT,
        p_agent TEXT, p_customer TEXT, p_currency TEXT, p_agent_after BIGINT,
        p_agent_before BIGINT, p_customer_after BIGINT, p_customer_before BIGINT,
        p_approval TEXT) RETURNS json
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        now_us BIGINT := floor(extract(epoch FROM clock_timestamp()) * 1000000);
    BEGIN
        {_lock(REQUEST, "p_request")}
        {_lock(CASE, "p_case")}
        {_lock(AGENT, "p_agent")}
        {_lock(CUSTOMER, "p_customer")}
        IF p_approval IS NOT NULL THEN
            {_lock(APPROVAL, "p_approval")}
        END IF;
        RETURN json_build_array(
            now_us,
            (SELECT {_GRANT_ROW} {_GRANTS} WHERE g.request_id = p_request),
            (SELECT json_build_array(c.case_id, c.customer_id, c.opened_us, c.category,
                c.severity) FROM cases c WHERE c.case_id = p_case),
            (SELECT coalesce(json_agg({_GRANT_ROW} ORDER BY g.at_us, g.request_id), '[]')
                {_GRANTS} WHERE g.case_id = p_case),
            agent_spent(p_agent, p_currency, p_agent_after, p_agent_before),
            customer_goodwill(p_customer, p_currency, p_customer_after, p_customer_before),
            (SELECT json_build_array(a.approval_id, a.case_id, a.customer_id, a.asked_by,
                a.asked_role, a.approver_role, a.form, a.currency, a.amount_minor,
                a.asked_us, a.reason, d.granted, d.decided_by, d.decided_role,
                d.decided_us, d.note, a.expires_us, w.withdrawn_by, w.withdrawn_us, w.reason)
                FROM approvals a
                LEFT JOIN approval_decisions d ON d.approval_id = a.approval_id
                LEFT JOIN approval_withdrawals w ON w.approval_id = a.approval_id
                WHERE a.approval_id = p_approval),
            (SELECT {_GRANT_ROW} {_GRANTS} WHERE g.approval_id = p_approval));
    END $$""",
    # Events appended to the chain in array order (the caller holds the seal lock).
    # The hash is _chain.event_hash's, as in seal() of version 1.
    """CREATE FUNCTION chain_events(p_kinds TEXT[], p_cases TEXT[], p_ats BIGINT[],
        p_refs TEXT[], p_bodies TEXT[]) RETURNS INTEGER
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        head_seq BIGINT;
        head TEXT;
    BEGIN
        SELECT seq, hash INTO head_seq, head FROM events ORDER BY seq DESC LIMIT 1;
        IF NOT FOUND THEN
            head_seq := 0;
            head := repeat('0', 64);
        END IF;
        FOR i IN 1 .. coalesce(cardinality(p_kinds), 0) LOOP
            head_seq := head_seq + 1;
            head := encode(sha256(convert_to(
                frame(head) || frame(head_seq::text) || frame(p_kinds[i])
                || frame(p_cases[i]) || frame(p_ats[i]::text) || frame(p_refs[i])
                || frame(p_bodies[i]), 'UTF8')), 'hex');
            INSERT INTO events (seq, kind, case_id, at_us, ref, body, hash)
                VALUES (head_seq, p_kinds[i], p_cases[i], p_ats[i], p_refs[i], p_bodies[i],
                        head);
        END LOOP;
        RETURN coalesce(cardinality(p_kinds), 0);
    END $$""",
    """CREATE OR REPLACE FUNCTION seal() RETURNS INTEGER
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        ids BIGINT[];
        kinds TEXT[];
        cases TEXT[];
        ats BIGINT[];
        refs TEXT[];
        bodies TEXT[];
    BEGIN
        SELECT array_agg(id ORDER BY id), array_agg(kind ORDER BY id),
               array_agg(case_id ORDER BY id), array_agg(at_us ORDER BY id),
               array_agg(ref ORDER BY id), array_agg(body ORDER BY id)
          INTO ids, kinds, cases, ats, refs, bodies FROM event_queue;
        IF ids IS NULL THEN
            RETURN 0;
        END IF;
        PERFORM chain_events(kinds, cases, ats, refs, bodies);
        DELETE FROM event_queue WHERE id = ANY(ids);
        RETURN cardinality(ids);
    END $$""",
    # A session's events at its commit: with the seal lock free, sealed at once (after
    # any queued before them), in the transaction that made them; otherwise queued.
    # The session's setting cxrecovery.sealed tells seal_mine which.
    """CREATE FUNCTION queue_events(p_lock_class INTEGER, p_lock_key TEXT, p_kinds TEXT[],
        p_cases TEXT[], p_ats BIGINT[], p_refs TEXT[], p_bodies TEXT[]) RETURNS BOOLEAN
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        IF pg_try_advisory_xact_lock(p_lock_class, hashtext(p_lock_key)) THEN
            PERFORM seal();
            PERFORM chain_events(p_kinds, p_cases, p_ats, p_refs, p_bodies);
            PERFORM set_config('cxrecovery.sealed', 'yes', false);
            RETURN true;
        END IF;
        INSERT INTO event_queue (kind, case_id, at_us, ref, body)
            SELECT e.kind, e.case_id, e.at_us, e.ref, e.body
            FROM unnest(p_kinds, p_cases, p_ats, p_refs, p_bodies)
            WITH ORDINALITY AS e(kind, case_id, at_us, ref, body, n) ORDER BY n;
        PERFORM set_config('cxrecovery.sealed', 'no', false);
        RETURN false;
    END $$""",
    # After the commit that queued them: when this session's events (and any queued
    # before them) are still queued, wait for the seal lock and look again; seal only
    # if some still are, so a writer sealed for by another leaves at once.
    """CREATE FUNCTION seal_mine(p_lock_class INTEGER, p_lock_key TEXT) RETURNS INTEGER
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
        upto BIGINT;
    BEGIN
        IF current_setting('cxrecovery.sealed', true) = 'yes' THEN
            RETURN 0;
        END IF;
        upto := currval(pg_get_serial_sequence('event_queue', 'id'));
        IF NOT EXISTS (SELECT 1 FROM event_queue WHERE id <= upto) THEN
            RETURN 0;
        END IF;
        PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(p_lock_key));
        IF NOT EXISTS (SELECT 1 FROM event_queue WHERE id <= upto) THEN
            RETURN 0;
        END IF;
        RETURN seal();
    END $$""",
)

# Version 4: an index that holds exactly the rows an agent's own-authority spend sums
# (``agent_spent``), with the amount in it. Without it, in a young ledger whose
# statistics are not yet gathered, the planner may read that sum through the unique
# index on ``approval_id`` (``IS NULL``): every agent's own grants, not one agent's.
_V4: Final = (
    "CREATE INDEX grants_agent_own ON grants (agent_id, currency, at_us)"
    " INCLUDE (amount_minor) WHERE approval_id IS NULL",
)

PG_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (_V1, _V2, _V3, _V4)
"""``PG_MIGRATIONS[n]`` takes a ledger schema from version ``n`` to ``n + 1``."""

PG_SCHEMA_VERSION: Final = len(PG_MIGRATIONS)
