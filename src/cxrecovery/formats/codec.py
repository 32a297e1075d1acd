"""One description per type gives its reader, its writer and its JSON Schema.

A :class:`Codecs` registry makes the codec of a type on first use: scalars, money,
enumerations, ``X | None``, ``tuple[X, ...]`` and attrs classes (from their fields),
plus the types a caller registers. The reader of an attrs class is generated from its
fields (:mod:`cxrecovery.formats._generate`): one pass over the document that builds
each object once, running the checks reading does not imply, and collects every
problem with its path. ``Codecs(generated=False)`` reads the same way without the
generated code (each field read in a loop, the class's own constructor called): the
plain reading the generated one is tested against.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Union, get_args, get_origin
from zoneinfo import available_timezones

import attrs

from cxrecovery._validation import kind_of
from cxrecovery.errors import Problem
from cxrecovery.formats import values
from cxrecovery.formats._generate import generated_reader
from cxrecovery.formats.durations import format_duration
from cxrecovery.formats.fields import field_plans, plain_reader
from cxrecovery.formats.values import FAIL, Problems, Reader, Where, path_of
from cxrecovery.money import Money, currencies, minor_units

__all__ = ["Codec", "Codecs", "Schema", "ref"]

Schema = Callable[[dict[str, Any]], dict[str, Any]]


@attrs.frozen
class Codec:
    """How one type is read (``load(value, where, problems)``), written and described."""

    load: Reader
    dump: Callable[[Any], Any]
    schema: Schema


def _plain(schema: dict[str, Any]) -> Schema:
    return lambda _defs: dict(schema)


def ref(name: str, build: Schema) -> Schema:
    """A schema kept once under ``$defs/name`` and referred to (types may nest)."""

    def schema(defs: dict[str, Any]) -> dict[str, Any]:
        if name not in defs:
            defs[name] = {}  # reserve the name first: types may refer to themselves
            defs[name] = build(defs)
        return {"$ref": f"#/$defs/{name}"}

    return schema


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


# A field's ``metadata={"document": name}`` picks a schema of its own.
_SPECIAL_SCHEMAS: Final[dict[object, Callable[[], dict[str, Any]]]] = {"time_zone": _zone_schema}

_SCALARS: Final[dict[object, Codec]] = {
    str: Codec(values.read_str, str, _plain({"type": "string"})),
    bool: Codec(values.read_bool, bool, _plain({"type": "boolean"})),
    int: Codec(values.read_int, int, _plain({"type": "integer"})),
    Decimal: Codec(
        values.read_decimal,
        str,
        _plain({"type": ["string", "integer"], "pattern": _DECIMAL_PATTERN}),
    ),
    datetime: Codec(
        values.read_datetime,
        datetime.isoformat,
        _plain({"type": "string", "format": "date-time", "pattern": _AWARE_PATTERN}),
    ),
    timedelta: Codec(
        values.read_timedelta,
        format_duration,
        _plain({"type": "string", "format": "duration"}),
    ),
}


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


def _dump_money(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


class Codecs:
    """The codecs of the types of one family of documents, made on first use."""

    def __init__(self, *, generated: bool = True) -> None:
        self.generated = generated
        self._made: dict[object, Codec] = {}
        self._registered: dict[object, Codec] = {}
        self._building: set[type] = set()  # the attrs classes whose fields are being read

    def register(self, tp: type, codec: Codec) -> None:
        """Read, write and describe ``tp`` with ``codec`` (a type with its own rules)."""
        self._registered[tp] = codec
        self._made.pop(tp, None)

    def plain(self) -> Codecs:
        """The same registry reading without generated code (see the module's notes)."""
        twin = Codecs(generated=False)
        twin._registered = dict(self._registered)
        return twin

    def __call__(self, tp: object) -> Codec:
        try:
            return self._made[tp]
        except KeyError:
            pass
        codec = self._build(tp)
        if not isinstance(tp, type) or tp not in self._building:
            self._made.setdefault(tp, codec)
        return self._made.get(tp, codec)

    def _build(self, tp: object) -> Codec:
        if tp in self._registered:
            return self._registered[tp]
        if tp in _SCALARS:
            return _SCALARS[tp]
        if tp is Money:
            return Codec(values.read_money, _dump_money, ref("Money", _money_schema))
        if isinstance(tp, type) and issubclass(tp, Enum):
            members = [m.value for m in tp]
            return Codec(values.enum_reader(tp), lambda m: m.value, _plain({"enum": members}))
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            return self._optional(tp)
        if origin is tuple:
            return self._sequence(get_args(tp)[0])
        if isinstance(tp, type) and attrs.has(tp):
            return self._attrs(tp)
        raise TypeError(f"no document codec for {tp!r}")  # a programming error, not input

    def _optional(self, tp: object) -> Codec:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"only X | None unions are documented, not {tp!r}")
        inner = self(args[0])
        read = inner.load

        def load(value: object, where: Where, problems: Problems) -> object:
            return None if value is None else read(value, where, problems)

        return Codec(
            load,
            lambda value: None if value is None else inner.dump(value),
            lambda defs: {"anyOf": [inner.schema(defs), {"type": "null"}]},
        )

    def _sequence(self, item_tp: object) -> Codec:
        inner = self(item_tp)
        read = inner.load

        def load(value: object, where: Where, problems: Problems) -> object:
            if type(value) is not list and not isinstance(value, list | tuple):
                problems.append(Problem(path_of(where), f"expected a list, got {kind_of(value)}"))
                return FAIL
            # Every item read (each bad one's problems recorded), then the tuple, or FAIL
            # if any item is. (A loop: a comprehension over enumerate costs more a list.)
            items: list[object] = []
            ok = True
            for item in value:
                got = read(item, (where, len(items)), problems)  # the item's index
                if got is FAIL:
                    ok = False
                items.append(got)
            return tuple(items) if ok else FAIL

        return Codec(
            load,
            lambda value: [inner.dump(item) for item in value],
            lambda defs: {"type": "array", "items": inner.schema(defs)},
        )

    def _attrs(self, cls: type) -> Codec:
        dump, schema = _attrs_dumper(cls, self), ref(cls.__name__, _attrs_schema(cls, self))
        if cls in self._building:
            # A type that contains itself: its reader is looked up when first called.
            return Codec(lambda *args: self(cls).load(*args), dump, schema)
        self._building.add(cls)
        try:
            plans = field_plans(cls, lambda tp: self(tp).load)
        finally:
            self._building.discard(cls)
        reader = generated_reader(cls, plans) if self.generated else None
        return Codec(reader or plain_reader(cls, plans), dump, schema)


def _default_of(field: attrs.Attribute[Any]) -> object:
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default


def _attrs_dumper(cls: type, codecs: Codecs) -> Callable[[Any], dict[str, Any]]:
    fields = attrs.fields(cls)
    names = [f.name for f in fields]
    defaults = {f.name: _default_of(f) for f in fields if f.default is not attrs.NOTHING}
    dumpers: dict[str, Callable[[Any], Any]] = {}  # made on first use: types may nest

    def dump(value: Any) -> dict[str, Any]:
        if not dumpers:
            attrs.resolve_types(cls)
            dumpers.update({f.name: codecs(f.type).dump for f in attrs.fields(cls)})
        out: dict[str, Any] = {}
        for name in names:
            item = getattr(value, name)
            if name in defaults and item == defaults[name]:
                continue
            out[name] = dumpers[name](item)
        return out

    return dump


def _attrs_schema(cls: type, codecs: Codecs) -> Schema:
    def build(defs: dict[str, Any]) -> dict[str, Any]:
        attrs.resolve_types(cls)
        fields = attrs.fields(cls)
        doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        properties = {}
        for field in fields:
            special = field.metadata.get("document")
            if special in _SPECIAL_SCHEMAS:
                properties[field.name] = _SPECIAL_SCHEMAS[special]()
            else:
                properties[field.name] = codecs(field.type).schema(defs)
        return {
            "type": "object",
            "description": doc,
            "properties": properties,
            "required": [f.name for f in fields if f.default is attrs.NOTHING],
            "additionalProperties": False,
        }

    return build
