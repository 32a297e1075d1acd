"""Reading a decision table's parts other than its rules: keys, hit policy, inputs, outputs.

:class:`Checks` holds the problems found (each at its path relative to the table) and
reads these parts; the table reader (``_build._Reader``) is one, and reads the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeGuard

from cxrecovery._validation import settable_maker, suggest
from cxrecovery.errors import Problem
from cxrecovery.tables._literals import float_message
from cxrecovery.tables._model import Aggregation, HitPolicy
from cxrecovery.tables.vocabulary import (
    _KIND_BY_VALUE,
    FactKind,
    FactSpec,
    OutputSpec,
    values_problem,
)

__all__ = ["TABLE_KEYS", "Checks", "check_aggregation"]

TABLE_KEYS: Final = ("hit_policy", "aggregation", "description", "inputs", "outputs", "rules")
OUTPUT_KEYS: Final = ("name", "kind", "values", "description")
_BY_VALUE: Final[dict[type, dict[str, Any]]] = {
    e: {m.value: m for m in e} for e in (HitPolicy, Aggregation)
}
_SUMMABLE: Final = frozenset({FactKind.INTEGER, FactKind.DECIMAL})
_ORDERABLE: Final = frozenset({FactKind.INTEGER, FactKind.DECIMAL, FactKind.ORDINAL})
_KINDS: Final = [k.value for k in FactKind]

# An output the reader has checked, made without OutputSpec's __init__ (its name, kind
# and values checked as its validators check them); the tests hold a table read so
# equal to one built through the constructors.
_output: Final[Callable[..., OutputSpec]] = settable_maker(OutputSpec, "being read")


def _is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``: a dict (what TOML and JSON give) by its class."""
    return value.__class__ is dict or isinstance(value, Mapping)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checks:
    """The problems found in a table, and the reading of its parts but the rules."""

    facts: Mapping[str, FactSpec]
    problems: list[Problem]
    declared: set[str]  # output names, including those with a bad kind

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def keys(self, data: Mapping[Any, object], allowed: tuple[str, ...], path: str) -> None:
        for key in data:
            if not isinstance(key, str):
                self.fail(path, f"{key!r} is not a key name")
            elif key not in allowed:
                self.fail(
                    _at(path, key),
                    f"unknown key{suggest(key, allowed)} (known: {', '.join(allowed)})",
                )

    def choice(self, value: object, enum: type[HitPolicy] | type[Aggregation], path: str) -> Any:
        members = _BY_VALUE[enum]
        if isinstance(value, str) and value in members:
            return members[value]
        names = list(members)
        if isinstance(value, float):
            self.fail(path, float_message(value))
        else:
            self.fail(path, f"{value!r} is not one of {', '.join(names)}{suggest(value, names)}")
        return None

    def text(self, data: Mapping[str, object], key: str, path: str) -> str:
        value = data.get(key, "")
        if isinstance(value, str):
            return value
        self.fail(_at(path, key), f"{value!r} is not a string")
        return ""

    # --- table parts -----------------------------------------------------------------

    def inputs(self, value: object) -> list[tuple[str, FactSpec | None]]:
        if not isinstance(value, list):
            self.fail("inputs", f"{value!r} is not a list of fact names")
            return []
        columns: list[tuple[str, FactSpec | None]] = []
        seen: set[str] = set()
        for i, name in enumerate(value):
            if not isinstance(name, str):
                self.fail(f"inputs[{i}]", f"{name!r} is not a fact name")
                continue
            if name in seen:
                self.fail(f"inputs[{i}]", f"{name!r} is listed twice")
                continue
            seen.add(name)
            spec = self.facts.get(name)
            if spec is None:
                where = f"inputs[{i}]"
                self.fail(where, f"{name!r} is not a known fact{suggest(name, self.facts)}")
            columns.append((name, spec))
        return columns

    def outputs(self, value: object) -> list[OutputSpec]:
        specs: list[OutputSpec] = []
        if _is_mapping(value):
            for name, spec in value.items():
                if not isinstance(name, str) or not name or name != name.strip():
                    self.fail(_at("outputs", str(name)), f"{name!r} is not an output name")
                    continue
                self.declared.add(name)
                if spec.__class__ is not str and _is_mapping(spec):  # (no ABC test for a kind)
                    self.keys(spec, OUTPUT_KEYS[1:], _at("outputs", name))
                made = self.output(name, spec)
                if made is not None:
                    specs.append(made)
        elif isinstance(value, list):
            seen: set[str] = set()
            for i, item in enumerate(value):
                path = f"outputs[{i}]"
                if not _is_mapping(item):
                    self.fail(path, f"{item!r} is not an output (name, kind, values)")
                    continue
                self.keys(item, OUTPUT_KEYS, path)
                name = item.get("name")
                if not isinstance(name, str) or not name or name != name.strip():
                    self.fail(_at(path, "name"), f"{name!r} is not an output name")
                    continue
                if name in seen:
                    self.fail(_at(path, "name"), f"{name!r} is listed twice")
                    continue
                seen.add(name)
                self.declared.add(name)
                made = self.output(name, {k: v for k, v in item.items() if k != "name"}, path)
                if made is not None:
                    specs.append(made)
        else:
            self.fail("outputs", f"{value!r} is not a mapping of output names to kinds")
            return []
        if not specs and (not isinstance(value, Mapping | list) or not value):
            self.fail("outputs", "a table needs at least one output")
        return specs

    def output(self, name: str, spec: object, path: str | None = None) -> OutputSpec | None:
        """The output ``name`` of kind ``spec``, or ``None`` with its problem at ``path``
        (``outputs.<name>`` unless given)."""
        description = ""
        if isinstance(spec, str):
            kind_text, _, values_text = spec.partition(":")
            kind_text = kind_text.strip()
            values = tuple(v.strip() for v in values_text.split(",")) if values_text else ()
        else:
            if path is None:
                path = _at("outputs", name)
            if not _is_mapping(spec):
                self.fail(path, f"{spec!r} is not a kind like 'decimal' or 'enum:T0,T1,T2'")
                return None
            kind_text = spec.get("kind")  # type: ignore[assignment]
            raw_values = spec.get("values", [])
            description = self.text(spec, "description", path)
            if not isinstance(raw_values, list):
                self.fail(_at(path, "values"), f"{raw_values!r} is not a list of values")
                return None
            values = tuple(raw_values)
        kinds = _KINDS
        if kind_text not in kinds:
            if path is None:
                path = _at("outputs", name)
            where = path if isinstance(spec, str) else _at(path, "kind")
            self.fail(
                where,
                f"{kind_text!r} is not a kind ({', '.join(kinds)}){suggest(kind_text, kinds)}",
            )
            return None
        kind = _KIND_BY_VALUE[kind_text]
        problem = values_problem(kind, values)
        if problem:
            if path is None:
                path = _at("outputs", name)
            self.fail(path if isinstance(spec, str) else _at(path, "values"), problem)
            return None
        return _output(name, kind, values, description)


def check_aggregation(r: Checks, aggregation: Aggregation, outputs: list[OutputSpec]) -> None:
    """A problem for each output an aggregation cannot fold (a sum needs numbers)."""
    if aggregation is Aggregation.COUNT:
        return
    fits = _SUMMABLE if aggregation is Aggregation.SUM else _ORDERABLE
    for spec in outputs:
        if spec.kind not in fits:
            wanted = " or ".join(sorted(k.value for k in fits))
            r.fail(
                _at("outputs", spec.name),
                f"{aggregation} needs {wanted} outputs, and {spec.name!r} is {spec.kind}",
            )
