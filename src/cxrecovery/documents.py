"""Documents in and out: cases as plain JSON-ready data, with precise errors.

One mechanism serves three jobs. For every domain type it reads a document into the
type (collecting *every* problem with its path before giving up), writes the type back
to plain data (so that ``dump(load_case(doc)) == doc`` for a canonical document), and
describes the document as JSON Schema, so a CRM written in any language can produce
valid input.

Formats: times are ISO 8601 with an offset (``2026-01-05T10:00:00+00:00``; a time with
no offset is refused), durations are ISO 8601 durations in days, hours, minutes and
seconds (``P1DT2H``, ``PT90S``), money is ``{"amount": "12.50", "currency": "EUR"}``
with the amount a string (or a whole number) and never a float.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import types
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final, NamedTuple, Protocol, TypeVar, Union, get_args, get_origin
from zoneinfo import available_timezones

import attrs

from cxrecovery._validation import is_implied_by_document_type, suggest
from cxrecovery._validation import kind_of as _kind
from cxrecovery.errors import DocumentError, InvalidValueError, Problem
from cxrecovery.formats.durations import format_duration, parse_duration
from cxrecovery.limits import Limits, check_decimal, check_instant, read_document_file, too_big
from cxrecovery.model import Attributes, Case
from cxrecovery.money import Money, currencies, minor_units

__all__ = ["PolicyLike", "case_schema", "dump", "load", "load_case"]

T = TypeVar("T")

CASE_FORMAT: Final = 2
_SCHEMA_ID: Final = "https://cxrecovery.invalid/schema/case-2.json"
# The case formats this version reads: format 1 is format 2 without a recorded history
# (no ``events``, no ``settled_by``), so it reads as such.
_CASE_FORMATS: Final = (1, 2)


class _Fail:
    """The marker for a value that could not be read (its problems are recorded)."""


_FAIL: Final = _Fail()

_LIMITS: Final = Limits()

_Problems = list[Problem]
_Loader = Callable[[object, str, _Problems], Any]

# The fast path. Reading a case document is most of a replay's time, and almost every
# document is valid, so each codec also has a *fast reader*: it reads a value without
# collecting problems and builds domain objects without re-running the checks that
# reading already made. On anything unusual it raises (``_Slow``, or whatever a
# constructor raises), and :func:`load` reads the document again with the full loader,
# which finds and words every problem. So the fast path only has to accept nothing the
# full loader refuses, and build the very same values.
_FastReader = Callable[[object], Any]


class _Slow(Exception):
    """The fast path gives up on a value; the full loader will say what is wrong."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _NAME.match(key):  # an odd key is quoted so that the path stays readable
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


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


def _show(value: object) -> str:
    try:
        text = _SHORT.repr(value)
    except Exception:  # a host's object whose repr fails: name its type instead
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


# --- scalar codecs ---------------------------------------------------------------------


def _load_str(value: object, path: str, problems: _Problems) -> object:
    if isinstance(value, str):
        return value
    problems.append(Problem(path, f"expected a string, got {_kind(value)} {_show(value)}"))
    return _FAIL


def _load_bool(value: object, path: str, problems: _Problems) -> object:
    if isinstance(value, bool):
        return value
    problems.append(Problem(path, f"expected true or false, got {_kind(value)} {_show(value)}"))
    return _FAIL


def _load_int(value: object, path: str, problems: _Problems) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(Problem(path, f"expected a whole number, got {_kind(value)} {_show(value)}"))
    return _FAIL


def _fast_str(value: object) -> object:
    if type(value) is str:
        return value
    raise _Slow


def _fast_bool(value: object) -> object:
    if value is True or value is False:
        return value
    raise _Slow


def _fast_int(value: object) -> object:
    if type(value) is int:
        return value
    raise _Slow


def _fast_via(load: _Loader) -> _FastReader:
    """A fast reader from a full loader (for the rarely used types)."""

    def read(value: object) -> object:
        problems: _Problems = []
        result = load(value, "", problems)
        if problems or result is _FAIL:
            raise _Slow
        return result

    return read


def _load_decimal(value: object, path: str, problems: _Problems) -> object:
    if isinstance(value, float):
        problems.append(
            Problem(path, f"{value!r} is a float; give decimals as strings such as '0.25'")
        )
        return _FAIL
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            problems.append(Problem(path, f"{_show(value)} is not a decimal number"))
            return _FAIL
    else:
        problems.append(Problem(path, f"expected a decimal string, got {_kind(value)}"))
        return _FAIL
    if not result.is_finite():
        problems.append(Problem(path, f"{_show(value)} is not a finite number"))
        return _FAIL
    try:
        check_decimal(result, path)
    except InvalidValueError as error:
        problems.extend(error.problems)
        return _FAIL
    return result


def _load_datetime(value: object, path: str, problems: _Problems) -> object:
    if not isinstance(value, str):
        problems.append(
            Problem(path, f"expected an ISO 8601 time string, got {_kind(value)} {_show(value)}")
        )
        return _FAIL
    try:
        result = datetime.fromisoformat(value)
    except ValueError:
        problems.append(Problem(path, f"{_show(value)} is not an ISO 8601 time"))
        return _FAIL
    if result.tzinfo is None:
        problems.append(Problem(path, f"naive datetime {_show(value)}; give an offset or zone"))
        return _FAIL
    try:
        check_instant(result, path)
    except InvalidValueError as error:
        problems.extend(error.problems)
        return _FAIL
    return result


def _fast_datetime(value: object) -> object:
    if type(value) is str:
        result = datetime.fromisoformat(value)
        # The year alone settles all but the edges of the range (the full check there).
        if result.tzinfo is not None and 1900 < result.year < 2199:
            return result
    raise _Slow


def _dump_datetime(value: datetime) -> str:
    return value.isoformat()


def _load_timedelta(value: object, path: str, problems: _Problems) -> object:
    if not isinstance(value, str):
        problems.append(Problem(path, f"expected an ISO 8601 duration string, got {_kind(value)}"))
        return _FAIL
    try:
        return parse_duration(value)
    except InvalidValueError as error:
        problems.extend(p.under(path) for p in error.problems)
        return _FAIL


def _fast_timedelta(value: object) -> object:
    if type(value) is str:
        return parse_duration(value)
    raise _Slow


def _load_money(value: object, path: str, problems: _Problems) -> object:
    if not isinstance(value, Mapping):
        problems.append(
            Problem(
                path,
                f'expected money as {{"amount": "12.50", "currency": "EUR"}}, '
                f"got {_kind(value)} {_show(value)}",
            )
        )
        return _FAIL
    before = len(problems)
    for key in value:
        if key not in ("amount", "currency"):
            problems.append(
                Problem(_join(path, str(key)), "unknown field (money has amount and currency)")
            )
    if "amount" not in value:
        problems.append(Problem(_join(path, "amount"), "missing (required)"))
    if "currency" not in value:
        problems.append(Problem(_join(path, "currency"), "missing (required)"))
    elif not isinstance(value["currency"], str) or value["currency"] not in currencies():
        hint = suggest(value["currency"], currencies())
        problems.append(
            Problem(
                _join(path, "currency"),
                f"{_show(value['currency'])} is not an ISO 4217 currency code{hint}",
            )
        )
    if len(problems) > before:
        return _FAIL
    try:
        # A JSON number arrives as an exact Decimal (never through a float).
        return Money(value["amount"], value["currency"])
    except InvalidValueError as error:
        problems.extend(p.under(path) for p in error.problems)
        return _FAIL


def _fast_money(value: object) -> object:
    if type(value) is dict and len(value) == 2:
        currency = value.get("currency")
        if type(currency) is str and "amount" in value:
            return Money(value["amount"], currency)
    raise _Slow


def _dump_money(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


def _load_attributes(value: object, path: str, problems: _Problems) -> object:
    if not isinstance(value, Mapping):
        problems.append(Problem(path, f"expected an object, got {_kind(value)}"))
        return _FAIL
    try:
        return Attributes(value)
    except InvalidValueError as error:
        # Attributes names its problems "attributes[.key]"; re-root them here.
        for p in error.problems:
            rest = p.path.removeprefix("attributes").lstrip(".")
            problems.append(Problem(_join(path, rest) if rest else path, p.message))
        return _FAIL


def _fast_attributes(value: object) -> object:
    if type(value) is dict:
        return Attributes(value)
    raise _Slow


def _enum_fast(enum: type[Enum]) -> _FastReader:
    by_value = {m.value: m for m in enum}

    def read(value: object) -> object:
        if type(value) is str:
            return by_value[value]
        raise _Slow

    return read


def _enum_loader(enum: type[Enum]) -> _Loader:
    by_value = {m.value: m for m in enum}
    values = [str(v) for v in by_value]
    names = ", ".join(values)

    def load(value: object, path: str, problems: _Problems) -> object:
        if isinstance(value, str) and value in by_value:
            return by_value[value]
        problems.append(
            Problem(path, f"{_show(value)} is not one of {names}{suggest(value, values)}")
        )
        return _FAIL

    return load


# --- the codec registry ----------------------------------------------------------------


@attrs.frozen
class _Codec:
    load: _Loader
    dump: Callable[[Any], Any]
    schema: Callable[[dict[str, Any]], dict[str, Any]]
    fast: _FastReader


def _plain(schema: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda _defs: dict(schema)


_DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"
# What datetime.fromisoformat reads *with* an offset: a time without one is naive, and
# the loader refuses it, so the schema does too ("format" alone is only a note).
_AWARE_PATTERN: Final = (
    r"^[0-9]{4}-?[0-9]{2}-?[0-9]{2}.[0-9]{2}(:?[0-9]{2}(:?[0-9]{2}([.,][0-9]+)?)?)?"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2}([.,][0-9]+)?)?)?)$"
)


def _zone_schema() -> dict[str, Any]:
    """The IANA zone names this machine's ``zoneinfo`` knows (the validator's test)."""
    return {"anyOf": [{"enum": sorted(available_timezones())}, {"type": "null"}]}


_SPECIAL_SCHEMAS: Final[dict[object, Callable[[], dict[str, Any]]]] = {"time_zone": _zone_schema}

_SCALARS: Final[dict[object, _Codec]] = {
    str: _Codec(_load_str, str, _plain({"type": "string"}), _fast_str),
    bool: _Codec(_load_bool, bool, _plain({"type": "boolean"}), _fast_bool),
    int: _Codec(_load_int, int, _plain({"type": "integer"}), _fast_int),
    Decimal: _Codec(
        _load_decimal,
        str,
        _plain({"type": ["string", "integer"], "pattern": _DECIMAL_PATTERN}),
        _fast_via(_load_decimal),
    ),
    datetime: _Codec(
        _load_datetime,
        _dump_datetime,
        _plain({"type": "string", "format": "date-time", "pattern": _AWARE_PATTERN}),
        _fast_datetime,
    ),
    timedelta: _Codec(
        _load_timedelta,
        format_duration,
        _plain({"type": "string", "format": "duration"}),
        _fast_timedelta,
    ),
}

_CACHE: dict[object, _Codec] = {}


def _codec(tp: object) -> _Codec:
    try:
        return _CACHE[tp]
    except KeyError:
        pass
    codec = _build(tp)
    _CACHE[tp] = codec
    return codec


def _build(tp: object) -> _Codec:
    if tp in _SCALARS:
        return _SCALARS[tp]
    if tp is Money:
        return _Codec(_load_money, _dump_money, _ref("Money", _money_schema), _fast_money)
    if tp is Attributes:
        return _Codec(
            _load_attributes,
            lambda value: dict(value),
            _plain(
                {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
                }
            ),
            _fast_attributes,
        )
    if isinstance(tp, type) and issubclass(tp, Enum):
        values = [m.value for m in tp]
        return _Codec(
            _enum_loader(tp), lambda m: m.value, _plain({"enum": values}), _enum_fast(tp)
        )
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return _optional(tp)
    if origin is tuple:
        return _sequence(get_args(tp)[0])
    if isinstance(tp, type) and attrs.has(tp):
        return _attrs_codec(tp)
    raise TypeError(f"no document codec for {tp!r}")  # a programming error, not input


def _optional(tp: object) -> _Codec:
    args = [a for a in get_args(tp) if a is not type(None)]
    if len(args) != 1:
        raise TypeError(f"only X | None unions are documented, not {tp!r}")
    inner = _codec(args[0])

    def load(value: object, path: str, problems: _Problems) -> object:
        return None if value is None else inner.load(value, path, problems)

    def fast(value: object) -> object:
        return None if value is None else inner.fast(value)

    return _Codec(
        load,
        lambda value: None if value is None else inner.dump(value),
        lambda defs: {"anyOf": [inner.schema(defs), {"type": "null"}]},
        fast,
    )


def _sequence(item_tp: object) -> _Codec:
    inner = _codec(item_tp)

    def load(value: object, path: str, problems: _Problems) -> object:
        if not isinstance(value, list | tuple):
            problems.append(Problem(path, f"expected a list, got {_kind(value)}"))
            return _FAIL
        load_item = inner.load
        items = [load_item(item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
        return _FAIL if any(item is _FAIL for item in items) else tuple(items)

    def fast(value: object) -> object:
        if type(value) is list:
            return tuple(map(inner.fast, value))
        raise _Slow

    return _Codec(
        load,
        lambda value: [inner.dump(item) for item in value],
        lambda defs: {"type": "array", "items": inner.schema(defs)},
        fast,
    )


def _ref(
    name: str, build: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def schema(defs: dict[str, Any]) -> dict[str, Any]:
        if name not in defs:
            defs[name] = {}  # reserve the name first: types may refer to themselves
            defs[name] = build(defs)
        return {"$ref": f"#/$defs/{name}"}

    return schema


def _money_schema(_defs: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "An exact amount: a decimal string (never a float) and a currency.",
        "properties": {
            "amount": {"type": ["string", "integer"], "pattern": _DECIMAL_PATTERN},
            "currency": {"enum": sorted(currencies())},
        },
        "required": ["amount", "currency"],
        "additionalProperties": False,
        # No more decimals than the currency's minor units (trailing zeros aside):
        # '19.999' EUR is refused by the loader, so by the schema too.
        "allOf": [
            {
                "if": {"properties": {"currency": {"enum": codes}}, "required": ["currency"]},
                "then": {
                    "properties": {"amount": {"pattern": rf"^-?[0-9]+(\.[0-9]{{0,{units}}}0*)?$"}}
                },
            }
            for units, codes in _by_minor_units().items()
        ],
    }


def _by_minor_units() -> dict[int, list[str]]:
    groups: dict[int, list[str]] = {}
    for code in sorted(currencies()):
        groups.setdefault(minor_units(code), []).append(code)
    return dict(sorted(groups.items()))


def _default_of(field: attrs.Attribute[Any]) -> object:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _attrs_codec(cls: type) -> _Codec:
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    names = [f.name for f in fields]
    required = [f.name for f in fields if f.default is attrs.NOTHING]
    defaults = {f.name: _default_of(f) for f in fields if f.default is not attrs.NOTHING}
    # Codecs are made on first use so that a type may contain itself.
    codecs: dict[str, _Codec] = {}

    def codec_of(name: str) -> _Codec:
        if name not in codecs:
            codecs[name] = _codec(attrs.fields_dict(cls)[name].type)
        return codecs[name]

    known = frozenset(names)
    mandatory = frozenset(required)
    # How to read each field, made on the first load (a type may contain itself): its
    # name, the path suffix (field names are identifiers, so a child's path is a plain
    # concatenation), the loader, and whether None is allowed (X | None is unwrapped, so
    # a present value takes one call, not two).
    plan: list[tuple[str, str, _Loader, bool]] = []

    def fields_plan() -> list[tuple[str, str, _Loader, bool]]:
        if not plan:
            for name in names:
                tp = attrs.fields_dict(cls)[name].type
                args = get_args(tp)
                nullable = get_origin(tp) in (Union, types.UnionType) and type(None) in args
                inner = [a for a in args if a is not type(None)] if nullable else []
                if nullable and len(inner) == 1:
                    loader = _codec(inner[0]).load
                else:
                    loader = codec_of(name).load
                    nullable = False
                plan.append((name, "." + name, loader, nullable))
        return plan

    def load(value: object, path: str, problems: _Problems) -> object:
        if not isinstance(value, Mapping):
            problems.append(
                Problem(path, f"expected an object ({cls.__name__}), got {_kind(value)}")
            )
            return _FAIL
        ok = True
        keys = value.keys()
        if not keys <= known:
            for key in value:
                if key not in known:
                    hint = suggest(key, names)
                    problems.append(Problem(_join(path, str(key)), f"unknown field{hint}"))
            ok = False
        kwargs: dict[str, object] = {}
        missing = mandatory - keys
        for name, suffix, load_field, nullable in plan or fields_plan():
            if name in value:
                raw = value[name]
                if raw is None and nullable:
                    kwargs[name] = None
                    continue
                item = load_field(raw, path + suffix if path else name, problems)
                if item is _FAIL:
                    ok = False
                else:
                    kwargs[name] = item
            elif name in missing:
                problems.append(Problem(path + suffix if path else name, "missing (required)"))
                ok = False
        if not ok:
            return _FAIL
        try:
            return cls(**kwargs)
        except InvalidValueError as error:
            problems.extend(p.under(path) for p in error.problems)
            return _FAIL

    # The fast path's plan (see _FastPlan), made on the first fast read; ``None`` if the
    # class is not one the fast path can build (then its full loader serves).
    fast_plan: list[_FastPlan | None] = []

    def fast(value: object) -> object:
        if not fast_plan:
            fast_plan.append(_fast_plan(cls, codec_of))
        made_plan = fast_plan[0]
        if made_plan is None:
            return slow_fast(value)
        if type(value) is not dict:
            raise _Slow
        readers, nullable, init, checks, post_init = made_plan
        # An unknown field is a KeyError here, a missing one a TypeError in init: both
        # send the document to the full loader. (A loop, not a comprehension: for a
        # handful of fields the comprehension's own call costs more.)
        fields = {}
        for name, raw in value.items():
            fields[name] = None if raw is None and name in nullable else readers[name](raw)
        made: object = _new(cls)
        init(made, **fields)
        for check, field in checks:
            check(made, field, getattr(made, field.name))
        if post_init is not None:
            post_init(made)
        return made

    slow_fast = _fast_via(load)

    def dump(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in names:
            item = getattr(value, name)
            if name in defaults and item == defaults[name]:
                continue
            out[name] = codec_of(name).dump(item)
        return out

    def build_schema(defs: dict[str, Any]) -> dict[str, Any]:
        doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        special = {f.name: f.metadata.get("document") for f in fields}
        return {
            "type": "object",
            "description": doc,
            "properties": {
                name: _SPECIAL_SCHEMAS[special[name]]()
                if special[name] in _SPECIAL_SCHEMAS
                else codec_of(name).schema(defs)
                for name in names
            },
            "required": required,
            "additionalProperties": False,
        }

    return _Codec(load, dump, _ref(cls.__name__, build_schema), fast)


_new: Final = object.__new__


class _FastPlan(NamedTuple):
    """How the fast path builds an attrs class: what its generated ``__init__`` does,
    less the validators and converters that reading a document already implies.

    ``readers`` are the fields' fast readers by name (for an ``X | None`` field, the
    reader of ``X``: ``nullable`` names those, whose ``None`` is read in line).
    ``init`` sets the fields of a new, empty instance: it is the generated ``__init__``
    of a twin class with the same fields and defaults but no validators or converters
    (for a frozen class with slots attrs sets each field through
    ``object.__setattr__``, so it serves an instance of the real class). Then the
    validators that reading does not imply run, in field order, and the post-init
    hook.
    """

    readers: dict[str, _FastReader]
    nullable: frozenset[str]
    init: Callable[..., None]
    checks: tuple[tuple[Callable[[object, Any, object], Any], attrs.Attribute[Any]], ...]
    post_init: Callable[[object], None] | None


def _fast_plan(cls: type, codec_of: Callable[[str], _Codec]) -> _FastPlan | None:
    """The fast plan of ``cls``, or ``None`` for a class with its own ``__init__``, a
    converter reading does not imply or anything else unusual."""
    params = getattr(cls, "__attrs_attrs__", None) and attrs.fields(cls)
    if (
        not params
        or hasattr(cls, "__attrs_init__")
        or hasattr(cls, "__attrs_pre_init__")
        or "__slots__" not in cls.__dict__
    ):
        return None
    readers = {}
    nullable = set()
    twin: dict[str, Any] = {}
    checks = []
    for field in params:
        if (
            not field.init
            or field.alias != field.name
            or (field.converter is not None and not is_implied_by_document_type(field.converter))
            or (isinstance(field.default, attrs.Factory) and field.default.takes_self)  # type: ignore[arg-type]
        ):
            return None
        args = get_args(field.type)
        inner = [a for a in args if a is not type(None)]
        if get_origin(field.type) in (Union, types.UnionType) and len(inner) == len(args) - 1 == 1:
            readers[field.name] = _codec(inner[0]).fast
            nullable.add(field.name)
        else:
            readers[field.name] = codec_of(field.name).fast
        twin[field.name] = attrs.field(default=field.default, kw_only=True)
        if field.validator is not None and not is_implied_by_document_type(field.validator):
            checks.append((field.validator, field))
    twin_cls: Any = attrs.make_class(f"_Fast{cls.__name__}", twin, slots=True, frozen=True)
    init = twin_cls.__init__
    post_init = getattr(cls, "__attrs_post_init__", None)
    return _FastPlan(readers, frozenset(nullable), init, tuple(checks), post_init)


# --- public API ------------------------------------------------------------------------


def _read_source(source: object, what: str, limits: Limits = _LIMITS) -> object:
    if type(source) is str and source.startswith("{"):  # the common case, tested first
        # A character is one to four bytes of UTF-8: count bytes only when it matters.
        if len(source) * 4 > limits.max_document_bytes and (
            len(source) > limits.max_document_bytes
            or len(source.encode("utf-8", "surrogatepass")) > limits.max_document_bytes
        ):
            raise DocumentError.at("", too_big(what, limits))
        return _parse_json(source, what)
    if isinstance(source, Mapping):
        return source
    text: str
    if isinstance(source, bytes):
        if len(source) > limits.max_document_bytes:
            raise DocumentError.at("", too_big(what, limits))
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DocumentError.at("", f"the {what} document is not UTF-8: {error}") from None
    elif isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return _read_source(source.encode("utf-8", "surrogatepass"), what, limits)
    elif isinstance(source, str | os.PathLike):
        text = read_document_file(source, limits, what, DocumentError)
    else:
        raise DocumentError.at(
            "",
            f"expected a mapping, JSON text or a path to a {what} document, got {_kind(source)}",
        )
    return _parse_json(text, what)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


# Made once: ``json.loads`` with these options makes a decoder (and scanner) per call.
_DECODER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _parse_json(text: str, what: str) -> object:
    try:
        if text.startswith("\ufeff"):  # json.loads refuses a byte order mark; so do we
            return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise DocumentError.at(
            "",
            f"the {what} document is not valid JSON: {error.msg} at line "
            f"{error.lineno} column {error.colno}",
        ) from None
    except (ValueError, RecursionError) as error:
        raise DocumentError.at("", f"the {what} document is not valid JSON: {error}") from None


def load(cls: type[T], data: object, *, path: str = "") -> T:
    """Read plain data (a mapping, as from JSON) into a domain type.

    Raises:
        DocumentError: with every problem found, each with its path.

    .. versionadded:: 0.1.0
    """
    try:
        return _codec(cls).fast(data)  # type: ignore[no-any-return]
    except Exception:  # anything unusual: the full loader says what is wrong
        return _load_full(cls, data, path)


def _load_full(cls: type[T], data: object, path: str) -> T:
    """:func:`load` without the fast path: every problem, each with its path."""
    problems: _Problems = []
    result = _codec(cls).load(data, path, problems)
    if problems or result is _FAIL:
        raise DocumentError(problems or [Problem(path, "could not be read")])
    return result  # type: ignore[no-any-return]


class _Ladder(Protocol):
    @property
    def levels(self) -> Any: ...


class PolicyLike(Protocol):
    """What :func:`load_case` reads of a policy to check a case's history against it:
    its roles' names and its escalation levels (a :class:`~cxrecovery.policy.Policy`)."""

    @property
    def roles(self) -> Any: ...

    @property
    def escalation(self) -> _Ladder: ...


def load_case(
    source: Mapping[str, Any] | str | bytes | os.PathLike[str],
    *,
    policy: PolicyLike | None = None,
    limits: Limits = _LIMITS,
) -> Case:
    """Read a case document: a mapping, JSON text, or the path of a JSON file.

    A string that starts with ``{`` is JSON text; any other string is a path.
    JSON numbers are read as exact decimals, never through a float. Format 2 is
    written today; a format 1 document (no history of events) reads as a format 2
    one without events.

    With ``policy``, the case's history is checked against it too: an escalation to
    a level the policy lacks, or an owner or escalation naming a role it does not have,
    is a problem at its path, listed with every other.

    Args:
        source: the document.
        policy: the policy whose roles and escalation levels the history must name.
        limits: how much is read: the document's bytes (no more is read from a file
            or a device) and the items of each list in it; see
            :class:`~cxrecovery.Limits`.

    Raises:
        DocumentError: with every problem in the document, each with its path, e.g.
            ``touchpoints[2].at: naive datetime '2026-01-05T10:00'; give an offset or
            zone``.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 format 2, ``policy`` and ``limits``.
    """
    if limits is not _LIMITS and not isinstance(limits, Limits):
        raise DocumentError.at("limits", f"expected Limits, got {_kind(limits)}")
    data = _read_source(source, "case", limits)
    problems: _Problems = []
    if type(data) is dict or isinstance(data, Mapping):
        _check_sizes(data, limits)
        version = data.get("format", CASE_FORMAT)
        if "format" in data:
            # The type first: comparing Decimal('sNaN') raises.
            if type(version) is not int or version not in _CASE_FORMATS:
                formats = " and ".join(map(str, _CASE_FORMATS))
                raise DocumentError.at(
                    "format",
                    f"{_show(data['format'])} is not a case format this version reads ({formats})",
                )
            if data is not source and type(data) is dict:
                del data["format"]  # our own parse of the text: no need to copy it
            else:
                data = {k: v for k, v in data.items() if k != "format"}
        if version == 1:
            problems.extend(_format_2_only(data))
        if policy is not None:
            problems.extend(_policy_problems(data.get("events"), policy))
        events = data.get("events")
        if type(events) is list and any(_is_settled(e) for e in events):
            data, where = _fold_settlements(data, problems)
            try:
                case = load(Case, data)
            except DocumentError as error:
                found = [_renumbered(p, where) for p in error.problems]
                raise DocumentError(sorted([*found, *problems], key=lambda p: p.path)) from None
            if problems:
                raise DocumentError(sorted(problems, key=lambda p: p.path))
            return case
    if not problems:
        return load(Case, data)
    try:
        load(Case, data)
    except DocumentError as error:
        problems = [*error.problems, *problems]
    raise DocumentError(sorted(problems, key=lambda p: p.path))


# A promise settled by an event: a format 2 document may say so in its history
# (``{"kind": "settled", "at": ..., "by": ..., "promise": "p-1", "status": "kept"}``)
# instead of in the promise; it reads into the promise, and dump writes it there.
_SETTLED: Final = "settled"
_SETTLED_FIELDS: Final = frozenset({"kind", "at", "by", "promise", "status", "note"})
_SETTLED_STATUSES: Final = ("kept", "broken", "withdrawn")
_EVENT_PATH: Final = re.compile(r"events\[(\d+)\]")


def _is_settled(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("kind") == _SETTLED


def _fold_settlements(
    data: Mapping[str, Any], problems: _Problems
) -> tuple[dict[str, Any], list[int]]:
    """``data`` with each ``settled`` event read into its promise (every problem added to
    ``problems``), and where each remaining event was in the document's list."""
    events: list[Any] = data["events"]
    promises = data.get("promises")
    records = list(promises) if isinstance(promises, list) else []
    by_id = {r["id"]: i for i, r in enumerate(records) if isinstance(r, Mapping) and "id" in r}
    kept: list[Any] = []
    where: list[int] = []
    settled: dict[str, int] = {}
    previous: datetime | None = None
    for i, event in enumerate(events):
        at = event.get("at") if isinstance(event, Mapping) else None
        try:
            when = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            if previous is not None and when < previous and _is_settled(event):
                problems.append(
                    Problem(
                        f"events[{i}].at",
                        f"{at} is earlier than events[{i - 1}]; list events in time order",
                    )
                )
            previous = when if previous is None or when > previous else previous
        if not _is_settled(event):
            kept.append(event)
            where.append(i)
            continue
        path = f"events[{i}]"
        for key in event:
            if key not in _SETTLED_FIELDS:
                problems.append(Problem(_join(path, str(key)), "unknown field of a settled event"))
        for key in ("at", "promise", "status"):
            if key not in event:
                problems.append(Problem(f"{path}.{key}", "missing (required)"))
        ident = event.get("promise")
        status = event.get("status")
        if "status" in event and status not in _SETTLED_STATUSES:
            names = ", ".join(_SETTLED_STATUSES)
            problems.append(Problem(f"{path}.status", f"{_show(status)} is not one of {names}"))
        if "promise" not in event:
            continue
        if ident not in by_id:
            known = ", ".join(repr(k) for k in by_id) or "none"
            problems.append(
                Problem(
                    f"{path}.promise",
                    f"{_show(ident)} was never made: no promise has that id (promises: {known})",
                )
            )
            continue
        j = by_id[ident]
        if ident in settled:
            problems.append(
                Problem(
                    f"{path}.promise", f"{ident!r} is settled already by events[{settled[ident]}]"
                )
            )
            continue
        record = records[j]
        if record.get("status", "pending") != "pending" or "settled_at" in record:
            problems.append(
                Problem(
                    f"{path}.promise",
                    f"promises[{j}] ({ident!r}) is settled in its own record already; "
                    "settle it in one place",
                )
            )
            continue
        settled[ident] = i
        folded = {**record, "status": status, "settled_at": at}
        if event.get("by") is not None:
            folded["settled_by"] = event["by"]
        records[j] = folded
    folded_data = {**data, "events": kept, "promises": records}
    if not isinstance(promises, list):
        folded_data.pop("promises")
        if promises is not None:
            folded_data["promises"] = promises
    return folded_data, where


def _renumbered(problem: Problem, where: list[int]) -> Problem:
    """``problem`` with each ``events[k]`` (in its path and its message) pointing at
    the document's own list."""

    def place(match: re.Match[str]) -> str:
        k = int(match.group(1))
        return f"events[{where[k]}]" if k < len(where) else match.group(0)

    return Problem(_EVENT_PATH.sub(place, problem.path), _EVENT_PATH.sub(place, problem.message))


def _format_2_only(data: Mapping[str, Any]) -> Iterator[Problem]:
    """The fields of format 2 that a format 1 document does not have."""
    if "events" in data:
        yield Problem("events", "a format 1 document has no events; write format 2 for them")
    promises = data.get("promises")
    if isinstance(promises, list):
        for i, promise in enumerate(promises):
            if isinstance(promise, Mapping) and "settled_by" in promise:
                yield Problem(
                    f"promises[{i}].settled_by",
                    "a format 1 document has no settled_by; write format 2 for it",
                )


def _policy_problems(events: object, policy: PolicyLike) -> Iterator[Problem]:
    """An event naming a level or a role ``policy`` does not have."""
    if not isinstance(events, list):
        return
    roles = [str(r.name) for r in policy.roles]
    levels = sorted({int(rung.level) for rung in policy.escalation.levels})
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            continue
        level = event.get("level")
        if event.get("kind") == "escalated" and type(level) is int and level not in levels:
            known = ", ".join(map(str, levels)) or "none"
            yield Problem(
                f"events[{i}].level", f"{level} is not an escalation level of the policy ({known})"
            )
        role = event.get("role")
        if isinstance(role, str) and role not in roles:
            yield Problem(
                f"events[{i}].role",
                f"{role!r} is not a role of the policy ({', '.join(roles)}){suggest(role, roles)}",
            )


# The lists of a case, and the list in each of its items, that a document may make long.
_LISTS: Final = ("touchpoints", "promises", "pauses", "grants", "prior_cases", "events")


def _check_sizes(data: Mapping[str, Any], limits: Limits) -> None:
    """Refuse a case whose lists (or attributes) are longer than ``limits.max_items``,
    before any of it is read: a mapping from a host has no byte size to stop it."""
    most = limits.max_items
    places: list[tuple[str, object]] = [(key, data.get(key)) for key in _LISTS]
    places.append(("attributes", data.get("attributes")))
    customer = data.get("customer")
    if isinstance(customer, Mapping):
        places.append(("customer.attributes", customer.get("attributes")))
    for path, value in places:
        if isinstance(value, list | tuple | Mapping) and len(value) > most:
            raise DocumentError.at(
                path, f"{len(value)} items, more than {most} (Limits.max_items)"
            )


def dump(value: object) -> Any:
    """Write a domain value (a case, a promise, money…) as plain JSON-ready data.

    Fields left at their defaults are omitted; a case carries its ``format`` number
    (2: a case is always written in the latest format). The result is deterministic:
    the same value always gives the same data.

    .. versionadded:: 0.1.0
    """
    data = _codec(type(value)).dump(value)
    if isinstance(value, Case):
        return {"format": CASE_FORMAT, **data}
    return data


def case_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the case document, format 2.

    (A format 1 document is a format 2 one without ``events`` and ``settled_by``.)

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 format 2.
    """
    defs: dict[str, Any] = {}
    _codec(Case).schema(defs)
    case = dict(defs.pop("Case"))
    case["properties"] = {"format": {"const": CASE_FORMAT}, **case["properties"]}
    # A history may also settle a promise (read into the promise: see load_case).
    defs["PromiseSettled"] = {
        "type": "object",
        "description": "A promise settled, said in the history instead of in the promise.",
        "properties": {
            "kind": {"const": _SETTLED},
            "at": defs["CaseEvent"]["properties"]["at"],
            "by": defs["CaseEvent"]["properties"]["by"],
            "promise": {"type": "string"},
            "status": {"enum": list(_SETTLED_STATUSES)},
            "note": defs["CaseEvent"]["properties"]["note"],
        },
        "required": ["kind", "at", "promise", "status"],
        "additionalProperties": False,
    }
    case["properties"]["events"] = {
        "type": "array",
        "items": {"anyOf": [{"$ref": "#/$defs/CaseEvent"}, {"$ref": "#/$defs/PromiseSettled"}]},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _SCHEMA_ID,
        "title": "cxrecovery case document",
        **case,
        "$defs": dict(sorted(defs.items())),
    }
