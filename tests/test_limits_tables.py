"""How many rows and inputs a decision table in a policy may have (``Limits``), and the
linter's warning for a table above the supported size."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from cxrecovery import CxRecoveryError, Limits, PolicyError, load_policy
from cxrecovery.analysis import _tables
from cxrecovery.analysis._tables import analyze_table
from cxrecovery.limits import SUPPORTED_TABLE_ROWS
from cxrecovery.tables import DecisionTable, FactKind, FactSpec


def default_document() -> dict[str, Any]:
    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_defaults_admit_the_default_policy_and_are_the_supported_size() -> None:
    limits = Limits()
    assert limits.max_table_rows == SUPPORTED_TABLE_ROWS
    assert limits.max_table_inputs >= 10
    assert load_policy(default_document(), limits=limits) is not None


def test_a_table_with_more_rows_than_the_limit_is_refused_with_its_path() -> None:
    document = default_document()
    rows = len(document["tables"]["recovery"]["rules"])
    with pytest.raises(PolicyError) as caught:
        load_policy(document, limits=Limits(max_table_rows=rows - 1))
    paths = [p.path for p in caught.value.problems]
    assert "tables.recovery.rules" in paths
    message = next(p.message for p in caught.value.problems if p.path == "tables.recovery.rules")
    assert "max_table_rows" in message
    assert str(rows) in message


def test_a_host_may_raise_the_row_limit() -> None:
    document = default_document()
    rows = max(len(t["rules"]) for t in document["tables"].values())
    assert load_policy(document, limits=Limits(max_table_rows=rows)) is not None


def test_a_table_with_more_inputs_than_the_limit_is_refused_and_a_host_may_raise_it() -> None:
    document = default_document()
    inputs = len(document["tables"]["escalation"]["inputs"])
    with pytest.raises(PolicyError) as caught:
        load_policy(document, limits=Limits(max_table_inputs=inputs - 1))
    assert [p.path for p in caught.value.problems] == ["tables.escalation.inputs"]
    assert "max_table_inputs" in caught.value.problems[0].message
    assert load_policy(document, limits=Limits(max_table_inputs=inputs)) is not None


def test_the_limits_refuse_a_bound_below_one() -> None:
    with pytest.raises(CxRecoveryError, match="max_table_rows"):
        Limits(max_table_rows=0)


def small_table(rows: int) -> DecisionTable:
    facts = {"n": FactSpec("n", FactKind.INTEGER)}
    data = {
        "hit_policy": "first",
        "inputs": ["n"],
        "outputs": {"o": "integer"},
        "rules": [[f">= {rows - r}", r] for r in range(rows)] + [["-", rows]],
    }
    return DecisionTable.from_dict("t", data, facts=facts, path="tables.t")


def test_the_linter_warns_about_a_table_above_the_supported_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = small_table(4)  # five rows
    assert not [f for f in analyze_table(table) if f.code == "table.large"]
    monkeypatch.setattr(_tables, "SUPPORTED_TABLE_ROWS", 4)
    large = [f for f in analyze_table(table) if f.code == "table.large"]
    assert [(f.severity.value, f.path) for f in large] == [("warning", "tables.t.rules")]
    assert "5 rows" in large[0].message
    monkeypatch.setattr(_tables, "SUPPORTED_TABLE_ROWS", 5)
    assert not [f for f in analyze_table(table) if f.code == "table.large"]
