"""The ledger: what was granted, promised and approved, kept beside the pure engine.

A :class:`Desk` joins an :class:`~cxrecovery.Engine` and a :class:`Ledger`: it feeds
the engine the facts only a ledger knows (an agent's spend in their period, a
customer's goodwill in the window, earlier cases) and re-checks every limit inside the
transaction that records a grant. :class:`SQLiteLedger` is the embedded store,
:class:`PostgresLedger` the one many hosts share, :class:`MemoryLedger` the one for
tests; a host may implement :class:`Ledger` on its own database (see
``docs/ledger.md``). :func:`verify` checks the hash chain over any store's events.
"""

from cxrecovery.ledger._chain import ChainReport, verify
from cxrecovery.ledger._desk import Desk
from cxrecovery.ledger._errors import (
    ApprovalError,
    LedgerBusyError,
    LedgerError,
    LedgerFormatError,
    LimitExceededError,
    RequestConflictError,
)
from cxrecovery.ledger._memory import MemoryLedger
from cxrecovery.ledger._migrations import SCHEMA_VERSION
from cxrecovery.ledger._postgres import PostgresLedger
from cxrecovery.ledger._protocol import GrantReads, Ledger, LedgerSession, LedgerView
from cxrecovery.ledger._records import (
    ApprovalRecord,
    ApprovalStatus,
    CaseRecord,
    EventKind,
    GrantRecord,
    LedgerEvent,
    PlanRecord,
    PromiseRecord,
)
from cxrecovery.ledger._sqlite import SQLiteLedger

__all__ = [
    "SCHEMA_VERSION",
    "ApprovalError",
    "ApprovalRecord",
    "ApprovalStatus",
    "CaseRecord",
    "ChainReport",
    "Desk",
    "EventKind",
    "GrantReads",
    "GrantRecord",
    "Ledger",
    "LedgerBusyError",
    "LedgerError",
    "LedgerEvent",
    "LedgerFormatError",
    "LedgerSession",
    "LedgerView",
    "LimitExceededError",
    "MemoryLedger",
    "PlanRecord",
    "PostgresLedger",
    "PromiseRecord",
    "RequestConflictError",
    "SQLiteLedger",
    "verify",
]
