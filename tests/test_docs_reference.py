"""The reference pages made at docs build time: complete, and in step with the code."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from cxrecovery import default_policy, load_policy
from cxrecovery.analysis import category_findings
from cxrecovery.cli import main

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import cxrecovery_reference as ext  # noqa: E402


def test_the_default_policy_page_lists_every_role_limit_row_and_category() -> None:
    page = ext.default_policy_markdown()
    policy = default_policy()
    for role in policy.roles:
        assert f"`{role.name}`" in page
        for money in role.max_per_case.values():
            assert str(money.amount) in page
    for name, table in policy.tables.items():
        assert f"### `{name}`" in page
        for rule in table["rules"]:
            assert f"`{rule['id']}`" in page
    for clock in policy.clocks:
        assert f"### `{clock.name}`" in page
    for calendar in policy.calendars:
        assert f"`{calendar}`" in page
    for category in ("wrong_order", "missed_callback", "missed_appointment"):
        assert f"| `{category}` | `tables.remedy[" in page
    # a number's source comes from the file's comment
    assert "Gelbrich et al. 2015" in page
    assert "look-back for repeat failures" in page


def test_the_cli_page_has_every_command() -> None:
    page = ext.cli_reference()
    for command in ("decide", "explain", "check", "simulate", "synth", "schema", "show"):
        assert f"## `cxrecovery {command}`" in page
    assert "## `cxrecovery policy diff`" in page
    assert "--resolved" in page


def test_a_category_no_row_names_is_a_finding() -> None:
    findings = category_findings(default_policy(), {"billing_dispute": 3, "wrong_order": 2})
    assert ["cases.category_unnamed"] == [f.code for f in findings]
    assert "'billing_dispute' (3 case(s))" in findings[0].message


def test_check_with_cases_reports_unnamed_categories(tmp_path: Path) -> None:
    case = json.loads((ROOT / "examples" / "cases" / "coffee-order.json").read_text())
    lines = []
    for category in ("wrong_order", "kaputt"):
        case["failure"]["category"] = category
        lines.append(json.dumps(case))
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    assert 1 == main(["check", "default", "--cases", str(cases)], out=out)
    assert "'kaputt' (1 case(s))" in out.getvalue()
    assert "wrong_order" not in out.getvalue()


@pytest.mark.parametrize("policy", ["default", str(ROOT / "examples/host-tests/policy.toml")])
def test_every_category_of_the_page_is_named_by_a_row(policy: str) -> None:
    names = ("wrong_order", "wrong_item", "order_error", "missed_callback")
    assert [] == category_findings(load_policy(policy), dict.fromkeys(names, 1))
