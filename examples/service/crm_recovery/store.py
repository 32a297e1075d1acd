"""The service's own little store: each ticket's latest case and its next review time.

The ledger keeps what was granted, promised and approved; the CRM keeps its tickets.
This store only remembers, per case, the case document last received and when its plan
said to look again, so the sweep can find the cases that are due. Replace it with a
column on your ticket table.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import cxrecovery as cx


class CaseStore:
    """Case documents and next-review times in SQLite (one file, safe across threads)."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS cases ("
                " id TEXT PRIMARY KEY, document TEXT NOT NULL,"
                " next_review_us INTEGER, next_review_at TEXT)"
            )

    def put(self, case: cx.Case, next_review_at: datetime | None) -> None:
        document = json.dumps(cx.dump(case), ensure_ascii=False)
        # Stored as microseconds since the epoch, so that "due" compares instants, not
        # the text of times written in different zones.
        us = None if next_review_at is None else _us(next_review_at)
        text = None if next_review_at is None else next_review_at.isoformat()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO cases VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " document = excluded.document, next_review_us = excluded.next_review_us,"
                " next_review_at = excluded.next_review_at",
                (case.id, document, us, text),
            )

    def get(self, case_id: str) -> cx.Case | None:
        with self._lock:
            row = self._db.execute(
                "SELECT document FROM cases WHERE id = ?", (case_id,)
            ).fetchone()
        return None if row is None else cx.load_case(json.loads(row[0]))

    def due(self, now: datetime) -> list[cx.Case]:
        """The cases whose next review time has come, earliest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT document FROM cases WHERE next_review_us <= ? ORDER BY next_review_us",
                (_us(now),),
            ).fetchall()
        return [cx.load_case(json.loads(document)) for (document,) in rows]

    def close(self) -> None:
        self._db.close()


def _us(at: datetime) -> int:
    delta = at - datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
