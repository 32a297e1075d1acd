"""The embedded ledger: one SQLite file in WAL mode, shared by threads and processes."""

from __future__ import annotations

import os
import pathlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Final

from cxrecovery.ledger._errors import LedgerError, LedgerFormatError
from cxrecovery.ledger._migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from cxrecovery.ledger._sqlite_session import Session, View, damaged, translate
from cxrecovery.ledger._support import clock_arg

__all__ = ["SQLiteLedger"]

_HEADER: Final = b"SQLite format 3\x00"


class SQLiteLedger:
    """A :class:`Ledger` in one SQLite file, safe to share among threads and processes.

    The file is in WAL mode (readers never wait for the writer); every write session is
    one ``BEGIN IMMEDIATE`` transaction, so writers take turns at the start of the
    session and a limit checked inside it still holds when the grant is committed.
    ``synchronous=FULL``: once a session has ended, its writes survive a crash of the
    process or of the machine.

    Each thread gets its own connection, opened on first use.

    Args:
        path: the database file; created (with the schema) if it does not exist.
        timeout: how long, in seconds, a writer waits for the others before giving up
            with :class:`LedgerBusyError`.
        verify: run SQLite's ``quick_check`` over the whole file on opening.
        clock: the store's clock (:meth:`LedgerSession.now`); the host's wall clock in
            UTC if not given.

    Raises:
        LedgerFormatError: the file is not SQLite, is corrupted, belongs to another
            application, or was written by a newer cxrecovery. The file is not touched.
        LedgerError: the file cannot be opened or created.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``clock``; an existing file is identified through a
       read-only connection before anything may write to it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        verify: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise LedgerError.at("path", f"{path!r:.60} is not a file path")
        self.path = os.fspath(path)
        self._timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._clock = clock_arg(clock)
        if self._refuse_foreign_file():
            self._probe(verify=verify)
        try:
            self._open_schema(self._connection(), verify=verify)
        except BaseException:
            self.close()
            raise

    def _refuse_foreign_file(self) -> bool:
        """Refuse a file that is not SQLite before SQLite opens (and perhaps writes) it.

        Returns whether the file exists with content (and needs :meth:`_probe`).
        """
        if os.path.isdir(self.path):
            raise LedgerError.at("path", f"{self.path!r} is a directory")
        try:
            with open(self.path, "rb") as file:
                header = file.read(len(_HEADER))
        except FileNotFoundError:
            return False
        except OSError as error:
            raise LedgerError.at("path", f"{self.path!r} cannot be read: {error}") from None
        if header and header != _HEADER:
            raise LedgerFormatError.at("path", f"{self.path!r} is not an SQLite database")
        return bool(header)

    def _probe(self, *, verify: bool) -> None:
        """Identify (and with ``verify`` check) an existing file read-only.

        A read-write connection would recover the file's ``-wal`` into the main file and
        delete it when it closes, even if the file is then refused; a read-only one
        reads the ``-wal`` without touching either (SQLite may create the ``-shm``
        index beside them, which holds no data).
        """
        uri = f"{pathlib.Path(os.path.abspath(self.path)).as_uri()}?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        try:
            self._identify(conn)
            if verify:
                self._quick_check(conn)
        except sqlite3.OperationalError as error:
            raise translate(error, self.path) from None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            raise damaged(self.path, "the schema", error) from None
        finally:
            conn.close()

    def _quick_check(self, conn: sqlite3.Connection) -> None:
        problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise LedgerFormatError.at(
                "path", f"{self.path!r} is corrupted: {'; '.join(problems[:3])}"
            )

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise LedgerError.at("ledger", f"{self.path}: this ledger is closed")
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as error:
            conn.close()
            raise translate(error, self.path) from None
        except UnicodeDecodeError as error:
            conn.close()
            raise damaged(self.path, "the schema", error) from None
        self._local.conn = conn
        with self._guard:
            self._connections.append(conn)
        return conn

    def _open_schema(self, conn: sqlite3.Connection, *, verify: bool) -> None:
        try:
            if self._identify(conn) is None:
                # A new, empty file: WAL first (it cannot change inside a transaction).
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._identify(conn)
                for step in MIGRATIONS[version or 0 :]:
                    for statement in step:
                        if callable(statement):
                            statement(conn)
                        else:
                            conn.execute(statement)
                if (version or 0) < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        except UnicodeDecodeError as error:
            raise damaged(self.path, "the schema", error) from None

    def _identify(self, conn: sqlite3.Connection) -> int | None:
        """The file's schema version; ``None`` for a new file; refuse any other file."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise LedgerFormatError.at(
                    "path",
                    f"{self.path!r} has ledger schema version {version}, newer than this"
                    f" cxrecovery knows ({SCHEMA_VERSION}); upgrade cxrecovery",
                )
            return int(version)
        objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and version == 0 and objects == 0:
            return None
        raise LedgerFormatError.at(
            "path",
            f"{self.path!r} is an SQLite database of another application"
            f" (application_id {app_id:#x}, {objects} schema objects), not a cxrecovery ledger",
        )

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        row = self._connection().execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @contextmanager
    def read(self) -> Iterator[View]:
        conn = self._connection()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        try:
            yield View(conn, self.path)
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        finally:
            conn.execute("ROLLBACK")

    @contextmanager
    def write(self) -> Iterator[Session]:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        try:
            yield Session(conn, self.path, self._clock)
            conn.execute("COMMIT")
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise translate(error, self.path) from None
            raise

    def close(self) -> None:
        """Close every thread's connection (call it once no session is open)."""
        self._closed = True
        with self._guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
