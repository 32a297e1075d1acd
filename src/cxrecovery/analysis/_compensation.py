"""Findings on compensation: tiers above the hard cap, compensation that falls as
severity or history rises, an approval no role can give."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Final

from cxrecovery.analysis._findings import Finding, FindingSeverity
from cxrecovery.analysis._sweep import Cell, column_cells
from cxrecovery.engine.goodwill import goodwill
from cxrecovery.errors import InvalidValueError
from cxrecovery.facts import BUILTIN_FACTS, HISTORY_LEVELS
from cxrecovery.model import Severity
from cxrecovery.policy import Policy
from cxrecovery.tables import DecisionTable, FactSpec, Scalar

__all__ = ["compensation_findings"]

_E, _W = FindingSeverity.ERROR, FindingSeverity.WARNING
# Past this many fact combinations the monotonicity sweep would be slow; a table that
# wide is reported as not checked rather than sampled.
_MONOTONE_LIMIT: Final = 200_000
_NON_CRITICAL: Final = tuple(s.value for s in Severity if s is not Severity.CRITICAL)


def _fmt(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# --- compensation ------------------------------------------------------------------------


def _ratio(policy: Policy, table: DecisionTable, facts: Mapping[str, object]) -> Decimal | None:
    """The goodwill share of the value at stake the engine proposes for these facts,
    before the customer's own expectation, with no lateness or downtime: the engine's
    own rule (:func:`cxrecovery.engine.goodwill.goodwill`)."""
    comp = policy.compensation
    try:
        outputs = table.evaluate(facts).outputs
    except InvalidValueError:
        return None  # an overlap in a unique table: reported as a table finding
    if not isinstance(outputs, Mapping):
        return None
    return goodwill(
        comp,
        comp.tier(str(outputs["tier"])),
        fault=facts["fault"],
        history=facts["history"],
        effort=facts["effort"],
    ).ratio


def _combinations(
    table: DecisionTable, fixed: Sequence[str]
) -> Iterator[dict[str, Scalar]] | None:
    """Every combination of cells of the table's other inputs, plus fault and effort."""
    names: list[str] = []
    cells: list[list[Cell]] = []
    extra = {"fault": BUILTIN_FACTS["fault"], "effort": BUILTIN_FACTS["effort"]}
    columns: dict[str, FactSpec] = {**dict(zip(table.inputs, table.input_facts, strict=True))}
    for name, spec in extra.items():
        columns.setdefault(name, spec)
    derived = {"severity", "history", "critical", "double_deviation", *fixed}
    for name, spec in columns.items():
        if name in derived:
            continue
        conditions = (
            [r.conditions[table.inputs.index(name)] for r in table.rules]
            if name in table.inputs
            else []
        )
        names.append(name)
        cells.append(column_cells(spec, conditions))
    size = 1
    for group in cells:
        size *= len(group)
    if size > _MONOTONE_LIMIT:
        return None
    return (
        {name: cell.value for name, cell in zip(names, combo, strict=True)}
        for combo in itertools.product(*cells)
    )


def _monotone(
    policy: Policy, table: DecisionTable, dimension: str, levels: Sequence[str]
) -> Finding | None:
    other = "history" if dimension == "severity" else "severity"
    other_levels = HISTORY_LEVELS if other == "history" else _NON_CRITICAL
    combos = _combinations(table, ())
    if combos is None:
        return Finding(
            "compensation.not_checked",
            _W,
            f"tables.{table.name}",
            f"too many fact combinations to check that compensation rises with {dimension}",
        )
    for base in combos:
        for fixed in other_levels:
            best: tuple[str, Decimal] | None = None
            for level in levels:
                facts: dict[str, object] = {**base, dimension: level, other: fixed}
                facts["critical"] = facts["severity"] == Severity.CRITICAL
                facts["double_deviation"] = facts["history"] == "double_deviation"
                ratio = _ratio(policy, table, facts)
                if ratio is None:
                    continue
                if best is not None and ratio < best[1]:
                    shown = {k: v for k, v in facts.items() if k != dimension}
                    return Finding(
                        "compensation.not_monotone",
                        _E,
                        f"tables.{table.name}",
                        f"compensation falls from {_fmt(best[1])} to {_fmt(ratio)} of the value "
                        f"at stake as {dimension} rises from {best[0]} to {level}, all else "
                        "equal",
                        example={dimension: f"{best[0]} -> {level}", **shown},
                    )
                if best is None or ratio >= best[1]:
                    best = (level, ratio)
    return None


def compensation_findings(policy: Policy, tables: Mapping[str, DecisionTable]) -> list[Finding]:
    """Tiers above the hard cap, non-monotone compensation, an unreachable approval."""
    comp = policy.compensation
    findings: list[Finding] = [
        Finding(
            "compensation.tier_above_cap",
            _E,
            f"compensation.tiers[{i}]",
            f"tier {tier.name} reaches {tier.max}, above the hard cap {comp.hard_cap_ratio}: "
            "its top is never paid",
        )
        for i, tier in enumerate(comp.tiers)
        if tier.max > comp.hard_cap_ratio
    ]
    table = tables.get(comp.table)
    if table is not None:
        for dimension, levels in (("severity", _NON_CRITICAL), ("history", HISTORY_LEVELS)):
            found = _monotone(policy, table, dimension, levels)
            if found is not None:
                findings.append(found)
    lowest = policy.roles[0].rank if policy.roles else 0
    approvers = [r for r in policy.roles if r.rank > lowest]
    able = [r for r in approvers if r.max_ratio is None or r.max_ratio >= comp.hard_cap_ratio]
    if not able:
        best = max((r.max_ratio for r in approvers if r.max_ratio is not None), default=None)
        who = (
            f"the most any role above the front line may grant is {best}"
            if best is not None
            else "there is no role above the front line"
        )
        findings.append(
            Finding(
                "compensation.approval_unreachable",
                _E,
                "compensation.approval_above_ratio",
                f"compensation above {comp.approval_above_ratio} needs an approval, and may "
                f"reach the hard cap {comp.hard_cap_ratio}, but {who}: such grants can "
                "never be approved",
            )
        )
    return findings
