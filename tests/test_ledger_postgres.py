"""The PostgreSQL ledger beyond the conformance suite: its schema, locks and seals.

Needs ``CXRECOVERY_PG_DSN`` (skipped without it, failed without it in CI).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

import cxrecovery as cx
from cxrecovery.ledger import (
    Desk,
    LedgerBusyError,
    LedgerFormatError,
    PostgresLedger,
    verify,
)
from cxrecovery.ledger._pg_schema import PG_SCHEMA_VERSION
from ledger_workers import T0, TOLERANCE, clock, make_case
from test_ledger_conformance import drop_schema, pg_dsn

ENGINE = cx.Engine(cx.default_policy())
FRONT = cx.Agent("a1", "front_line")


@pytest.fixture
def schema() -> Iterator[str]:
    dsn = pg_dsn()
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    drop_schema(dsn, name)


def _sql(statement: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _snapshot(schema: str) -> list[tuple[object, ...]]:
    """Every table of the schema with its row count: what a refusal must not change."""
    tables = _sql(
        f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' ORDER BY tablename"
    )
    return [(t[0], _sql(f"SELECT count(*) FROM {schema}.{t[0]}")[0][0]) for t in tables]


def test_a_new_schema_is_created_and_versioned(schema: str) -> None:
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    assert PG_SCHEMA_VERSION == ledger.schema_version
    ledger.close()
    again = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    assert PG_SCHEMA_VERSION == again.schema_version
    again.close()


def test_another_applications_schema_is_refused_untouched(schema: str) -> None:
    _sql(f"CREATE SCHEMA {schema}")
    _sql(f"CREATE TABLE {schema}.customers (id TEXT)")
    before = _snapshot(schema)
    with pytest.raises(LedgerFormatError, match="another application"):
        PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    assert before == _snapshot(schema)


def test_a_newer_schema_is_refused_untouched(schema: str) -> None:
    PostgresLedger(pg_dsn(), schema=schema, clock=clock).close()
    _sql(f"UPDATE {schema}.ledger_meta SET value = '99' WHERE key = 'schema_version'")
    before = _snapshot(schema)
    with pytest.raises(LedgerFormatError, match="newer than this cxrecovery knows"):
        PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    assert before == _snapshot(schema)


def test_history_cannot_be_rewritten(schema: str) -> None:
    import psycopg

    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    desk.grant(
        make_case("case-1", "c1"),
        cx.Money("5.00", "EUR"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="r1",
    )
    ledger.close()
    for statement in (f"UPDATE {schema}.events SET ref = 'x'", f"DELETE FROM {schema}.grants"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            _sql(statement)


def test_two_hosts_opening_a_new_schema_at_once_both_succeed(schema: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            PostgresLedger(pg_dsn(), schema=schema, clock=clock).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors


def test_a_writer_held_past_the_timeout_gets_busy_and_writes_nothing(schema: str) -> None:
    holder = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    waiter = PostgresLedger(pg_dsn(), schema=schema, clock=clock, timeout=0.3)
    desk = Desk(ENGINE, waiter, clock_tolerance=TOLERANCE)
    with holder.write() as session:
        session.spent("a1", "EUR", after=T0 - timedelta(days=1), before=T0)  # locks a1
        with pytest.raises(LedgerBusyError):
            desk.grant(
                make_case("case-1", "c1"),
                cx.Money("5.00", "EUR"),
                "credit",
                at=T0,
                agent=FRONT,
                request_id="r1",
            )
    with waiter.read() as view:
        assert () == view.grants()
    holder.close()
    waiter.close()


def test_decide_records_its_plan_without_waiting_for_grants_on_other_budgets(
    schema: str,
) -> None:
    holder = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock, timeout=5)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    with holder.write() as session:
        # A grant in progress: it holds its agent's and its customer's budgets.
        session.spent("a1", "EUR", after=T0 - timedelta(days=1), before=T0)
        session.goodwill("c9", "EUR", after=T0 - timedelta(days=1), before=T0)
        start = time.monotonic()
        desk.decide(make_case("case-1", "c1"), at=T0, agent=FRONT)
        waited = time.monotonic() - start
    assert waited < 2.0
    with ledger.read() as view:
        assert 1 == len(view.plans("case-1"))
    holder.close()
    ledger.close()


def test_events_queued_by_a_writer_killed_before_its_seal_are_sealed_next(schema: str) -> None:
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    desk.grant(
        make_case("case-1", "c1"),
        cx.Money("5.00", "EUR"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="r1",
    )
    # As a writer killed between its commit and its seal leaves it:
    _sql(
        f"INSERT INTO {schema}.event_queue (kind, case_id, at_us, ref, body)"
        " VALUES ('case_opened', 'case-2', 0, 'case-2', '{}')"
    )
    ledger.close()
    reopened = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    with reopened.read() as view:
        assert ["case-1", "case-1", "case-2"] == [e.case_id for e in view.events()]
    assert verify(reopened).ok
    reopened.close()


def test_a_writer_never_waits_for_the_seal_and_a_read_seals_what_it_left_queued(
    schema: str,
) -> None:
    """A writer that finds the seal lock held queues its events and returns without
    waiting. A read that begins after it seals them first (waiting for the lock): it
    sees them, in order, after the events sealed before."""
    import psycopg

    from cxrecovery.ledger._pg_view import SEAL

    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    desk.grant(
        make_case("case-0", "c0"),
        cx.Money("5.00", "EUR"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="r0",
    )
    with psycopg.connect(pg_dsn(), autocommit=True) as holder:
        holder.execute(f"SET search_path TO {schema}")
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SEAL, schema))
        desk.grant(  # returns while the holder keeps the seal lock
            make_case("case-1", "c1"),
            cx.Money("5.00", "EUR"),
            "credit",
            at=T0,
            agent=FRONT,
            request_id="r1",
        )
        assert [("case-1",), ("case-1",)] == _sql(
            f"SELECT case_id FROM {schema}.event_queue ORDER BY id"
        )
        seen: list[list[str]] = []
        reader = threading.Thread(target=lambda: seen.append(_case_ids_read(ledger)), daemon=True)
        reader.start()
        time.sleep(0.2)
        assert [] == seen  # the read waits for the seal lock
        holder.execute("COMMIT")
        reader.join(30)
    assert [["case-0", "case-0", "case-1", "case-1"]] == seen
    assert [] == _sql(f"SELECT case_id FROM {schema}.event_queue")
    assert verify(ledger).ok
    ledger.close()


def _case_ids_read(ledger: PostgresLedger) -> list[str]:
    with ledger.read() as view:
        return [e.case_id for e in view.events()]


def _populated(schema: str) -> PostgresLedger:
    """A ledger with what a grant's reads must see and leave out: grants inside and
    outside the agent's window, another currency, a voided grant, an approval decided
    and the grant made under it."""
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    case, other = make_case("case-1", "c1"), make_case("case-2", "c1")
    for n, (at, on) in enumerate(
        [(T0 - timedelta(hours=20), case), (T0, case), (T0 + timedelta(hours=1), other)]
    ):
        desk.grant(on, cx.Money("5.00", "EUR"), "credit", at=at, agent=FRONT, request_id=f"r{n}")
    desk.grant(
        make_case("case-3", "c1", currency="GBP"),
        cx.Money("7.00", "GBP"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="gbp",
    )
    desk.void("r1", at=T0, agent=FRONT, reason="entered twice")
    desk.request_approval(
        case, cx.Money("60.00", "EUR"), "credit", at=T0, agent=FRONT, approval_id="ap-1"
    )
    desk.approve("ap-1", at=T0, approver=cx.Agent("sup-1", "supervisor"))
    desk.grant(
        case,
        cx.Money("60.00", "EUR"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="r-ap",
        approval="ap-1",
    )
    return ledger


def _reads(request_id: str, approval_id: str | None) -> object:
    from cxrecovery.ledger._protocol import GrantReads

    return GrantReads(request_id, "case-1", "c1", FRONT.id, "EUR", *_WINDOWS, approval_id)


# The agent's window (an hour either side) and the customer's (90 days).
_WINDOWS = (
    (T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
    (T0 - timedelta(days=90), T0 + timedelta(days=90)),
)


@pytest.mark.parametrize(("request_id", "approval_id"), [("r0", "ap-1"), ("new", None)])
def test_a_grants_reads_in_one_round_trip_answer_as_the_queries_do(
    schema: str, request_id: str, approval_id: str | None
) -> None:
    ledger = _populated(schema)
    reads = _reads(request_id, approval_id)

    def answers(prefetch: bool) -> list[object]:
        with ledger.write() as session:
            if prefetch:
                session.prefetch_grant(reads)  # type: ignore[attr-defined]
            (a_after, a_before), (c_after, c_before) = _WINDOWS
            found: list[object] = [
                session.grant(request_id),
                session.case("case-1"),
                session.grants(case_id="case-1"),
                session.spent(FRONT.id, "EUR", after=a_after, before=a_before),
                session.goodwill("c1", "EUR", after=c_after, before=c_before),
            ]
            if approval_id is not None:
                found += [session.approval(approval_id), session.grant_under(approval_id)]
            return found

    plain = answers(prefetch=False)
    assert answers(prefetch=True) == plain
    # The data is what the test says it is: the agent's spend counts the grant an hour
    # ahead, not the one 20 hours before, the voided one or the approved one.
    assert cx.Money("5.00", "EUR") == plain[3]
    assert cx.Money("70.00", "EUR") == plain[4]
    ledger.close()


def test_a_sessions_own_appends_are_seen_after_its_prefetched_reads(schema: str) -> None:
    from cxrecovery.ledger import GrantRecord

    ledger = _populated(schema)
    (a_after, a_before), (c_after, c_before) = _WINDOWS
    with ledger.write() as session:
        session.prefetch_grant(_reads("new", None))  # type: ignore[attr-defined]
        assert session.case("case-9") is None  # another case: asked of the server
        session.add_grant(
            GrantRecord(
                "new",
                "case-1",
                "c1",
                FRONT.id,
                FRONT.role,
                cx.CompensationForm.CREDIT,
                cx.Money("1.00", "EUR"),
                T0,
            )
        )
        assert "new" == getattr(session.grant("new"), "request_id", None)
        assert cx.Money("6.00", "EUR") == session.spent(
            FRONT.id, "EUR", after=a_after, before=a_before
        )
        assert cx.Money("71.00", "EUR") == session.goodwill(
            "c1", "EUR", after=c_after, before=c_before
        )
    ledger.close()


def test_a_version_2_schema_is_migrated_and_its_queued_events_sealed(schema: str) -> None:
    """A schema from the release before, with a grant and an event a killed writer left
    queued: opened, it gains version 3's functions and version 4's index, and the chain
    runs on unbroken."""
    import psycopg

    from cxrecovery.ledger._pg_schema import PG_MIGRATIONS

    with psycopg.connect(pg_dsn(), autocommit=True) as conn, conn.transaction():
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET LOCAL search_path TO {schema}")
        for step in PG_MIGRATIONS[:2]:
            for statement in step:
                conn.execute(statement)
        conn.execute("UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'")
        conn.execute(
            "INSERT INTO event_queue (kind, case_id, at_us, ref, body)"
            " VALUES ('case_opened', 'case-0', 0, 'case-0', '{}')"
        )
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    assert 4 == ledger.schema_version == PG_SCHEMA_VERSION
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    desk.grant(
        make_case("case-1", "c1"),
        cx.Money("5.00", "EUR"),
        "credit",
        at=T0,
        agent=FRONT,
        request_id="r1",
    )
    with ledger.read() as view:
        assert ["case-0", "case-1", "case-1"] == [e.case_id for e in view.events()]
    assert verify(ledger).ok
    ledger.close()


def test_values_with_quotes_and_placeholders_go_through_as_written(schema: str) -> None:
    """A grant's two round trips bind their values on the client: ids and notes with
    quotes, semicolons, backslashes and placeholders are stored and chained as given."""
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    case = make_case("case-'ü€;--", "c'1\\")
    agent = cx.Agent("a%s'ë", "front_line")
    request = "r'); DROP TABLE grants; --"
    note = 'naïve "quote" {brace} \\ %s %(x)s'
    record = desk.grant(
        case, cx.Money("5.00", "EUR"), "credit", at=T0, agent=agent, request_id=request, note=note
    )
    with ledger.read() as view:
        assert (record,) == view.grants()
        assert (note, "c'1\\") == (view.grants()[0].note, view.grants()[0].customer_id)
        assert [case.id, request] == [e.ref for e in view.events()]
    assert verify(ledger).ok
    ledger.close()


def test_an_agents_own_spend_reads_only_that_agents_rows(schema: str) -> None:
    """Version 4: the own-authority spend reads its own partial index (the amount in
    it), not the unique index on ``approval_id``, which holds every agent's own grants,
    also before the server has gathered any statistics on the table."""
    ledger = PostgresLedger(pg_dsn(), schema=schema, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    for n in range(6):
        desk.grant(
            make_case(f"case-{n}", f"c{n}"),
            cx.Money("1.00", "EUR"),
            "credit",
            at=T0,
            agent=cx.Agent(f"a{n % 3}", "front_line"),
            request_id=f"r{n}",
        )
    ledger.close()
    import psycopg

    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute("SET enable_seqscan = off")  # a table this small is read whole
        conn.execute("SET plan_cache_mode = force_generic_plan")  # as inside agent_spent
        conn.execute(
            "PREPARE spent(text, text, bigint, bigint) AS"
            " SELECT coalesce(sum(g.amount_minor), 0) FROM grants g"
            " WHERE g.agent_id = $1 AND g.currency = $2 AND g.approval_id IS NULL"
            " AND g.at_us > $3 AND g.at_us <= $4"
            " AND NOT EXISTS (SELECT 1 FROM grant_voids v WHERE v.request_id = g.request_id)"
        )
        plan = "\n".join(
            row[0] for row in conn.execute("EXPLAIN EXECUTE spent('a1', 'EUR', 0, 1)")
        )
        spent = conn.execute(
            "SELECT agent_spent('a1', 'EUR', %s, %s)", (-(2**62), 2**62)
        ).fetchone()
    assert "grants_agent_own" in plan, plan
    assert (200,) == spent
