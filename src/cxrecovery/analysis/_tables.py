"""Findings on one decision table, by its hit policy, from an exact sweep."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from cxrecovery.analysis._findings import Finding, FindingSeverity
from cxrecovery.analysis._sweep import Region, example, regions
from cxrecovery.limits import SUPPORTED_TABLE_ROWS
from cxrecovery.tables import Aggregation, Condition, DecisionTable, FactKind, HitPolicy, Rule

__all__ = ["analyze_table"]

_SINGLE = frozenset({HitPolicy.UNIQUE, HitPolicy.FIRST, HitPolicy.PRIORITY, HitPolicy.ANY})
_E, _W = FindingSeverity.ERROR, FindingSeverity.WARNING


def _signature(condition: Condition) -> object:
    """What a cell admits, whatever way it is written (``<= medium`` = ``low, medium``)."""
    kind = condition.kind
    if condition.is_any:
        return "any"
    if kind in (FactKind.INTEGER, FactKind.DECIMAL):
        return condition.intervals()
    if kind is FactKind.STRING:
        return (condition.negated, condition.literals)
    admitted = condition.values()
    domain = (False, True) if kind is FactKind.BOOLEAN else condition.fact.values
    return "any" if set(admitted) == set(domain) else admitted


def _bits(mask: int) -> list[int]:
    out: list[int] = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def _winner(table: DecisionTable, mask: int) -> int | None:
    """The row whose outputs a single-hit table gives for this set of matching rows."""
    rows = _bits(mask)
    if not rows:
        return None
    if table.hit_policy is HitPolicy.PRIORITY:
        best = rows[0]
        for i in rows:
            if table.rules[i].priority > table.rules[best].priority:
                best = i
        return best
    return rows[0]


def _outcome(table: DecisionTable, mask: int) -> object:
    rules = table.rules
    if table.hit_policy in _SINGLE:
        won = _winner(table, mask)
        return None if won is None else rules[won].outputs
    picked = [rules[i] for i in _bits(mask)]
    if table.aggregation in (Aggregation.MIN, Aggregation.MAX):
        if not picked:
            return None
        pick = min if table.aggregation is Aggregation.MIN else max
        folded: dict[str, object] = {}
        for spec in table.outputs:
            values = [r.outputs[spec.name] for r in picked]
            if spec.kind is FactKind.ORDINAL:
                folded[spec.name] = pick(values, key=spec.values.index)
            else:
                folded[spec.name] = pick(values, key=lambda v: Decimal(v))
        return folded
    return tuple(r.outputs for r in picked)


def _facts(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "any facts"


def _ids(table: DecisionTable, rows: list[int] | set[int]) -> str:
    return ", ".join(table.rules[i].id for i in sorted(rows))


def _rule_path(path: str, rule: Rule) -> str:
    return f"{path}.rules[{rule.id}]"


def analyze_table(table: DecisionTable, *, path: str | None = None) -> list[Finding]:
    """Prove what can be proved about one table: gaps, overlaps, dead and duplicate rows.

    Args:
        table: a compiled table.
        path: where it sits in its policy document (default: the table's own path).

    Returns:
        The findings, in table order.

    .. versionadded:: 0.1.0
    """
    where = path or table.path or f"tables.{table.name}"
    found = regions(table)
    findings = _size(table, where)
    findings += _gaps(table, where, found)
    findings += _overlaps(table, where, found)
    duplicated, duplicates, twins = _duplicates(table, where)
    findings += duplicated
    findings += _shadowed(table, where, found, duplicates)
    policy = table.hit_policy
    redundant_policies = _SINGLE - {HitPolicy.UNIQUE}
    if policy in redundant_policies or table.aggregation in (Aggregation.MIN, Aggregation.MAX):
        findings.extend(_subsumed(table, where, found, twins))
    return findings


def _size(table: DecisionTable, where: str) -> list[Finding]:
    if len(table.rules) <= SUPPORTED_TABLE_ROWS:
        return []
    return [
        Finding(
            "table.large",
            FindingSeverity.WARNING,
            f"{where}.rules",
            f"{len(table.rules)} rows, above the {SUPPORTED_TABLE_ROWS} a table is supported "
            "with: compiling it takes time and memory that grow with the square of its rows",
        )
    ]


def _gaps(table: DecisionTable, where: str, found: list[Region]) -> list[Finding]:
    """A single-hit table's uncovered inputs."""
    policy = table.hit_policy
    findings: list[Finding] = []
    if policy in _SINGLE:
        holes = [r for r in found if r.mask == 0]
        if holes:
            more = f" (and {len(holes) - 1} more uncovered region(s))" if len(holes) > 1 else ""
            values = example(table, holes[0])
            findings.append(
                Finding(
                    "table.gap",
                    _E,
                    where,
                    f"no row matches {_facts(values)}{more}; a {policy} table gives nothing there",
                    example=values,
                )
            )
    return findings


def _overlaps(table: DecisionTable, where: str, found: list[Region]) -> list[Finding]:
    """Rows a unique table lets overlap, and overlapping rows of an any table that disagree."""
    policy = table.hit_policy
    rules = table.rules
    findings: list[Finding] = []
    pairs: dict[tuple[int, int], Region] = {}
    for region in found:
        rows = _bits(region.mask)
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                pairs.setdefault((rows[a], rows[b]), region)
    if policy is HitPolicy.UNIQUE:
        for (a, b), region in sorted(pairs.items()):
            values = example(table, region)
            findings.append(
                Finding(
                    "table.overlap",
                    _E,
                    _rule_path(where, rules[b]),
                    f"overlaps {rules[a].id}: both match {_facts(values)}, and a unique table "
                    "allows one",
                    example=values,
                )
            )
    if policy is HitPolicy.ANY:
        for (a, b), region in sorted(pairs.items()):
            if rules[a].outputs != rules[b].outputs:
                values = example(table, region)
                findings.append(
                    Finding(
                        "table.conflict",
                        _E,
                        _rule_path(where, rules[b]),
                        f"matches {_facts(values)} together with {rules[a].id} but gives other "
                        "outputs; an any table needs overlapping rows to agree",
                        example=values,
                    )
                )
    return findings


def _duplicates(table: DecisionTable, where: str) -> tuple[list[Finding], set[int], set[int]]:
    """Rows with the same conditions as an earlier one (and those rows, and every twin)."""
    rules = table.rules
    findings: list[Finding] = []
    signatures = [tuple(_signature(c) for c in rule.conditions) for rule in rules]
    duplicates: set[int] = set()
    twins: set[int] = set()
    for j in range(len(rules)):
        for i in range(j):
            if signatures[i] == signatures[j]:
                twins.update((i, j))
                same = rules[i].outputs == rules[j].outputs
                findings.append(
                    Finding(
                        "table.duplicate",
                        _W if same else _E,
                        _rule_path(where, rules[j]),
                        f"has the same conditions as {rules[i].id}"
                        + (" and the same outputs" if same else " but other outputs"),
                    )
                )
                duplicates.add(j)
                break
    return findings, duplicates, twins


def _shadowed(
    table: DecisionTable, where: str, found: list[Region], duplicates: set[int]
) -> list[Finding]:
    """Rows of a first or priority table that never apply."""
    policy = table.hit_policy
    rules = table.rules
    findings: list[Finding] = []
    if policy in (HitPolicy.FIRST, HitPolicy.PRIORITY):
        wins: dict[int, list[Region]] = {}
        takers: dict[int, set[int]] = {}
        for region in found:
            won = _winner(table, region.mask)
            if won is None:
                continue
            wins.setdefault(won, []).append(region)
            for i in _bits(region.mask):
                if i != won:
                    takers.setdefault(i, set()).add(won)
        for i, rule in enumerate(rules):
            if i in duplicates or i in wins:
                continue
            by = "earlier rows" if policy is HitPolicy.FIRST else "rows that win over it"
            findings.append(
                Finding(
                    "table.shadowed",
                    _W,
                    _rule_path(where, rule),
                    f"never applies: every input it matches is taken by {by} "
                    f"({_ids(table, takers.get(i, set()))})",
                )
            )
    return findings


def _subsumed(
    table: DecisionTable, where: str, found: list[Region], skip: set[int]
) -> list[Finding]:
    """Rows that change nothing: wherever they apply, the table without them agrees."""
    out: list[Finding] = []
    rules = table.rules
    single = table.hit_policy in _SINGLE
    for i, rule in enumerate(rules):
        if i in skip:
            continue
        bit = 1 << i
        applies = False
        redundant = True
        instead: set[int] = set()
        for region in found:
            if not region.mask & bit:
                continue
            if single and _winner(table, region.mask) != i:
                continue
            applies = True
            without = region.mask & ~bit
            if _outcome(table, without) != _outcome(table, region.mask) or not without:
                redundant = False
                break
            if single:
                other = _winner(table, without)
                if other is not None:
                    instead.add(other)
            else:
                instead.update(_bits(without))
        if applies and redundant:
            out.append(
                Finding(
                    "table.subsumed",
                    _W,
                    _rule_path(where, rule),
                    "changes nothing: wherever it applies, "
                    f"{_ids(table, instead)} give(s) the same outputs without it",
                )
            )
    return out
