"""The errors cxrecovery raises.

Every error derives from :class:`CxRecoveryError`, and each concrete error also derives
from the builtin exception it means (most are :class:`ValueError`), so a host's existing
``except ValueError`` keeps working.  No ``KeyError``, ``TypeError`` or
``AttributeError`` escapes from bad input: each problem is named with the place it was
found (a field, or a path into a document) and the offending value.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "CalendarError",
    "CurrencyMismatchError",
    "CxRecoveryError",
    "DocumentError",
    "InvalidValueError",
    "MoneyError",
    "PolicyError",
    "Problem",
    "TransitionError",
    "UnknownNameError",
    "UnknownTimeZoneError",
]


class CxRecoveryError(Exception):
    """The root of every error cxrecovery raises.

    .. versionadded:: 0.1.0
    """


@attrs.frozen
class Problem:
    """One problem found in a document or a value: where it is and what is wrong.

    ``path`` is a dotted path into the document (``touchpoints[2].at``); an empty path
    means the document as a whole.

    .. versionadded:: 0.1.0
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def under(self, prefix: str) -> Problem:
        """Return this problem with ``prefix`` put in front of its path."""
        if not prefix:
            return self
        if not self.path:
            return Problem(prefix, self.message)
        joiner = "" if self.path.startswith("[") else "."
        return Problem(f"{prefix}{joiner}{self.path}", self.message)


class InvalidValueError(CxRecoveryError, ValueError):
    """A value does not fit where it was given.

    Carries every :class:`Problem` found, so that a caller fixing its input sees all of
    them at once instead of one per attempt.

    .. versionadded:: 0.1.0
    """

    problems: tuple[Problem, ...]

    def __init__(self, problems: Iterable[Problem] | str, *, path: str = "") -> None:
        if isinstance(problems, str):
            problems = (Problem(path, problems),)
        self.problems = tuple(problems)
        super().__init__(_render(self.problems))

    @classmethod
    def at(cls, path: str, message: str) -> InvalidValueError:
        """Build the error for a single problem at ``path``."""
        return cls((Problem(path, message),))

    def under(self, prefix: str) -> InvalidValueError:
        """Return the same kind of error with ``prefix`` put in front of every path."""
        return type(self)(p.under(prefix) for p in self.problems)


def _render(problems: tuple[Problem, ...]) -> str:
    if len(problems) == 1:
        return str(problems[0])
    lines = [f"{len(problems)} problems:"]
    lines.extend(f"  {p}" for p in problems)
    return "\n".join(lines)


class DocumentError(InvalidValueError):
    """A document (a case, a plan, a policy) could not be read.

    Raised once per document with every problem in it, each with its path:
    ``touchpoints[2].at: naive datetime '2026-01-05T10:00'; give an offset or zone``.

    .. versionadded:: 0.1.0
    """


class MoneyError(InvalidValueError):
    """An amount of money is malformed (a float, not a number, too precise…).

    .. versionadded:: 0.1.0
    """


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies were combined or compared.

    .. versionadded:: 0.1.0
    """


class CalendarError(InvalidValueError):
    """A business calendar, a clock or a business-time argument is malformed.

    .. versionadded:: 0.1.0
    """


class UnknownTimeZoneError(CalendarError):
    """A time zone name is not in the IANA database available to ``zoneinfo``.

    .. versionadded:: 0.1.0
    """


class PolicyError(InvalidValueError):
    """A policy document or a policy part (a decision table, a ladder…) is malformed.

    Lists every problem at once, each with its path:
    ``compensation[3].when.severity: 'hgih' is not one of low, medium, high, critical``.

    .. versionadded:: 0.1.0
    """


class TransitionError(InvalidValueError):
    """A change to a case is impossible (settling a promise twice, a touchpoint before
    the case opened, a move on a closed case).

    .. versionadded:: 0.1.0
    """


class UnknownNameError(CxRecoveryError, KeyError):
    """A lookup by name found nothing: an action kind or a clock a plan does not know.

    The message names what was asked for, what there is, and the likely typo:
    ``'compensation' is not an action kind (apologize, remedy, compensate, …); did you
    mean 'compensate'?``. A ``KeyError``, so ``except KeyError`` keeps working.

    .. versionadded:: 0.2.0
    """

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of its argument, quotes and all.
        return str(self.args[0]) if self.args else ""
