"""The SQLite ledger: its file format, and grants under concurrency and crashes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import cxrecovery as cx
from cxrecovery.ledger import (
    SCHEMA_VERSION,
    Desk,
    EventKind,
    LedgerFormatError,
    SQLiteLedger,
    verify,
)
from cxrecovery.ledger._migrations import MIGRATIONS
from ledger_workers import T0, TOLERANCE, clock, crash_worker, grant_attempts, make_case

ENGINE = cx.Engine(cx.default_policy())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled(path: Path) -> None:
    ledger = SQLiteLedger(path, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    for i in range(200):
        desk.grant(
            make_case(f"case-{i}", f"c{i}"),
            cx.Money("1.00", "EUR"),
            "credit",
            at=T0,
            agent=cx.Agent(f"a{i % 7}", "front_line"),
            request_id=f"r{i}",
        )
    ledger.close()


def test_a_new_ledger_is_marked_and_versioned(tmp_path: Path) -> None:
    SQLiteLedger(tmp_path / "l.db", clock=clock).close()
    with sqlite3.connect(tmp_path / "l.db") as conn:
        assert 0x4358524C == conn.execute("PRAGMA application_id").fetchone()[0]
        assert SCHEMA_VERSION == conn.execute("PRAGMA user_version").fetchone()[0]
        assert "wal" == conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()


def test_a_ledger_reopens_with_its_records(tmp_path: Path) -> None:
    filled(tmp_path / "l.db")
    ledger = SQLiteLedger(tmp_path / "l.db", verify=True, clock=clock)
    with ledger.read() as view:
        assert 200 == len(view.grants())
    ledger.close()


def test_history_cannot_be_rewritten(tmp_path: Path) -> None:
    filled(tmp_path / "l.db")
    conn = sqlite3.connect(tmp_path / "l.db")
    with pytest.raises(sqlite3.IntegrityError, match="events is append-only"):
        conn.execute("UPDATE events SET ref = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="grants is append-only"):
        conn.execute("DELETE FROM grants")
    conn.close()


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 50)
    before = digest(path)
    with pytest.raises(LedgerFormatError, match="is not an SQLite database"):
        SQLiteLedger(path, clock=clock)
    assert before == digest(path)


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(LedgerFormatError, match="another application"):
        SQLiteLedger(path, clock=clock)
    assert before == digest(path)
    assert not (tmp_path / "crm.db-wal").exists()


def test_a_ledger_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = digest(path)
    with pytest.raises(LedgerFormatError, match="newer than this cxrecovery knows"):
        SQLiteLedger(path, clock=clock)
    assert before == digest(path)


def test_a_corrupted_ledger_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : 4 * page] = random.Random(1).randbytes(2 * page)
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(LedgerFormatError) as caught:
        SQLiteLedger(path, verify=True, clock=clock)
    assert isinstance(caught.value, cx.CxRecoveryError)
    assert str(path) in str(caught.value)
    assert before == digest(path)


def test_refused_calls_leave_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    filled(path)
    ledger = SQLiteLedger(path, clock=clock)
    desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
    files = [path, tmp_path / "l.db-wal"]
    before = [digest(f) for f in files if f.exists()]
    agent = cx.Agent("a1", "front_line")
    case = make_case("case-1", "c1")
    attempts = [
        lambda: desk.grant(
            case, cx.Money("60.00", "EUR"), "credit", at=T0, agent=agent, request_id="x1"
        ),
        lambda: desk.grant(
            case, cx.Money("1.00", "USD"), "credit", at=T0, agent=agent, request_id="x2"
        ),
        lambda: desk.grant(
            case, cx.Money("2.00", "EUR"), "credit", at=T0, agent=agent, request_id="r1"
        ),
        lambda: desk.approve("nope", at=T0, approver=cx.Agent("s", "supervisor")),
    ]
    for attempt in attempts:
        with pytest.raises(cx.CxRecoveryError):
            attempt()
    assert before == [digest(f) for f in files if f.exists()]
    ledger.close()


# --- concurrency and crashes ----------------------------------------------------------------

PROCESSES = 8
THREADS = 8
ATTEMPTS = 160


@pytest.mark.slow
def test_concurrent_grants_never_exceed_a_limit_and_are_recorded_once(tmp_path: Path) -> None:
    path = str(tmp_path / "l.db")
    shared = SQLiteLedger(path, clock=clock)
    start_at = time.time() + 4.0  # spawned interpreters start in time to race the threads
    results: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def in_thread(n: int) -> None:
        found = grant_attempts(path, f"t{n}", ATTEMPTS, 1000 + n, start_at, shared)
        with lock:
            results.extend(found)

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [
            pool.submit(grant_attempts, path, f"p{n}", ATTEMPTS, n, start_at)
            for n in range(PROCESSES)
        ]
        threads = [threading.Thread(target=in_thread, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for future in futures:
            results.extend(future.result())

    outcomes = Counter(r[0] for r in results)
    assert [] == [r for r in results if r[0] == "error"]
    assert {"True"} == {r[2] for r in results if r[0] == "retried"}
    assert (PROCESSES + THREADS) * ATTEMPTS == outcomes["accepted"] + outcomes["refused"]
    accepted = {r[1]: r for r in results if r[0] == "accepted"}
    refused = {r[1] for r in results if r[0] == "refused"}
    with shared.read() as view:
        rows = view.grants()
        events = Counter(e.ref for e in view.events() if e.kind is EventKind.GRANT_RECORDED)
    shared.close()
    assert sorted(accepted) == sorted(g.request_id for g in rows)
    assert {1} == set(events.values())
    assert set(accepted) == set(events)
    assert set() == refused & set(events)
    per: dict[str, int] = defaultdict(int)
    for g in rows:
        minor = g.amount.minor
        per[f"agent:{g.agent_id}"] += minor
        per[f"customer:{g.customer_id}"] += minor
        per[f"case:{g.case_id}"] += minor
    assert all(v <= 25000 for k, v in per.items() if k.startswith("agent:"))
    assert all(v <= 10000 for k, v in per.items() if k.startswith("customer:"))
    assert all(v <= 5000 for k, v in per.items() if k.startswith("case:"))
    # The limits were reached, not merely respected: both budgets are within one grant.
    assert per["agent:a"] > 25000 - 500
    assert per["customer:c5"] > 10000 - 500


@pytest.mark.slow
def test_a_killed_writer_loses_no_returned_grant_and_leaves_no_half(tmp_path: Path) -> None:
    path = str(tmp_path / "l.db")
    report = tmp_path / "returned.txt"
    SQLiteLedger(path, clock=clock).close()
    rng = random.Random(6)
    context = multiprocessing.get_context("spawn")
    for round_no in range(6):
        worker = context.Process(
            target=crash_worker, args=(path, str(report), f"round{round_no}", round_no)
        )
        worker.start()
        deadline = time.time() + 30
        lines = report.read_text().count("\n") if report.exists() else 0
        while time.time() < deadline:
            now = report.read_text().count("\n") if report.exists() else 0
            if now > lines:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        assert -signal.SIGKILL == worker.exitcode

        ledger = SQLiteLedger(path, verify=True, clock=clock)
        with ledger.read() as view:
            grants = {g.request_id: g for g in view.grants()}
            events = Counter(e.ref for e in view.events() if e.kind is EventKind.GRANT_RECORDED)
            cases_missing = [g for g in grants.values() if view.case(g.case_id) is None]
        ledger.close()
        returned = report.read_text().split()
        assert returned, "the worker returned no grant before it was killed"
        assert set() == set(returned) - set(grants)
        assert set(grants) == set(events)
        assert {1} == set(events.values())
        assert [] == cases_missing


# --- damaged files and other applications' files -----------------------------------------


def _damage(path: Path, find: bytes, offset: int, byte: int) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(find)
    assert at >= 0, f"{find!r} is not in the file"
    data[at + offset] = byte
    path.write_bytes(bytes(data))


def _checkpointed(path: Path) -> None:
    filled(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.mark.parametrize("verify", [False, True])
def test_a_schema_name_that_is_not_utf8_is_a_format_error(tmp_path: Path, verify: bool) -> None:
    path = tmp_path / "l.db"
    _checkpointed(path)
    _damage(path, b"grants_agent", 3, 0xFF)
    before = digest(path)
    with pytest.raises(LedgerFormatError, match=str(path)):
        SQLiteLedger(path, verify=verify, clock=clock)
    assert before == digest(path)


def test_an_event_whose_json_is_damaged_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    _checkpointed(path)
    _damage(path, b'"category":', 10, ord(";"))
    ledger = SQLiteLedger(path, verify=True, clock=clock)
    with ledger.read() as view, pytest.raises(LedgerFormatError, match="events"):
        view.events()
    ledger.close()


def test_a_row_with_a_null_time_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    _checkpointed(path)
    data = bytearray(path.read_bytes())
    # The record of grant r17: an 11-byte header of one-byte serial types before the
    # body, which opens with the request id. at_us (column 9) is an 8-byte integer
    # (type 6); type 0 makes it NULL, as a torn or truncated write can.
    body = data.find(b"r17case-17c17")
    assert body > 0
    header = body - 12
    assert 12 == data[header]
    assert 6 == data[header + 9]
    data[header + 9] = 0
    path.write_bytes(bytes(data))
    ledger = SQLiteLedger(path, clock=clock)
    with ledger.read() as view, pytest.raises(LedgerFormatError, match="grants"):
        view.grant("r17")
    ledger.close()


def test_another_applications_wal_is_refused_without_being_merged(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE customers (id TEXT)")
    conn.execute("INSERT INTO customers VALUES ('x')")
    conn.commit()
    path = tmp_path / "crm.db"
    # A copy taken while the application runs: its last pages still in the -wal.
    path.write_bytes(source.read_bytes())
    wal = tmp_path / "crm.db-wal"
    wal.write_bytes((tmp_path / "source.db-wal").read_bytes())
    conn.close()
    before = (digest(path), digest(wal))
    with pytest.raises(LedgerFormatError, match="another application"):
        SQLiteLedger(path, clock=clock)
    assert wal.exists()
    assert before == (digest(path), digest(wal))


# --- the hash chain -------------------------------------------------------------------------


def _tamper(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute(statement)
    conn.commit()
    conn.close()


def test_verify_finds_the_chain_whole(tmp_path: Path) -> None:
    filled(tmp_path / "l.db")
    ledger = SQLiteLedger(tmp_path / "l.db", clock=clock)
    report = verify(ledger)
    ledger.close()
    assert report.ok
    assert 400 == report.events


@pytest.mark.parametrize(
    ("statement", "broken_at", "reason"),
    [
        ("UPDATE events SET body = replace(body, '1.00', '9.00') WHERE seq = 38", 38, "match"),
        ("DELETE FROM events WHERE seq = 120", 121, "missing"),
        ("UPDATE events SET hash = NULL WHERE seq = 5", 5, "no hash"),
    ],
)
def test_verify_reports_the_first_broken_link(
    tmp_path: Path, statement: str, broken_at: int, reason: str
) -> None:
    path = tmp_path / "l.db"
    filled(path)
    _tamper(path, statement)
    ledger = SQLiteLedger(path, clock=clock)
    report = verify(ledger)
    ledger.close()
    assert not report.ok
    assert broken_at == report.broken_at
    assert reason in report.reason


def test_a_version_1_ledger_is_migrated_and_its_events_chained(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for statement in MIGRATIONS[0]:
        assert isinstance(statement, str)
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO cases VALUES ('case-1', 'c1', 0, 'late_delivery', 'medium')")
    for k in range(3):
        conn.execute(
            "INSERT INTO events (kind, case_id, at_us, ref, body)"
            " VALUES ('case_opened', 'case-1', ?, 'case-1', '{\"n\":1}')",
            (k,),
        )
    conn.close()
    ledger = SQLiteLedger(path, clock=clock)
    assert SCHEMA_VERSION == ledger.schema_version
    report = verify(ledger)
    ledger.close()
    assert report.ok
    assert 3 == report.events
