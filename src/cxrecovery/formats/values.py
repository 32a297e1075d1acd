"""Reading the values of a document, each with every problem at its path.

A reader takes the value, *where* it is, and the list of problems found so far; it
returns what it read, or :data:`FAIL` after recording why not. *Where* is a path built
only when a problem needs it: a string, or a ``(where, key)`` pair that
:func:`path_of` writes out (``touchpoints[2].at``). Reading a valid document, the usual
case, so never formats a path.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final, TypeAlias

from cxrecovery._validation import kind_of, suggest
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.formats.durations import parse_duration
from cxrecovery.limits import check_decimal, check_instant
from cxrecovery.money import Money, currencies

__all__ = [
    "FAIL",
    "Fail",
    "Problems",
    "Reader",
    "Where",
    "enum_reader",
    "join",
    "path_of",
    "read_bool",
    "read_datetime",
    "read_decimal",
    "read_int",
    "read_money",
    "read_str",
    "read_timedelta",
    "show",
    "under",
]


class Fail:
    """The marker for a value that could not be read (its problems are recorded)."""


FAIL: Final = Fail()

# A path into the document, written out only when a problem names it.
Where: TypeAlias = "str | tuple[Where, str | int]"
Problems: TypeAlias = list[Problem]
Reader: TypeAlias = Callable[[object, Where, Problems], Any]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def join(path: str, key: str | int) -> str:
    """``path`` extended by a key or an index; an odd key is quoted so the path stays
    readable (``attributes['two words']``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _NAME.match(key):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def path_of(where: Where) -> str:
    """The path ``where`` stands for, written out."""
    if isinstance(where, str):
        return where
    parent, key = where
    return join(path_of(parent), key)


def under(error: InvalidValueError, where: Where, problems: Problems) -> Fail:
    """Record the problems of ``error`` (raised by a constructor) under ``where``."""
    path = path_of(where)
    problems.extend(p.under(path) for p in error.problems)
    return FAIL


class _ShortRepr(reprlib.Repr):
    """``repr`` that stays short and safe for any value a host passes: nesting a
    thousand deep, a 5,000-digit integer (whose ``repr`` Python refuses)."""

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 200:
            return f"<a whole number of {int(x.bit_length() * 0.30103)}+ digits>"
        return super().repr_int(x, level)


_SHORT: Final = _ShortRepr()
_SHORT.maxlevel = 3
_SHORT.maxstring = 58
_SHORT.maxother = 58


def show(value: object) -> str:
    """A short ``repr`` of a document value for a message (at most 60 characters)."""
    try:
        text = _SHORT.repr(value)
    except Exception:  # a host's object whose repr fails: name its type instead
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: Where, message: str, problems: Problems) -> Fail:
    problems.append(Problem(path_of(where), message))
    return FAIL


# --- scalars -----------------------------------------------------------------------------


def read_str(value: object, where: Where, problems: Problems) -> object:
    if isinstance(value, str):
        return value
    return _fail(where, f"expected a string, got {kind_of(value)} {show(value)}", problems)


def read_bool(value: object, where: Where, problems: Problems) -> object:
    if isinstance(value, bool):
        return value
    return _fail(where, f"expected true or false, got {kind_of(value)} {show(value)}", problems)


def read_int(value: object, where: Where, problems: Problems) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _fail(where, f"expected a whole number, got {kind_of(value)} {show(value)}", problems)


def read_decimal(value: object, where: Where, problems: Problems) -> object:
    if isinstance(value, float):
        message = f"{value!r} is a float; give decimals as strings such as '0.25'"
        return _fail(where, message, problems)
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            return _fail(where, f"{show(value)} is not a decimal number", problems)
    else:
        return _fail(where, f"expected a decimal string, got {kind_of(value)}", problems)
    if not result.is_finite():
        return _fail(where, f"{show(value)} is not a finite number", problems)
    try:
        check_decimal(result, "")
    except InvalidValueError as error:
        return under(error, where, problems)
    return result


_fromisoformat: Final = datetime.fromisoformat


def read_datetime(value: object, where: Where, problems: Problems) -> object:
    if not isinstance(value, str):
        message = f"expected an ISO 8601 time string, got {kind_of(value)} {show(value)}"
        return _fail(where, message, problems)
    try:
        result = _fromisoformat(value)
    except ValueError:
        return _fail(where, f"{show(value)} is not an ISO 8601 time", problems)
    if result.tzinfo is None:
        return _fail(where, f"naive datetime {show(value)}; give an offset or zone", problems)
    try:
        check_instant(result, "")
    except InvalidValueError as error:
        return under(error, where, problems)
    return result


def read_timedelta(value: object, where: Where, problems: Problems) -> object:
    if not isinstance(value, str):
        message = f"expected an ISO 8601 duration string, got {kind_of(value)}"
        return _fail(where, message, problems)
    try:
        return parse_duration(value)
    except InvalidValueError as error:
        return under(error, where, problems)


def enum_reader(enum: type[Enum]) -> Reader:
    """The reader of a member of ``enum``, given by its value."""
    by_value = {m.value: m for m in enum}
    values = [str(v) for v in by_value]
    names = ", ".join(values)

    def read(value: object, where: Where, problems: Problems) -> object:
        if isinstance(value, str) and value in by_value:
            return by_value[value]
        message = f"{show(value)} is not one of {names}{suggest(value, values)}"
        return _fail(where, message, problems)

    return read


# --- money -------------------------------------------------------------------------------

_CURRENCIES: Final = currencies()
_MONEY_KEYS: Final = frozenset({"amount", "currency"})
_ONLY_MONEY_KEYS: Final = _MONEY_KEYS.issuperset


def read_money(value: object, where: Where, problems: Problems) -> object:
    if type(value) is not dict and not isinstance(value, Mapping):
        message = (
            f'expected money as {{"amount": "12.50", "currency": "EUR"}}, '
            f"got {kind_of(value)} {show(value)}"
        )
        return _fail(where, message, problems)
    if len(value) == 2 and "amount" in value:
        currency = value.get("currency")
        if type(currency) is str and currency in _CURRENCIES:
            # The two fields, the currency known: nothing for the checks below to word.
            try:
                return Money(value["amount"], currency)
            except InvalidValueError as error:
                return under(error, where, problems)
    before = len(problems)
    if not _ONLY_MONEY_KEYS(value):
        for key in value:
            if key not in _MONEY_KEYS:
                message = "unknown field (money has amount and currency)"
                problems.append(Problem(join(path_of(where), str(key)), message))
    if "amount" not in value:
        problems.append(Problem(join(path_of(where), "amount"), "missing (required)"))
    if "currency" not in value:
        problems.append(Problem(join(path_of(where), "currency"), "missing (required)"))
    else:
        currency = value["currency"]
        if not isinstance(currency, str) or currency not in _CURRENCIES:
            hint = suggest(currency, _CURRENCIES)
            message = f"{show(currency)} is not an ISO 4217 currency code{hint}"
            problems.append(Problem(join(path_of(where), "currency"), message))
    if len(problems) > before:
        return FAIL
    try:
        # A JSON number arrives as an exact Decimal (never through a float).
        return Money(value["amount"], value["currency"])
    except InvalidValueError as error:
        return under(error, where, problems)
