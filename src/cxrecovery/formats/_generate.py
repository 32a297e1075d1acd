"""The generated reader of an attrs class: straight-line code made from its fields.

For ``Touchpoint`` it reads, in field order, each field present in the mapping (a
string, a boolean, a whole number or an enumeration's value is tested in line; any
other value, or one that fails the test, goes to the field's reader, which records
what is wrong), takes the default of each absent one, and then, if nothing was wrong,
makes the instance once: each field is stored in its slot (on a twin of the class that
lets its slots be set as plain attributes, the instance then given the class itself —
the class's own ``__init__`` sets them through ``object.__setattr__``, some ten times the
cost), the converters and validators that reading does not imply run in field order,
and then ``__attrs_post_init__``. A constructor's :class:`~cxrecovery.errors.InvalidValueError`
becomes problems under the instance's path, as from the class's own constructor.

The plain reader in :mod:`cxrecovery.formats.codec` reads the same way, field by field,
calling the constructor; a class this module cannot build directly (its own
``__init__``, a field that is not set by name, no slots) is read by it.
"""

from __future__ import annotations

import linecache
import types
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final

import attrs

from cxrecovery._validation import (
    is_implied_by_document_type,
    kind_of,
    passing_test,
    settable_twin,
)
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.formats.durations import parse_duration
from cxrecovery.formats.fields import FieldPlan, unknown_fields
from cxrecovery.formats.values import (
    FAIL,
    Problems,
    Reader,
    Where,
    join,
    path_of,
    read_datetime,
    read_timedelta,
    under,
)
from cxrecovery.limits import EARLIEST, LATEST

__all__ = ["generated_reader"]

# The value tests made in line, by the type a field holds: ``{v}`` is the raw value.
_IN_LINE = {
    str: "type({v}) is str",
    bool: "{v} is True or {v} is False",
    int: "type({v}) is int",
}


def _is_slot(cls: type, name: str) -> bool:
    """Whether field ``name`` is stored in a slot (what ``object.__setattr__`` finds)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return isinstance(klass.__dict__[name], types.MemberDescriptorType)
    return False


def _buildable(cls: type, plans: list[FieldPlan]) -> bool:
    """Whether an instance of ``cls`` can be made the way its generated ``__init__``
    makes one: fields set by name in slots, nothing else done before or between."""
    if any(hasattr(cls, hook) for hook in ("__attrs_init__", "__attrs_pre_init__")):
        return False
    slots = {s for klass in cls.__mro__ for s in klass.__dict__.get("__slots__", ())}
    if slots - {"__weakref__", *getattr(cls, "__derived_slots__", ())} != {p.name for p in plans}:
        return False  # a cached hash, or a slot attrs does not set from a field
    for plan in plans:
        field = plan.field
        default: Any = field.default
        if not field.init or field.alias != field.name or not _is_slot(cls, plan.name):
            return False
        if isinstance(default, attrs.Factory) and default.takes_self:  # type: ignore[arg-type]
            return False
    return True


def _missing(where: Where, name: str, problems: Problems) -> bool:
    """Record that the required field ``name`` is missing; ``False`` (not read)."""
    problems.append(Problem(join(path_of(where), name), "missing (required)"))
    return False


def generated_reader(cls: type, plans: list[FieldPlan]) -> Reader | None:
    """The generated reader of ``cls``, or ``None`` if it cannot be built directly."""
    if not _buildable(cls, plans):
        return None
    names = [plan.name for plan in plans]
    scope: dict[str, Any] = {
        "Mapping": Mapping,
        "Problem": Problem,
        "InvalidValueError": InvalidValueError,
        "FAIL": FAIL,
        "KNOWN": frozenset(names),
        "FIELDS": len(names),
        "NAMES": names,
        "CLS": cls,
        "BUILDER": settable_twin(cls, "being read"),
        "kind_of": kind_of,
        "path_of": path_of,
        "join": join,
        "under": under,
        "unknown_fields": unknown_fields,
        "missing": _missing,
        "POST": getattr(cls, "__attrs_post_init__", None),
        "ISO": datetime.fromisoformat,
        "DURATION": parse_duration,
        "EARLIEST": EARLIEST,
        "LATEST": LATEST,
    }
    lines = [
        "def read(value, where, problems):",
        "    if type(value) is not dict and not isinstance(value, Mapping):",
        "        problems.append(Problem(path_of(where),"
        f" 'expected an object ({cls.__name__}), got ' + kind_of(value)))",
        "        return FAIL",
        "    ok = True",
        "    start = len(problems)",
        "    absent = 0",
    ]
    for k, plan in enumerate(plans):
        lines.extend(_read_field(k, plan, scope))
    # A key that is not a field: the fields present and absent do not add up. Its problem
    # goes before those of the fields, as if it had been found first.
    lines.extend(
        [
            "    if len(value) + absent != FIELDS:",
            "        ok = unknown_fields(value, KNOWN, NAMES, where, problems, start)",
            "    if not ok:",
            "        return FAIL",
            "    made = BUILDER()",
        ]
    )
    lines.extend(_make(plans, scope))
    lines.extend(
        [
            "    except InvalidValueError as error:",
            "        return under(error, where, problems)",
            "    return made",
        ]
    )
    source = "\n".join(lines) + "\n"
    filename = f"<cxrecovery reader of {cls.__module__}.{cls.__qualname__}>"
    exec(compile(source, filename, "exec"), scope)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    reader: Reader = scope["read"]
    return reader


def _read_field(k: int, plan: FieldPlan, scope: dict[str, Any]) -> list[str]:
    """The lines that read field ``k`` into ``x{k}`` (``ok`` false if it cannot be).

    A present value of the usual kind takes one test; any other goes to the field's
    reader, which records what is wrong. An absent field is counted and takes its default.
    """
    name, kind, x = plan.name, plan.kind, f"x{k}"
    scope[f"R{k}"] = plan.read
    read = [
        f"{x} = R{k}({x}, (where, {name!r}), problems)",
        f"if {x} is FAIL:",
        "    ok = False",
    ]
    lines = [f"    if {name!r} in value:", f"        {x} = value[{name!r}]"]
    if kind in _IN_LINE:
        test = f"not ({_IN_LINE[kind].format(v=x)})"
        lines.append(
            f"        if {test} and {x} is not None:" if plan.nullable else f"        if {test}:"
        )
        lines.extend("            " + line for line in read)
    elif isinstance(kind, type) and issubclass(kind, Enum) and _by_string(kind):
        scope[f"E{k}"] = {m.value: m for m in kind}
        lines.append(f"        if type({x}) is str:")
        lines.append("            try:")
        lines.append(f"                {x} = E{k}[{x}]")
        lines.append("            except KeyError:")
        lines.extend("                " + line for line in read)
        lines.append(f"        elif {x} is not None:" if plan.nullable else "        else:")
        lines.extend("            " + line for line in read)
    elif plan.read is read_datetime or plan.read is read_timedelta:
        indent = "        "
        if plan.nullable:
            lines.append(f"        if {x} is not None:")
            indent += "    "
        parse = _instant if plan.read is read_datetime else _duration
        lines.extend(indent + line for line in parse(x, read))
    elif plan.nullable:
        lines.append(f"        if {x} is not None:")
        lines.extend("            " + line for line in read)
    else:
        lines.extend("        " + line for line in read)
    lines.append("    else:")
    lines.append("        absent += 1")
    default: Any = plan.default
    if default is attrs.NOTHING:
        lines.append(f"        ok = missing(where, {name!r}, problems)")
    elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        scope[f"F{k}"] = default.factory
        lines.append(f"        {x} = F{k}()")
    elif default is None or default is True or default is False:
        lines.append(f"        {x} = {default!r}")
    else:
        scope[f"D{k}"] = default
        lines.append(f"        {x} = D{k}")
    return lines


def _instant(x: str, read: list[str]) -> list[str]:
    """The lines that read an ISO 8601 time in line: what :func:`read_datetime` takes
    (it parses, has an offset, and lies in the range ``check_instant`` allows) is taken
    as parsed; anything else, or anything that raises, goes to ``read_datetime``, which
    says what is wrong. (A function call fewer, and the range checked without one.)"""
    return [
        "try:",
        f"    t = ISO({x})",
        "    good = t.tzinfo is not None and EARLIEST <= t < LATEST",
        "except (TypeError, ValueError, OverflowError):",
        "    good = False",
        "if good:",
        f"    {x} = t",
        "else:",
        *("    " + line for line in read),
    ]


def _duration(x: str, read: list[str]) -> list[str]:
    """The lines that read an ISO 8601 duration in line: a string
    :func:`~cxrecovery.formats.durations.parse_duration` reads is taken as read; anything
    else goes to ``read_timedelta``, which says what is wrong."""
    return [
        "try:",
        f"    t = DURATION({x}) if type({x}) is str else FAIL",
        "except InvalidValueError:",
        "    t = FAIL",
        "if t is not FAIL:",
        f"    {x} = t",
        "else:",
        *("    " + line for line in read),
    ]


def _by_string(enum: type[Enum]) -> bool:
    """Whether every value of ``enum`` is a string (the in-line test finds only those)."""
    return all(type(m.value) is str for m in enum)


# What ``attrs.validators.and_`` (and a field with more than one validator) makes.
_AND: Final[type] = type(attrs.validators.and_())


def _checks(validator: object) -> list[Any]:
    """The checks of a field's validator that reading does not imply, in its order: the
    validators ``and_`` composes, each on its own (one implied is left out), or the one."""
    if validator is None:
        return []
    if type(validator) is _AND:
        parts: tuple[Any, ...] = validator._validators  # type: ignore[attr-defined]
        return [part for each in parts for part in _checks(each)]
    return [] if is_implied_by_document_type(validator) else [validator]


def _in_line(check: object, k: int, plan: FieldPlan, scope: dict[str, Any]) -> str | None:
    """The test ``check`` passes exactly, on ``x{k}``, to make in line before calling it
    (its names added to ``scope``); ``None`` if it has none, or a name is taken.

    The test reads the value alone, so a default (not ``None``) that passes it when the
    reader is made passes it each time: the default itself is let through first.
    """
    found = passing_test(check)
    if found is None:
        return None
    test, names = found
    if any(scope.get(name, value) is not value for name, value in names.items()):
        return None
    scope.update(names)
    default: Any = plan.default
    if (
        default is not None
        and default is not attrs.NOTHING
        and not isinstance(default, attrs.Factory)  # type: ignore[arg-type]
        and eval(test.format(v=f"D{k}"), {**scope, f"D{k}": default})
    ):
        scope[f"D{k}"] = default
        test = f"{{v}} is D{k} or {test}"
    return test.format(v=f"x{k}")


def _make(plans: list[FieldPlan], scope: dict[str, Any]) -> list[str]:
    """The lines that make the instance ``made`` from ``x0`` …: its slots set on the
    builder, then its class made the class read, then its checks (inside a ``try``)."""
    lines = ["    try:"]
    for k, plan in enumerate(plans):
        converter = plan.field.converter
        if converter is not None and not is_implied_by_document_type(converter):
            scope[f"C{k}"] = converter
            lines.append(f"        x{k} = C{k}(x{k})")
    for k, plan in enumerate(plans):
        lines.append(f"        made.{plan.name} = x{k}")
    lines.append("        made.__class__ = CLS")
    for k, plan in enumerate(plans):
        validator = plan.field.validator
        for j, check in enumerate(_checks(validator)):
            scope[f"V{k}_{j}"] = check
            scope[f"A{k}"] = plan.field
            call = f"V{k}_{j}(made, A{k}, x{k})"
            test = _in_line(check, k, plan, scope)
            lines.extend(
                [f"        if not ({test}):", f"            {call}"]
                if test
                else [f"        {call}"]
            )
    if scope["POST"] is not None:
        lines.append("        POST(made)")
    return lines
