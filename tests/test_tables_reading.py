"""The table reader reads a table's plain rules in one pass (``_Reader.plain_rules``) and
each rule on its own when one is not: either way, the same table or the same problems."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.test_tables_properties import FACTS, JUNK, _paths, tables

from cxrecovery.errors import PolicyError
from cxrecovery.tables import DecisionTable
from cxrecovery.tables._build import _Reader


def _read(document: object) -> object:
    """The table read, or its problems in the order found."""
    try:
        table = DecisionTable.from_dict("t", document, facts=FACTS, path="tables.t")  # type: ignore[arg-type]
    except PolicyError as error:
        return [(p.path, p.message) for p in error.problems]
    return table, table._index.columns


def _read_rule_by_rule(document: object, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patched:
        patched.setattr(_Reader, "plain_rules", lambda self, value, width: None)
        return _read(document)


# What breaks a rule's plainness (or not): each the value set at a key of the rule.
_RULE_CHANGES = st.sampled_from(
    [
        ("id", " row0"),
        ("id", ""),
        ("id", 3),
        ("id", "row1"),
        ("when", []),
        ("when", {"nothing": "-"}),
        ("then", {}),
        ("then", {"n": 1, "m": 2}),
        ("then", []),
        ("source", 3),
        ("source", "a source"),
        ("priority", 1),
        ("other", 1),
        (1, 1),
    ]
)


@given(tables(), st.data())
def test_rules_read_in_one_pass_are_the_rules_read_one_by_one(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    document = copy.deepcopy(data)
    for _ in range(draw.draw(st.integers(0, 2))):
        rules = document["rules"]
        if draw.draw(st.booleans()):
            rule = rules[draw.draw(st.integers(0, len(rules) - 1))]
            key, value = draw.draw(_RULE_CHANGES)
            if not isinstance(rule, dict):
                continue
            if draw.draw(st.booleans()) and key in rule:
                del rule[key]
            else:
                rule[key] = copy.deepcopy(value)
        else:
            path = draw.draw(st.sampled_from(_paths(rules)))
            if not path:
                continue
            parent: Any = rules
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = draw.draw(JUNK)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _read(document) == _read_rule_by_rule(document, monkeypatch)
