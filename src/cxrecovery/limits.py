"""How much of a document cxrecovery reads, and the ranges of values it handles.

A host reads case documents from customers' channels and policies written by its staff,
and one bad document must not take its process down, pin a CPU or read a file. Two
kinds of bound keep the work small:

- :class:`Limits`: how *much* is read (bytes, nesting, items). Each has a
  safe default and a host may raise it, by passing its own ``Limits`` to
  :func:`~cxrecovery.load_case`, :func:`~cxrecovery.load_policy` or
  :func:`~cxrecovery.check_policy`. It is a frozen value
  passed explicitly: no global setting to change under another thread's feet.
- The ranges below: which *values* the library handles at all (instants, durations,
  numbers). They are part of the document formats, the same for every host, and never
  raised: every computation inside stays well within what ``datetime`` and ``Decimal``
  represent, whatever the document says.

``docs/limits.md`` lists each bound, its default and what a host must still do itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import attrs

from cxrecovery.errors import InvalidValueError, Problem

__all__ = [
    "EARLIEST",
    "LATEST",
    "LONGEST",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_RATIO",
    "SUPPORTED_TABLE_ROWS",
    "Limits",
    "check_decimal",
    "check_duration",
    "check_instant",
    "check_integer",
    "document_problems",
    "key_path",
    "read_document_file",
    "table_problems",
    "too_big",
]

#: The earliest instant the library handles (inclusive).
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
#: The first instant past the range the library handles (exclusive): years 1900 to
#: 2199. Nobody files a service case about 1850, and a business calendar walked over
#: centuries is work no request should be able to ask for.
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
#: The longest duration in a document: ten years (3,653 days) is far beyond any target,
#: window or wait, keeps an instant plus a duration inside the years handled (with room),
#: and bounds the business time a calendar is ever walked over.
LONGEST: Final = timedelta(days=3653)
#: The most significant digits of a number in a document: 18-digit money with room.
MAX_DIGITS: Final = 24
#: The largest exponent, either way, of a number in a document (``1E+20``, ``1E-20``):
#: a decimal context is never asked for a ten-to-the-billion, and any number read,
#: written to the cent, fits the 28 digits of Python's default decimal context.
MAX_EXPONENT: Final = 20
#: The largest ratio (a share of the value at stake, a margin, a fraction): ten times.
#: A hard cap of 1.5 is the evidence's ceiling; ten leaves room and keeps every product
#: of a ratio and an amount or a duration in range.
MAX_RATIO: Final = Decimal(10)

_MiB: Final = 1024 * 1024

#: The most rows a decision table is supported with: compiling a table costs time and
#: memory that grow with the square of its rows (about 3 s of CPU for 2,000 rows of
#: three integer inputs, 20 s for 10,000), so past this the linter warns.
SUPPORTED_TABLE_ROWS: Final = 2_000


def _positive(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a whole number above 0")


@attrs.frozen(kw_only=True)
class Limits:
    """How much of a document cxrecovery reads before it refuses it.

    Each bound has a safe default; a host that needs more passes its own, for instance
    ``load_policy(path, limits=Limits(max_items=5_000_000))``. Every refusal is a
    :class:`~cxrecovery.CxRecoveryError` naming the place and the limit's name.

    Args:
        max_document_bytes: the size of one document (a case, a policy file, one line
            of a JSON Lines file), in bytes of UTF-8; no more than this is read from a
            file, a pipe or a device.
        max_depth: how deeply lists and tables may nest in a policy (the case format
            fixes its own depth).
        max_items: the number of values in one policy document, and of items in each
            list of a case (touchpoints, promises, grants, prior cases...).
        max_table_rows: the rows (rules) of one decision table in a policy; the default
            is :data:`SUPPORTED_TABLE_ROWS`, since compiling a table grows with the square
            of its rows.
        max_table_inputs: the inputs (columns) of one decision table in a policy.

    .. versionadded:: 0.2.0
    .. versionchanged:: 0.2.0 ``max_table_rows`` and ``max_table_inputs``.
    """

    max_document_bytes: int = attrs.field(default=8 * _MiB, validator=_positive)
    max_depth: int = attrs.field(default=32, validator=_positive)
    max_items: int = attrs.field(default=1_000_000, validator=_positive)
    max_table_rows: int = attrs.field(default=SUPPORTED_TABLE_ROWS, validator=_positive)
    max_table_inputs: int = attrs.field(default=32, validator=_positive)


def _when(value: datetime) -> str:
    return value.isoformat() if value.tzinfo is not None else repr(value)


def check_instant(value: datetime, path: str) -> None:
    """Refuse an aware ``value`` outside the years the library handles.

    Raises:
        InvalidValueError: at ``path``, naming the range.
    """
    try:
        inside = EARLIEST <= value < LATEST
    except (OverflowError, TypeError):  # pragma: no cover - an aware datetime compares
        inside = False
    if not inside:
        raise InvalidValueError.at(
            path,
            f"'{_when(value)}' is outside the instants cxrecovery handles "
            "(1900-01-01 up to 2200-01-01, UTC)",
        )


def check_duration(value: timedelta, path: str) -> None:
    """Refuse a duration longer, either way, than :data:`LONGEST`.

    Raises:
        InvalidValueError: at ``path``, naming the limit.
    """
    if abs(value) > LONGEST:
        raise InvalidValueError.at(
            path, f"is above the longest duration cxrecovery handles (P{LONGEST.days}D, ten years)"
        )


def check_decimal(value: Decimal, path: str) -> None:
    """Refuse a finite decimal with too many digits or too large an exponent.

    The check reads the number's parts (no arithmetic), so it costs the same for
    ``1E-999999999`` as for ``0.25``.

    Raises:
        InvalidValueError: at ``path``, naming the limit.
    """
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise InvalidValueError.at(path, f"{_short(value)} is not a finite number")
    if len(digits) > MAX_DIGITS:
        raise InvalidValueError.at(
            path, f"{_short(value)} has more than {MAX_DIGITS} significant digits"
        )
    adjusted = exponent + len(digits) - 1
    if digits != (0,) and not -MAX_EXPONENT <= adjusted <= MAX_EXPONENT:
        raise InvalidValueError.at(
            path,
            f"{_short(value)} is out of range: a number in a document lies between "
            f"1E-{MAX_EXPONENT} and 1E+{MAX_EXPONENT}",
        )


_INTEGER_BOUND: Final = 10**MAX_DIGITS


def check_integer(value: int, path: str) -> None:
    """Refuse a whole number of more than :data:`MAX_DIGITS` digits (without writing it out:
    turning a 5,000-digit number into text is itself refused by Python).

    Raises:
        InvalidValueError: at ``path``, naming the limit.
    """
    if not -_INTEGER_BOUND < value < _INTEGER_BOUND:
        raise InvalidValueError.at(
            path, f"a whole number of more than {MAX_DIGITS} digits (about {_magnitude(value)})"
        )


def _magnitude(value: int) -> str:
    return f"10^{int(value.bit_length() * 0.30103)}"


def _short(value: Decimal) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


#: What a policy document may hold: what TOML and JSON make, and Decimal.
_LEAVES: Final = (str, bool, int, float, Decimal, date, time, datetime, type(None))


def document_problems(data: object, limits: Limits, *, what: str = "policy") -> list[Problem]:
    """The first problems of a free-form document's *shape*: nesting, size, numbers, types.

    Walks the document once, without recursion (so a structure nested a million deep
    costs no stack and no ``repr``), and stops at the first problem of size (a second
    would only repeat it). Keys and indexes make the paths, as :class:`Problem` writes
    them.

    Args:
        data: the document, as read from TOML or JSON or given as a mapping.
        limits: the bounds to hold it to.
        what: the document's kind, for messages.
    """
    problems: list[Problem] = []
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    count = 0
    while stack:
        value, path, depth = stack.pop()
        count += 1
        if count > limits.max_items:
            return [
                Problem(
                    "", f"the {what} has more than {limits.max_items} values (Limits.max_items)"
                )
            ]
        if isinstance(value, Mapping):
            children: list[tuple[object, str]] = []
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(
                        Problem(path, f"a key of type {type(key).__name__}; keys are strings")
                    )
                    continue
                children.append((item, key_path(path, key)))
        elif isinstance(value, list | tuple):
            children = [(item, f"{path}[{i}]") for i, item in enumerate(value)]
        else:
            problem = _leaf_problem(value, path, what)
            if problem is not None:
                problems.append(problem)
            continue
        if children and depth + 1 > limits.max_depth:
            return [
                Problem(
                    children[0][1],
                    f"nested more than {limits.max_depth} deep (Limits.max_depth)",
                )
            ]
        stack.extend((item, where, depth + 1) for item, where in reversed(children))
    return problems


def table_problems(data: Mapping[str, Any], limits: Limits) -> list[Problem]:
    """The decision tables of a policy document (``tables.<name>``) with more rows or
    inputs than ``limits`` allow; checked before any table is compiled."""
    tables = data.get("tables")
    if not isinstance(tables, Mapping):
        return []
    problems: list[Problem] = []
    for name, table in tables.items():
        if not isinstance(name, str) or not isinstance(table, Mapping):
            continue  # the policy's own checks name these
        where = key_path("tables", name)
        for key, most, limit in (
            ("rules", limits.max_table_rows, "max_table_rows"),
            ("inputs", limits.max_table_inputs, "max_table_inputs"),
        ):
            value = table.get(key)
            if isinstance(value, list | tuple) and len(value) > most:
                problems.append(
                    Problem(
                        key_path(where, key),
                        f"{len(value)} {key}; a table has at most {most} (Limits.{limit})",
                    )
                )
    return problems


def _leaf_problem(value: object, path: str, what: str) -> Problem | None:
    if not isinstance(value, _LEAVES):
        return Problem(
            path,
            f"a {type(value).__name__}; a {what} holds tables, lists, strings, numbers, "
            "booleans and dates",
        )
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            check_integer(value, path)
        elif isinstance(value, Decimal):
            check_decimal(value, path)
    except InvalidValueError as error:
        return error.problems[0]
    return None


def key_path(path: str, key: str) -> str:
    """``path`` extended by ``key``; the empty key is written ``['']``, so that a problem
    there has a path one can find."""
    if not key:
        return f"{path}['']"
    return f"{path}.{key}" if path else key


def too_big(what: str, limits: Limits) -> str:
    """The message for a document past ``limits.max_document_bytes``."""
    return (
        f"the {what} document is larger than {limits.max_document_bytes} bytes "
        "(Limits.max_document_bytes)"
    )


def read_document_file(
    path: str | os.PathLike[str],
    limits: Limits,
    what: str,
    error: type[InvalidValueError],
) -> str:
    """The UTF-8 text of the file at ``path``, reading no more than
    ``limits.max_document_bytes`` (and one byte to know there is more), so a device such
    as ``/dev/zero`` or an endless pipe costs no more than a large file.

    Raises:
        InvalidValueError: of type ``error``, the file cannot be read, is not UTF-8 or
            is too large.
    """
    where = os.fspath(path)
    if len(where) > 80:  # a path is shown, not a whole document mistaken for one
        where = where[:77] + "..."
    try:
        with open(path, "rb") as stream:
            data = stream.read(limits.max_document_bytes + 1)
    except OSError as problem:
        raise error.at("", f"cannot read {where!r}: {problem.strerror or problem}") from None
    except ValueError as problem:  # a path with a NUL in it
        raise error.at("", f"cannot read {where!r}: {problem}") from None
    if len(data) > limits.max_document_bytes:
        raise error.at("", f"{where!r}: {too_big(what, limits)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise error.at("", f"cannot read {where!r}: {problem}") from None
