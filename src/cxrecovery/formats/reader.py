"""Reading policy documents: small parsers that record problems with their paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from cxrecovery._validation import kind_of, suggest
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.formats.durations import parse_duration
from cxrecovery.limits import MAX_RATIO, check_decimal, key_path
from cxrecovery.money import Money

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


class Missing:
    """A value that could not be read; its problem is already recorded."""


MISSING = Missing()


def join(path: str, key: str | int) -> str:
    """Extend a document path by a key or an index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return key_path(path, key)


class Reader:
    """Collects every problem found while reading one policy document."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> Missing:
        self.problems.append(Problem(path, message))
        return MISSING

    def absorb(self, error: InvalidValueError, path: str) -> Missing:
        self.problems.extend(p.under(path) for p in error.problems)
        return MISSING

    # --- structure ---------------------------------------------------------------------

    def mapping(
        self, value: object, path: str, keys: Iterable[str] | None = None
    ) -> Mapping[str, Any]:
        """A mapping; with ``keys``, unknown keys are problems (typos must not pass)."""
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a table of keys, got {_kind(value)}")
            return {}
        if keys is not None:
            allowed = list(keys)
            for key in value:
                if key not in allowed:
                    hint = suggest(key, allowed)
                    self.fail(join(path, str(key)), f"unknown key{hint}")
        return value

    def items(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list | tuple):
            self.fail(path, f"expected a list, got {_kind(value)}")
            return []
        return list(value)

    def field(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        parse: Callable[[object, str], Any],
        default: object = MISSING,
    ) -> Any:
        """Read ``data[key]`` with ``parse``; a missing required key is a problem."""
        where = join(path, key)
        if key not in data:
            if isinstance(default, Missing):
                return self.fail(where, "missing (required)")
            return default
        return parse(data[key], where)

    # --- values ------------------------------------------------------------------------

    def text(self, value: object, path: str) -> str | Missing:
        if isinstance(value, str):
            return value
        return self.fail(path, f"expected a string, got {_kind(value)} {value!r}")

    def name(self, value: object, path: str) -> str | Missing:
        import re

        if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value):
            return value
        return self.fail(path, f"{value!r} is not a lower-case name such as 'front_line'")

    def integer(self, value: object, path: str) -> int | Missing:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return self.fail(path, f"expected a whole number, got {_kind(value)} {value!r}")

    def boolean(self, value: object, path: str) -> bool | Missing:
        if isinstance(value, bool):
            return value
        return self.fail(path, f"expected true or false, got {_kind(value)} {value!r}")

    def decimal(self, value: object, path: str) -> Decimal | Missing:
        if isinstance(value, float):
            return self.fail(path, f"{value!r} is a float; write decimals as strings ('0.25')")
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            return self.fail(path, f"expected a decimal string, got {_kind(value)} {value!r}")
        try:
            result = Decimal(value)
        except InvalidOperation:
            return self.fail(path, f"{_show(value)} is not a decimal number")
        if not result.is_finite():
            return self.fail(path, f"{_show(value)} is not a finite number")
        try:
            check_decimal(result, path)
        except InvalidValueError as error:
            return self.absorb(error, "")
        return result

    def ratio(self, value: object, path: str) -> Decimal | Missing:
        result = self.decimal(value, path)
        if isinstance(result, Decimal) and result < 0:
            return self.fail(path, f"{value!r} is negative; give a share such as '0.25'")
        if isinstance(result, Decimal) and result > MAX_RATIO:
            return self.fail(path, f"{_show(value)} is above {MAX_RATIO}, the largest ratio")
        return result

    def duration(self, value: object, path: str) -> timedelta | Missing:
        if not isinstance(value, str):
            return self.fail(path, f"expected an ISO 8601 duration such as 'PT4H', got {value!r}")
        try:
            result = parse_duration(value)
        except InvalidValueError as error:
            return self.absorb(error, path)
        if result < timedelta(0):
            return self.fail(path, f"{value!r} is negative")
        return result

    def money_map(self, value: object, path: str) -> dict[str, Money] | Missing:
        """``{EUR = "25.00", GBP = "20.00"}``: one limit per currency."""
        data = self.mapping(value, path)
        result: dict[str, Money] = {}
        ok = isinstance(value, Mapping)
        for currency, amount in data.items():
            where = join(path, str(currency))
            if isinstance(amount, float):
                self.fail(where, f"{amount!r} is a float; write amounts as strings ('25.00')")
                ok = False
                continue
            try:
                money = Money(amount, currency)
            except InvalidValueError as error:
                for p in error.problems:
                    self.fail(where, p.message)
                ok = False
                continue
            if money.amount < 0:
                self.fail(where, f"{money} is negative")
                ok = False
                continue
            result[currency] = money
        return result if ok else MISSING

    def member(self, enum: type[E]) -> Callable[[object, str], E | Missing]:
        values = [str(m.value) for m in enum]

        def parse(value: object, path: str) -> E | Missing:
            for m in enum:
                if m.value == value:
                    return m
            hint = suggest(value, values)
            return self.fail(path, f"{value!r} is not one of {', '.join(values)}{hint}")

        return parse

    def listed(
        self, parse: Callable[[object, str], T | Missing]
    ) -> Callable[[object, str], tuple[T, ...] | Missing]:
        def read(value: object, path: str) -> tuple[T, ...] | Missing:
            if not isinstance(value, list | tuple):
                return self.fail(path, f"expected a list, got {_kind(value)}")
            out = [parse(item, join(path, i)) for i, item in enumerate(value)]
            if any(isinstance(item, Missing) for item in out):
                return MISSING
            return tuple(out)  # type: ignore[arg-type]

        return read


def _show(value: object) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return "a whole number of more than 19 digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    return kind_of(value, mapping="a table", null="nothing")
