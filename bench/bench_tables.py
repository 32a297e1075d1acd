"""Per-call latency of a first-hit decision table: cxrecovery against zen-engine and rule-engine.

Run: ``.venv/bin/python bench/bench_tables.py`` (``--quick`` for a smoke run).

Two equivalent tables, written once for each engine:

- 3 rows: ``tier == gold and severity >= 3 -> T3``; ``tier == gold -> T2``; else ``T1``,
  with the inputs cycling so that every row wins once in three calls;
- 300 rows: row *i* is ``segment == s<i> and severity >= 3``; the matching row is the
  second to last (the worst case for a scan), the last is a catch-all.

cxrecovery runs with its cheap trace on (every call returns matched/chosen/shadowed rows).
zen-engine runs through its fastest Python entry point, ``ZenEngine.evaluate(key, ctx)``
with the static loader (the decision parsed once and cached by the engine); a callback
loader that hands back a cached ``ZenDecisionContent`` is timed too. rule-engine runs a
list of compiled ``rule_engine.Rule`` objects tested in order (first hit). Peers are not
project dependencies: install them by hand (``.venv/bin/pip install zen-engine
rule-engine``); a missing peer is reported and skipped. Every engine is checked to give
the same answers before it is timed. Figures are medians over nine rounds, each round
timing every engine once in turn (a shared machine's speed drifts; taking the engines
in turn puts the drift on all of them alike).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import timeit
from collections.abc import Callable, Mapping
from typing import Any

from cxrecovery.tables import DecisionTable, FactKind, FactSpec

FACTS = {
    "tier": FactSpec("tier", FactKind.ENUM, ("gold", "silver", "bronze")),
    "segment": FactSpec("segment", FactKind.STRING),
    "severity": FactSpec("severity", FactKind.INTEGER),
}

# (conditions as (tier or segment, minimum severity or None), output) in rule order.
Row = tuple[str | None, int | None, str]


def small_rows() -> list[Row]:
    return [("gold", 3, "T3"), ("gold", None, "T2"), (None, None, "T1")]


def large_rows(n: int = 300) -> list[Row]:
    rows: list[Row] = [(f"s{i}", 3, f"T{i}") for i in range(n - 2)]
    rows.append(("target", 3, "HIT"))
    rows.append((None, None, "T1"))
    return rows


def cx_table(column: str, rows: list[Row]) -> DecisionTable:
    rules = []
    for value, minimum, out in rows:
        when: dict[str, object] = {}
        if value is not None:
            when[column] = value
        if minimum is not None:
            when["severity"] = f">= {minimum}"
        rules.append({"when": when, "then": {"out": out}})
    data = {
        "hit_policy": "first",
        "inputs": [column, "severity"],
        "outputs": {"out": "string"},
        "rules": rules,
    }
    return DecisionTable.from_dict("bench", data, facts=FACTS)


def jdm(column: str, rows: list[Row]) -> dict[str, Any]:
    rules = []
    for i, (value, minimum, out) in enumerate(rows):
        rules.append(
            {
                "_id": f"r{i}",
                "c1": "" if value is None else json.dumps(value),
                "c2": "" if minimum is None else f">= {minimum}",
                "o1": json.dumps(out),
            }
        )
    table = {
        "id": "t",
        "type": "decisionTableNode",
        "name": "table",
        "position": {"x": 0, "y": 0},
        "content": {
            "hitPolicy": "first",
            "inputs": [
                {"id": "c1", "name": column, "field": column},
                {"id": "c2", "name": "severity", "field": "severity"},
            ],
            "outputs": [{"id": "o1", "name": "out", "field": "out"}],
            "rules": rules,
        },
    }
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            table,
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
            {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"},
        ],
    }


def rule_engine_rules(column: str, rows: list[Row]) -> list[tuple[Any, str]]:
    import rule_engine  # an optional peer, imported only when installed

    compiled = []
    for value, minimum, out in rows:
        parts = []
        if value is not None:
            parts.append(f"{column} == {json.dumps(value)}")
        if minimum is not None:
            parts.append(f"severity >= {minimum}")
        compiled.append((rule_engine.Rule(" and ".join(parts) or "true"), out))
    return compiled


# An engine is its raw entry point (what is timed) and how to read the answer from what
# it returns (used only to check that the engines agree).
Engine = tuple[Callable[[Mapping[str, object]], Any], Callable[[Any], str]]


def engines(column: str, rows: list[Row]) -> dict[str, Engine | str]:
    found: dict[str, Engine | str] = {}
    table = cx_table(column, rows)
    found["cxrecovery `DecisionTable.evaluate` (cheap trace on)"] = (
        table.evaluate,
        lambda result: str(result.outputs["out"]),
    )
    try:
        import zen  # an optional peer, imported only when installed
    except ImportError:
        found["zen-engine"] = "not installed (.venv/bin/pip install zen-engine)"
    else:
        content = jdm(column, rows)
        static = zen.ZenEngine({"loader": {"type": "static", "content": {"t": content}}})
        cached = zen.ZenDecisionContent(json.dumps(content))
        callback = zen.ZenEngine({"loader": lambda key: cached})

        def zen_answer(response: Any) -> str:
            return str(response["result"]["out"])

        found["zen-engine `ZenEngine.evaluate`, static loader"] = (
            lambda facts: static.evaluate("t", facts),
            zen_answer,
        )
        found["zen-engine `ZenEngine.evaluate`, loader returning cached content"] = (
            lambda facts: callback.evaluate("t", facts),
            zen_answer,
        )
    try:
        compiled = rule_engine_rules(column, rows)
    except ImportError:
        found["rule-engine"] = "not installed (.venv/bin/pip install rule-engine)"
    else:

        def rule_loop(facts: Mapping[str, object]) -> str:
            for rule, out in compiled:
                if rule.matches(facts):
                    return out
            return ""

        found["rule-engine `Rule.matches`, first hit over the rows"] = (rule_loop, str)
    return found


def run(
    name: str, column: str, rows: list[Row], cases: list[dict[str, object]], quick: bool
) -> None:
    expected = [cx_table(column, rows).evaluate(c).outputs for c in cases]
    answers = [str(o["out"]) for o in expected if isinstance(o, Mapping)]
    print(f"\n{name}: {len(rows)} rows, answers {answers}")
    print("| engine | median µs per call | ratio to cxrecovery |\n|---|---:|---:|")
    # Timed round-robin: each of the ``repeat`` rounds times every engine once, so a
    # change in the machine's speed during the run falls on all of them alike.
    timed: list[tuple[str, Callable[[], None], int]] = []
    for label, engine in engines(column, rows).items():
        if isinstance(engine, str):
            print(f"| {label} | skipped: {engine} | |")
            continue
        call, answer = engine
        got = [answer(call(c)) for c in cases]
        if got != answers:
            sys.exit(f"{label} disagrees: {got} != {answers}")
        per_call = 1.0
        if "rule-engine" in label and len(rows) > 3:
            per_call = 0.02  # a 300-row scan takes ~1 ms a call: fewer calls, same medians
        number = max(1, int((2_000 if quick else 20_000) * per_call) // len(cases))

        def cycle(call: Callable[[Mapping[str, object]], Any] = call) -> None:
            for c in cases:
                call(c)

        timed.append((label, cycle, number))
    rounds: dict[str, list[float]] = {label: [] for label, _, _ in timed}
    for _ in range(3 if quick else 9):
        for label, cycle, number in timed:
            seconds = timeit.timeit(cycle, number=number)
            rounds[label].append(seconds / (number * len(cases)) * 1e6)
    base = None
    for label, _, _ in timed:
        us = statistics.median(rounds[label])
        base = base or us
        print(f"| {label} | {us:.2f} | {us / base:.1f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    small_cases: list[dict[str, object]] = [
        {"tier": "gold", "severity": 4},
        {"tier": "gold", "severity": 1},
        {"tier": "silver", "severity": 5},
    ]
    run("3-row table", "tier", small_rows(), small_cases, args.quick)
    large_cases: list[dict[str, object]] = [{"segment": "target", "severity": 4}]
    run("300-row table", "segment", large_rows(), large_cases, args.quick)


if __name__ == "__main__":
    main()
