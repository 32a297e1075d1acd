"""The engine's memo of table results: keyed by the plain values of the facts a table
reads, so that it never changes what a plan says."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxrecovery import Engine, FactKind, FactSpec, default_policy, load_case, load_policy
from cxrecovery.engine._slots import picker, plain
from cxrecovery.facts import BUILTIN_FACTS, derive_facts
from cxrecovery.model import Attributes
from cxrecovery.testing.strategies import cases

CASES = Path(__file__).parent.parent / "examples" / "cases"
ENGINE = Engine(default_policy())
# The one class derive_facts gives each kind of fact: the memo keys a built-in fact by
# its plain value alone because of it.
_CLASSES = {
    FactKind.BOOLEAN: bool,
    FactKind.INTEGER: int,
    FactKind.DECIMAL: Decimal,
    FactKind.ENUM: str,
    FactKind.ORDINAL: str,
    FactKind.STRING: str,
}


@settings(max_examples=60)
@given(cases(policy=default_policy()), st.integers(0, 400))
def test_each_built_in_fact_has_the_one_class_of_its_kind(case: Any, hours: int) -> None:
    at = case.last_event_at() + timedelta(hours=hours)
    facts, _ = derive_facts(case, at, ENGINE._settings)
    assert set(facts) == set(BUILTIN_FACTS)
    for name, value in facts.items():
        assert type(value) is _CLASSES[BUILTIN_FACTS[name].kind], (name, value)


class _Years:
    """A host fact declared as a decimal, given as an int or as a Decimal."""

    def __init__(self, value: object) -> None:
        self.value = value

    def specs(self) -> dict[str, FactSpec]:
        return {"loyalty_years": FactSpec("loyalty_years", FactKind.DECIMAL)}

    def compute(self, case: Any, at: datetime) -> dict[str, object]:
        return {"loyalty_years": self.value}


def _policy_reading_loyalty() -> Any:
    document = copy.deepcopy(default_policy().document)
    targets = document["clocks"]["limbo"]["targets"]
    targets["inputs"].append("loyalty_years")
    for rule in targets["rules"]:
        rule.setdefault("when", {})["loyalty_years"] = ">= 0"
    return load_policy(document)


def _limbo_inputs(engine: Engine, years: _Years, value: object) -> object:
    years.value = value
    data = json.loads((CASES / "laptop-repair.json").read_text())
    case = load_case(data)
    plan = engine.decide(case, at=case.last_event_at())
    (trace,) = [t for t in plan.trace if t.table == "clocks.limbo.targets"]
    return trace.inputs["loyalty_years"]


def test_equal_host_values_of_different_classes_are_not_shared_in_the_memo() -> None:
    years = _Years(1)
    engine = Engine(_policy_reading_loyalty(), facts=[years])
    # 1, Decimal("1") and Decimal("1.0") are equal and the table reads them alike, but a
    # plan shows them as 1, "1" and "1.0": each decision shows its own.
    assert 1 == _limbo_inputs(engine, years, 1)
    assert "1" == _limbo_inputs(engine, years, Decimal("1"))
    assert "1.0" == _limbo_inputs(engine, years, Decimal("1.0"))
    assert 1 == _limbo_inputs(engine, years, 1)


def test_a_built_in_decimal_fact_is_keyed_by_its_digits() -> None:
    document = copy.deepcopy(default_policy().document)
    targets = document["clocks"]["limbo"]["targets"]
    targets["inputs"].append("expectation_ratio")
    for rule in targets["rules"]:
        rule.setdefault("when", {})["expectation_ratio"] = ">= 0"
    engine = Engine(load_policy(document))
    data = json.loads((CASES / "laptop-repair.json").read_text())
    shown = []
    # Equal ratios with other digits: the plan shows each as the case gives it, in the
    # facts and in the trace of the table that reads it, decided by one engine.
    for ratio in ("0.5", "0.50", "0.5"):
        changed = copy.deepcopy(data)
        changed["customer"]["expectation"] = {"compensation_ratio": ratio}
        case = load_case(changed)
        plan = engine.decide(case, at=case.last_event_at())
        (trace,) = [t for t in plan.trace if t.table == "clocks.limbo.targets"]
        shown.append((plan.facts["expectation_ratio"], trace.inputs["expectation_ratio"]))
    assert [("0.5", "0.5"), ("0.50", "0.50"), ("0.5", "0.5")] == shown


def test_limbo_hours_is_worked_out_when_the_plan_s_facts_are_read() -> None:
    # No table of the default policy reads limbo_hours: the decision leaves it for the
    # plan's facts, which show what derive_facts gives.
    assert not ENGINE._compiled.reads_limbo
    data = json.loads((CASES / "laptop-repair.json").read_text())
    case = load_case(data)
    at = case.last_event_at() + timedelta(hours=30)
    expected = ENGINE.facts(case, at)["limbo_hours"]
    assert isinstance(expected, Decimal)
    assert expected > 0
    plan = ENGINE.decide(case, at=at)
    assert str(expected) == plan.facts["limbo_hours"]
    assert plan.facts == ENGINE.decide(case, at=at, explain=True).facts


def test_a_table_that_reads_limbo_hours_decides_with_it() -> None:
    document = copy.deepcopy(default_policy().document)
    targets = document["clocks"]["limbo"]["targets"]
    targets["inputs"].append("limbo_hours")
    for rule in targets["rules"]:
        rule.setdefault("when", {})["limbo_hours"] = ">= 0"
    engine = Engine(load_policy(document))
    assert engine._compiled.reads_limbo
    data = json.loads((CASES / "laptop-repair.json").read_text())
    case = load_case(data)
    at = case.last_event_at() + timedelta(hours=30)
    plan = engine.decide(case, at=at)
    (trace,) = [t for t in plan.trace if t.table == "clocks.limbo.targets"]
    assert str(engine.facts(case, at)["limbo_hours"]) == trace.inputs["limbo_hours"]


def _picked_plainly(facts: dict[str, object], names: tuple[str, ...]) -> Attributes:
    """A trace's inputs as the plan shows them: every fact the table read, by name in
    sorted order, each as ``plain`` makes it (the definition ``picker`` stands for)."""
    return Attributes._from_sorted(tuple((n, plain(facts[n])) for n in names if n in facts))


_LOYAL = Engine(_policy_reading_loyalty(), facts=[_Years(Decimal("2.50"))])


@settings(max_examples=60)
@given(
    cases(policy=default_policy()),
    st.integers(0, 400),
    st.sampled_from([1, 0, True, Decimal("2.50"), Decimal("2.5"), None, "x"]),
)
def test_a_trace_picks_the_plain_values_of_the_facts_its_table_read(
    case: Any, hours: int, loyalty: object
) -> None:
    at = case.last_event_at() + timedelta(hours=hours)
    facts, _ = derive_facts(case, at, ENGINE._settings)
    # A host fact of any class (the picker does not check kinds: the table did), and
    # the decimal facts, which a plan shows as text.
    facts["loyalty_years"] = loyalty
    compiled = _LOYAL._compiled
    slots = [*compiled.slots.values(), *ENGINE._compiled.slots.values()]
    assert any("loyalty_years" in s.inputs for s in slots)
    specs = {**BUILTIN_FACTS, "loyalty_years": FactSpec("loyalty_years", FactKind.DECIMAL)}
    extra = [
        (("expectation_ratio", "severity"), picker(("expectation_ratio", "severity"), specs)),
        (("relationship_score",), picker(("relationship_score",), specs)),
        (("loyalty_years",), picker(("loyalty_years",), specs)),
        (("contacts",), picker(("contacts",), specs)),
        ((), picker((), specs)),
    ]
    for names, picked in [*((s.inputs, s.picked) for s in slots), *extra]:
        found = picked(facts)
        expected = _picked_plainly(facts, names)
        assert found == expected
        assert [type(v) for v in found.values()] == [type(v) for v in expected.values()]


@settings(max_examples=30)
@given(cases(policy=default_policy()), st.integers(0, 400))
def test_a_trace_made_on_first_read_is_the_trace_explain_makes_now(case: Any, hours: int) -> None:
    # A table's trace is made when a plan's trace is first read, from the result its
    # memo entry holds; a later decision that hits the entry shares it. Both are the
    # trace an explained decision makes at once, less the rows' why-not.
    engine = Engine(default_policy())
    at = case.last_event_at() + timedelta(hours=hours)
    missed = engine.decide(case, at=at)
    hit = engine.decide(case, at=at)
    explained = engine.decide(case, at=at, explain=True)
    expected = [(t.table, t.inputs, t.matched, t.chosen, t.shadowed) for t in explained.trace]
    for plan in (hit, missed, hit):
        found = [
            (t.table, t.inputs, t.matched, t.chosen, t.shadowed, t.why_not) for t in plan.trace
        ]
        assert found == [(*e, ()) for e in expected]


class _Shown(Decimal):
    """A host's decimal of a class of its own, whose text the host may change."""

    text = "one"

    def __str__(self) -> str:
        if self.text == "broken":
            raise RuntimeError("the host's value cannot be shown")
        return self.text


def _decided(engine: Engine) -> Any:
    case = load_case(json.loads((CASES / "laptop-repair.json").read_text()))
    return engine.decide(case, at=case.last_event_at())


def test_a_host_value_of_its_own_class_is_shown_as_it_was_when_decided() -> None:
    # The facts and the trace a plan shows are its decision's: a host value of a class
    # of its own (not memoised) is formatted in decide(), not on the plan's first read,
    # so a later change to it, or a failure to format it, cannot reach the plan.
    engine = Engine(_policy_reading_loyalty(), facts=[_Years(_Shown(1))])
    try:
        _Shown.text = "one"
        plan = _decided(engine)
        _Shown.text = "two"
        (trace,) = [t for t in plan.trace if t.table == "clocks.limbo.targets"]
        assert ("one", "one") == (trace.inputs["loyalty_years"], plan.facts["loyalty_years"])
        _Shown.text = "broken"
        with pytest.raises(RuntimeError, match="cannot be shown"):
            _decided(engine)
    finally:
        _Shown.text = "one"
