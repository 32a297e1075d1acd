"""The fields of an attrs class as a document holds them, and the plain way to read them.

:func:`field_plans` says how each field is read; :func:`plain_reader` reads an instance
field by field and makes it with the class's own constructor (the generated readers of
:mod:`cxrecovery.formats._generate` read the same way, in straight-line code).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Union, get_args, get_origin

import attrs

from cxrecovery._validation import kind_of, suggest
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.formats.values import FAIL, Problems, Reader, Where, join, path_of, under

__all__ = ["FieldPlan", "field_plans", "plain_reader", "unknown_fields"]


class FieldPlan(NamedTuple):
    """How one field of an attrs class is read from a document.

    ``read`` reads a present value; for an ``X | None`` field it is the reader of ``X``
    and ``nullable`` is set (a ``None`` is taken as it is, one call fewer). ``kind`` is
    the type ``read`` reads. A field without ``default`` (``attrs.NOTHING``) is required.
    """

    name: str
    field: attrs.Attribute[Any]
    kind: object
    read: Reader
    nullable: bool
    default: object


def field_plans(cls: type, reader_of: Callable[[object], Reader]) -> list[FieldPlan]:
    """The reading plan of each field of ``cls``, in field order."""
    attrs.resolve_types(cls)
    plans = []
    for field in attrs.fields(cls):
        tp = field.type
        args = get_args(tp)
        inner = [a for a in args if a is not type(None)]
        nullable = get_origin(tp) in (Union, types.UnionType) and len(inner) == len(args) - 1 == 1
        kind = inner[0] if nullable else tp
        plans.append(FieldPlan(field.name, field, kind, reader_of(kind), nullable, field.default))
    return plans


def plain_reader(cls: type, plans: list[FieldPlan]) -> Reader:
    """Read an instance of ``cls`` field by field and build it with its constructor."""
    names = [plan.name for plan in plans]
    known = frozenset(names)

    def load(value: object, where: Where, problems: Problems) -> object:
        if type(value) is not dict and not isinstance(value, Mapping):
            message = f"expected an object ({cls.__name__}), got {kind_of(value)}"
            problems.append(Problem(path_of(where), message))
            return FAIL
        ok = unknown_fields(value, known, names, where, problems)
        kwargs: dict[str, object] = {}
        for name, _, _, read, nullable, default in plans:
            if name in value:
                raw = value[name]
                item = None if raw is None and nullable else read(raw, (where, name), problems)
                if item is FAIL:
                    ok = False
                else:
                    kwargs[name] = item
            elif default is attrs.NOTHING:
                problems.append(Problem(join(path_of(where), name), "missing (required)"))
                ok = False
        if not ok:
            return FAIL
        try:
            return cls(**kwargs)
        except InvalidValueError as error:
            return under(error, where, problems)

    return load


def unknown_fields(
    value: Any,
    known: frozenset[str],
    names: list[str],
    where: Where,
    problems: Problems,
    at: int | None = None,
) -> bool:
    """Whether every key of ``value`` is a field; else each other key is a problem,
    recorded in ``problems`` at index ``at`` (by default, at the end)."""
    if value.keys() <= known:
        return True
    found = []
    for key in value:
        if key not in known:
            hint = suggest(key, names)
            found.append(Problem(join(path_of(where), str(key)), f"unknown field{hint}"))
    at = len(problems) if at is None else at
    problems[at:at] = found
    return False
