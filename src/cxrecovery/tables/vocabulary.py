"""The vocabulary of decision tables: kinds of fact, a fact's or output's spec, outputs.

Facts (:mod:`cxrecovery.facts`) describe themselves in these terms, and the tables
compile their cells against them; so the vocabulary sits below both.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from cxrecovery._validation import suggest
from cxrecovery.errors import InvalidValueError

__all__ = ["FactKind", "FactSpec", "FrozenMapping", "OutputSpec", "values_problem"]


class FactKind(enum.StrEnum):
    """The kind of value a fact (a table column) holds.

    ``ORDINAL`` values are ordered low to high as the :class:`FactSpec` lists them, so
    comparisons and ranges apply to them; ``ENUM`` values are unordered.

    .. versionadded:: 0.1.0
    """

    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    ENUM = "enum"
    ORDINAL = "ordinal"
    STRING = "string"


# The kinds, looked up once: reading a member off its enum class is a Python-level
# lookup (some 800 instructions), and the readers test a column's kind by identity for
# every cell and value.
_BOOLEAN: Final = FactKind.BOOLEAN
_INTEGER: Final = FactKind.INTEGER
_DECIMAL: Final = FactKind.DECIMAL
_ENUM: Final = FactKind.ENUM
_ORDINAL: Final = FactKind.ORDINAL
_STRING: Final = FactKind.STRING

_FINITE: Final = frozenset({FactKind.BOOLEAN, FactKind.ENUM, FactKind.ORDINAL})
_NUMERIC: Final = frozenset({FactKind.INTEGER, FactKind.DECIMAL})
_ORDERED: Final = frozenset({FactKind.ORDINAL, FactKind.INTEGER, FactKind.DECIMAL})
_KIND_BY_VALUE: Final = {k.value: k for k in FactKind}


def _to_kind(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, FactKind):
        return _KIND_BY_VALUE.get(value, value)
    return value


def _check_name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value or value != value.strip():
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a non-empty name")


def _check_kind(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, FactKind):
        choices = list(_KIND_BY_VALUE)
        raise InvalidValueError.at(
            attribute.name,
            f"{value!r} is not one of {', '.join(choices)}{suggest(value, choices)}",
        )


def values_problem(kind: FactKind, values: object) -> str | None:
    """Say what is wrong with ``values`` as the allowed values of a ``kind``, if anything."""
    if values.__class__ is tuple and not values:  # no values (most kinds list none)
        return f"an {kind} needs its allowed values" if kind is _ENUM or kind is _ORDINAL else None
    if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
        return f"{values!r} is not a list of strings"
    if kind is _ENUM or kind is _ORDINAL:
        if not values:
            return f"an {kind} needs its allowed values"
        for v in values:
            if not v or v != v.strip():
                return f"{v!r} is empty or has white space around it"
        seen: set[str] = set()
        for v in values:
            if v in seen:
                return f"{v!r} is listed twice"
            seen.add(v)
    elif values:
        return f"only enum and ordinal kinds list values, not {kind}"
    return None


def _check_values(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    problem = values_problem(instance.kind, value)
    if problem:
        raise InvalidValueError.at(attribute.name, problem)


def _to_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class FactSpec:
    """What a table column reads: a fact's name, kind and, for enums and ordinals, values.

    Args:
        name: the fact's name, as the facts mapping spells it.
        kind: the kind of value.
        values: the allowed values of an ``ENUM``, or of an ``ORDINAL`` from low to high
            (``("low", "medium", "high", "critical")``); empty for other kinds.
        description: free text for people.

    Raises:
        InvalidValueError: a malformed name, kind or list of values.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=_check_name)
    kind: FactKind = attrs.field(converter=_to_kind, validator=_check_kind)
    values: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple, validator=_check_values)
    description: str = attrs.field(default="", kw_only=True)

    def rank(self, value: str) -> int:
        """The position of an ordinal or enum ``value`` in :attr:`values`."""
        return self.values.index(value)


@attrs.frozen
class OutputSpec:
    """An output column of a decision table: its name and the kind of value it gives.

    Uses the :class:`FactKind` vocabulary: ``DECIMAL`` outputs are written as strings
    (``"0.25"``) or integers, ``ENUM`` and ``ORDINAL`` outputs list their values.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=_check_name)
    kind: FactKind = attrs.field(converter=_to_kind, validator=_check_kind)
    values: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple, validator=_check_values)
    description: str = attrs.field(default="", kw_only=True)


_new = object.__new__


class FrozenMapping(Mapping[str, Any]):
    """A read-only, hashable mapping of names to scalars (a rule's outputs).

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._data: dict[str, Any] = dict(data)
        self._hash: int | None = None

    @classmethod
    def _of(cls, data: dict[str, Any]) -> FrozenMapping:
        """``FrozenMapping(data)`` holding ``data`` itself, not a copy: for a dict no one
        else holds or changes (a table reader's)."""
        made = _new(cls)
        made._data = data
        made._hash = None
        return made

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMapping):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"
