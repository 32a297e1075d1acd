"""The shipped conformance suite, run against the three bundled stores.

PostgreSQL: the checks run when ``CXRECOVERY_PG_DSN`` names a server (each test class
instance gets its own schema, dropped afterwards); without it they are skipped, unless
``CXRECOVERY_REQUIRE_POSTGRES`` is set (as ``.ci/run`` does), where they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from cxrecovery.ledger import Ledger, MemoryLedger, PostgresLedger, SQLiteLedger
from cxrecovery.testing.ledger import LedgerContract

PG_DSN = os.environ.get("CXRECOVERY_PG_DSN", "")
REQUIRE_PG = bool(os.environ.get("CXRECOVERY_REQUIRE_POSTGRES"))


def pg_dsn() -> str:
    """The test server's DSN; skip (or, in CI, fail) without one."""
    if not PG_DSN:
        if REQUIRE_PG:
            pytest.fail("CXRECOVERY_REQUIRE_POSTGRES is set but CXRECOVERY_PG_DSN is not")
        pytest.skip("set CXRECOVERY_PG_DSN to a PostgreSQL server to run these")
    return PG_DSN


def drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class TestMemoryLedger(LedgerContract):
    def make_ledger(self, clock: Callable[[], datetime]) -> Ledger:
        return MemoryLedger(clock=clock)


class TestSQLiteLedger(LedgerContract):
    crash_rounds = 6

    def make_ledger(self, clock: Callable[[], datetime]) -> Ledger:
        return SQLiteLedger(Path(self.tmp) / "ledger.db", clock=clock)

    def ledger_opener(self, clock: Callable[[], datetime]) -> Callable[[], Ledger]:
        return functools.partial(SQLiteLedger, Path(self.tmp) / "ledger.db", clock=clock)


class TestPostgresLedger(LedgerContract):
    schema: str

    def make_ledger(self, clock: Callable[[], datetime]) -> Ledger:
        self.schema = f"contract_{uuid.uuid4().hex[:12]}"
        return PostgresLedger(pg_dsn(), schema=self.schema, clock=clock)

    def ledger_opener(self, clock: Callable[[], datetime]) -> Callable[[], Ledger]:
        return functools.partial(PostgresLedger, pg_dsn(), schema=self.schema, clock=clock)

    def teardown_method(self, method: object = None) -> None:
        super().teardown_method(method)
        drop_schema(PG_DSN, self.schema)


# The multi-process and crash checks take seconds each: slow, and run in CI all the same.
for _store in (TestSQLiteLedger, TestPostgresLedger):
    for _name in (
        "test_concurrent_processes_keep_every_limit_exact",
        "test_a_killed_writer_loses_no_returned_grant_and_leaves_no_half",
    ):
        _check = getattr(LedgerContract, _name)

        def _slow(self: LedgerContract, _check: Callable[[LedgerContract], None] = _check) -> None:
            _check(self)

        setattr(_store, _name, pytest.mark.slow(_slow))
