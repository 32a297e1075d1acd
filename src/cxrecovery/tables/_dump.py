"""Writing a decision table back in its canonical document form."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from cxrecovery.tables._literals import Scalar
from cxrecovery.tables._model import Aggregation, HitPolicy, Rule
from cxrecovery.tables.vocabulary import OutputSpec

__all__ = ["dump"]

_SHORTHAND_SAFE: Final = frozenset(",:")


def _output_data(spec: OutputSpec) -> object:
    safe = all(not (_SHORTHAND_SAFE & set(v)) for v in spec.values)
    if spec.description or not safe:
        data: dict[str, object] = {"kind": spec.kind.value}
        if spec.values:
            data["values"] = list(spec.values)
        if spec.description:
            data["description"] = spec.description
        return data
    if spec.values:
        return f"{spec.kind.value}:{','.join(spec.values)}"
    return spec.kind.value


def _value_data(value: Scalar) -> object:
    return str(value) if isinstance(value, Decimal) else value


def dump(
    hit_policy: HitPolicy,
    aggregation: Aggregation | None,
    description: str,
    inputs: tuple[str, ...],
    outputs: tuple[OutputSpec, ...],
    rules: tuple[Rule, ...],
) -> dict[str, object]:
    """The canonical document form of a table (see ``docs/decision-tables.md``)."""
    data: dict[str, object] = {"hit_policy": hit_policy.value}
    if aggregation is not None:
        data["aggregation"] = aggregation.value
    if description:
        data["description"] = description
    data["inputs"] = list(inputs)
    data["outputs"] = {spec.name: _output_data(spec) for spec in outputs}
    out_rules: list[dict[str, object]] = []
    for rule in rules:
        item: dict[str, object] = {"id": rule.id}
        if hit_policy is HitPolicy.PRIORITY:
            item["priority"] = rule.priority
        item["when"] = {c.column: c.to_data() for c in rule.conditions if not c.is_any}
        item["then"] = {k: _value_data(v) for k, v in rule.outputs.items()}
        if rule.source:
            item["source"] = rule.source
        out_rules.append(item)
    data["rules"] = out_rules
    return data
