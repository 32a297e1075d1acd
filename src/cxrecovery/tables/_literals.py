"""The literals of the cell grammar: parsing one value, writing it back, and messages.

A literal is one value a cell or an output holds (``true``, ``3``, ``'0.25'``,
``high``), read from text written in a cell or from a native TOML/JSON value, and
bounded to what a document may hold (:mod:`cxrecovery.limits`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final, TypeAlias, TypeVar

from cxrecovery._validation import suggest
from cxrecovery.errors import InvalidValueError
from cxrecovery.limits import MAX_DIGITS, check_decimal, check_integer
from cxrecovery.tables.vocabulary import (
    _BOOLEAN,
    _DECIMAL,
    _ENUM,
    _INTEGER,
    _ORDINAL,
    _STRING,
    FactKind,
)

__all__ = [
    "CellError",
    "Scalar",
    "allowed",
    "float_message",
    "literal_text",
    "parse_native",
    "parse_text_literal",
    "show",
    "split",
]

Scalar: TypeAlias = bool | int | Decimal | str
"""A value a cell or an output holds: booleans, integers, decimals and strings."""

_INTEGER_TEXT: Final = re.compile(r"[+-]?\d+\Z")
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_SPECIAL: Final = re.compile(
    r'[,"\\]|\.\.|\A(?:[<>=!\[(]|not(?:[\s"\[(]|\Z)|-\Z|any\Z)|\A\s|\s\Z|\A\Z'
)


class CellError(Exception):
    """A cell or a value does not parse; the message says why (internal)."""


def float_message(value: float) -> str:
    """The message for a float given where an exact number is needed."""
    return f"{value!r} is a float, which is not exact: give decimals as strings, e.g. '0.25'"


def show(value: object) -> str:
    """A value as a policy document writes it (``true``, ``3``, ``'high'``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"'{value}'"
    return repr(value)


def allowed(values: tuple[str, ...]) -> str:
    """The allowed values, listed for a message."""
    return ", ".join(values)


def literal_text(value: Scalar) -> str:
    """A value as it is written inside a cell, quoted when the grammar needs it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if _SPECIAL.search(value):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return value


def parse_text_literal(kind: FactKind, values: tuple[str, ...], text: str) -> Scalar:
    """Parse one literal written in a cell (or in an output) for a column of ``kind``."""
    if kind is _STRING:
        return text
    if kind is _BOOLEAN:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise CellError(f"{text!r} is not true or false")
    if kind is _INTEGER:
        if _INTEGER_TEXT.match(text):
            if len(text) > MAX_DIGITS + 1:  # the sign, then at most MAX_DIGITS digits
                raise CellError(f"{_short(text)} has more than {MAX_DIGITS} digits")
            return _bounded(int(text))
        raise CellError(f"{_short(text)} is not an integer")
    if kind is _DECIMAL:
        if _DECIMAL_TEXT.match(text):
            return _bounded(Decimal(text))
        raise CellError(f"{_short(text)} is not a decimal number (write it like '0.25')")
    if kind is _ENUM or kind is _ORDINAL:
        if text in values:
            return text
        raise CellError(f"{text!r} is not one of {allowed(values)}{suggest(text, values)}")
    return text


def parse_native(kind: FactKind, values: tuple[str, ...], item: object) -> Scalar:
    """Parse one native value (TOML/JSON boolean, integer, string; a Decimal from code)."""
    if item.__class__ is str:  # the usual value (a str is no float, bool, int, Decimal)
        return parse_text_literal(kind, values, item)
    if isinstance(item, float):
        raise CellError(float_message(item))
    if isinstance(item, bool):
        if kind is _BOOLEAN:
            return item
        raise CellError(f"{show(item)} is not {_a(kind, values)}")
    if isinstance(item, int):
        if kind is _INTEGER:
            return _bounded(item)
        if kind is _DECIMAL:
            return _bounded(Decimal(_bounded(item)))
        raise CellError(f"{item!r} is not {_a(kind, values)}")
    if isinstance(item, Decimal):
        if kind is _DECIMAL and item.is_finite():
            return _bounded(item)
        raise CellError(f"{item!r} is not {_a(kind, values)}")
    if isinstance(item, str):
        return parse_text_literal(kind, values, item)
    raise CellError(f"{item!r} is not {_a(kind, values)}")


_N = TypeVar("_N", int, Decimal)


def _bounded(number: _N) -> _N:
    """``number`` if a document may hold it (:mod:`cxrecovery.limits`), else a CellError."""
    try:
        if isinstance(number, Decimal):
            check_decimal(number, "")
        else:
            check_integer(number, "")
    except InvalidValueError as error:
        raise CellError(error.problems[0].message) from None
    return number


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _a(kind: FactKind, values: tuple[str, ...]) -> str:
    if values:
        return f"one of {allowed(values)}"
    return {
        FactKind.BOOLEAN: "true or false",
        FactKind.INTEGER: "an integer",
        FactKind.DECIMAL: "a decimal (written as a string, e.g. '0.25')",
    }.get(kind, "a string")


def split(text: str, separator: str) -> list[tuple[str, bool]]:
    """Split ``text`` at ``separator`` outside double quotes: (item, was quoted) pairs."""
    if '"' not in text:
        # Nothing quoted (most cells): each item is what lies between two separators,
        # stripped, as the walk below finds it.
        return [(item.strip(), False) for item in text.split(separator)]
    return _split_quoted(text, separator)


def _split_quoted(text: str, separator: str) -> list[tuple[str, bool]]:
    """:func:`split`, walking ``text`` a character at a time (quotes and escapes)."""
    items: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == '"':
            chars: list[str] = []
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise CellError(f"{text!r} has an unclosed quote")
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i < n and not text.startswith(separator, i):
                raise CellError(f"{text!r} has text after a quoted value")
            items.append(("".join(chars), True))
        else:
            end = text.find(separator, i)
            end = n if end < 0 else end
            if '"' in text[i:end]:
                raise CellError(f"{text!r} has a quote inside a value; quote the whole value")
            items.append((text[i:end].strip(), False))
            i = end
        if i >= n:
            return items
        i += len(separator)
