"""The errors the ledger and the desk raise, each under :class:`~cxrecovery.CxRecoveryError`."""

from __future__ import annotations

from collections.abc import Iterable

from cxrecovery.errors import CxRecoveryError, InvalidValueError, Problem
from cxrecovery.money import Money
from cxrecovery.plan import Authorization, LimitCheck

__all__ = [
    "ApprovalError",
    "LedgerBusyError",
    "LedgerError",
    "LedgerFormatError",
    "LimitExceededError",
    "RequestConflictError",
]


class LedgerError(InvalidValueError):
    """A ledger or desk call was refused; nothing was written.

    .. versionadded:: 0.1.0
    """


class LedgerFormatError(LedgerError):
    """A database file is not a cxrecovery ledger this version can use.

    Raised for a file that is not SQLite at all, a corrupted one, another application's
    database, or a ledger written by a newer cxrecovery (its schema version is higher
    than the one this version knows). The file is left exactly as it was.

    .. versionadded:: 0.1.0
    """


class LedgerBusyError(CxRecoveryError, TimeoutError):
    """The ledger stayed locked by other writers for longer than the busy timeout.

    Nothing was written; the call may be retried (with the same request id).

    .. versionadded:: 0.1.0
    """


class RequestConflictError(LedgerError):
    """A request id (or a promise or approval id) was reused for a different request.

    A retry with the same id and the same content returns the original record; the same
    id with other content is refused, so a bug in a host's retry loop cannot turn one
    grant into another.

    .. versionadded:: 0.1.0
    """


class ApprovalError(LedgerError):
    """An approval is unknown, refused, still pending, used, or does not fit the grant.

    .. versionadded:: 0.1.0
    """


class LimitExceededError(LedgerError):
    """A grant would break an empowerment limit, checked against the ledger.

    Attributes:
        authorization: the engine's answer, with every limit checked.
        failed: the checks that failed (the first one is named in the message).
        room: for each failed money limit, what was left before this grant (its
            ``rule`` as key: ``roles[front_line].max_per_period``).

    .. versionadded:: 0.1.0
    """

    authorization: Authorization | None
    failed: tuple[LimitCheck, ...]
    room: dict[str, Money]

    def __init__(
        self,
        problems: Iterable[Problem] | str,
        *,
        path: str = "",
        authorization: Authorization | None = None,
        room: dict[str, Money] | None = None,
    ) -> None:
        super().__init__(problems, path=path)
        self.authorization = authorization
        self.failed = tuple(c for c in authorization.checks if not c.ok) if authorization else ()
        self.room = dict(room or {})
