from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cxrecovery.cli import main

CASES = Path(__file__).parent.parent / "examples" / "cases"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_show_summarises_a_case() -> None:
    code, text = run("show", str(CASES / "laptop-repair.json"))
    assert 0 == code
    assert "Case case-laptop-2041 (open)" in text
    assert "repair_failed: high severity, fault company, 649.00 GBP at stake" in text
    assert "pr-repair: Laptop repaired and returned working" in text


def test_show_json_prints_the_canonical_document() -> None:
    code, text = run("show", "--json", str(CASES / "coffee-order.json"))
    assert 0 == code
    assert json.loads((CASES / "coffee-order.json").read_text()) == json.loads(text)


def test_schema_prints_json_schema() -> None:
    code, text = run("schema")
    assert 0 == code
    assert "https://json-schema.org/draft/2020-12/schema" == json.loads(text)["$schema"]


def test_bad_document_exits_2_with_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x"}')
    code, _ = run("show", str(bad))
    assert 2 == code
    assert "customer: missing (required)" in capsys.readouterr().err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("frobnicate")
    assert 2 == code
    assert "invalid choice" in capsys.readouterr().err


def test_decide_prints_a_readable_plan() -> None:
    code, text = run("decide", str(CASES / "laptop-repair.json"))
    assert 0 == code
    assert "Recovery plan for case case-laptop-2041" in text
    assert "Compensate: credit of 162.25 GBP" in text
    assert "needs approval by supervisor" in text
    assert "why: " in text
    assert "Next review: just after 2026-03-24T09:50:00+00:00" in text  # at the counter till then


def test_decide_prints_every_time_on_the_cases_clock() -> None:
    # The promise's due time and the clocks' are kept in UTC (the calendar's zone); the
    # customer is in Chicago: a reader sees one zone, the same instants, even when the
    # decision time is given in UTC.
    code, text = run("decide", "--at", "2026-05-12T21:48:00Z", str(CASES / "dropped-call.json"))
    assert 0 == code
    assert "at 2026-05-12T16:48:00-05:00" in text
    assert "Promise: reschedule by 2026-05-13T09:00:00-05:00" in text
    assert "     due 2026-05-13T09:00:00-05:00\n" in text  # 14:00 UTC
    assert "resolution      breached  due 2026-05-12T12:00:00-05:00" in text  # 17:00 UTC
    assert "Next review: just after 2026-05-13T12:00:00-05:00" in text
    dues = [line.split("due ", 1)[1] for line in text.splitlines() if " due " in line]
    assert len(dues) == 7
    assert all(d.endswith("-05:00") for d in dues), dues


def test_a_time_after_a_clock_change_is_printed_as_the_plans_text_says_it() -> None:
    # Decided in London in March (GMT), a promise due in April (BST): the due line shows
    # the promise's own wall-clock time, as the action's text does.
    variant = CASES.parent / "variants" / "laptop-first-visit-parts-on-order.json"
    code, text = run("decide", str(variant))
    assert 0 == code
    assert "Promise: repair or replace by 2026-04-01T14:00:00+01:00\n" in text
    assert "     due 2026-04-01T14:00:00+01:00\n" in text
    assert "resolution      running   due 2026-03-04T10:15:00+00:00" in text


def test_decide_json_is_the_plan_document() -> None:
    code, text = run("decide", "--json", "--agent", "supervisor", str(CASES / "dropped-call.json"))
    assert 0 == code
    plan = json.loads(text)
    assert "supervisor" == plan["role"]
    assert plan["policy_fingerprint"].startswith("sha256:")
    assert "compensate" in [a["kind"] for a in plan["actions"]]


def test_explain_adds_the_why_not_trace() -> None:
    code, text = run("explain", str(CASES / "coffee-order.json"))
    assert 0 == code
    assert "not matched: failed-fix-replace: double_deviation is false" in text


def test_decide_at_a_given_time_and_with_a_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "acme.toml"
    policy.write_text(
        '[policy]\nname = "acme"\nversion = "1"\nextends = "default"\n'
        '[calendars.support]\ntime_zone = "Europe/London"\n'
        'hours = { "mon-fri" = ["08:00-18:00"] }\n'
    )
    code, text = run(
        "decide",
        "--policy",
        str(policy),
        "--at",
        "2026-06-09T09:00:00+01:00",
        str(CASES / "coffee-order.json"),
    )
    assert 0 == code
    assert "acme 1" in text
    assert "at 2026-06-09T09:00:00+01:00" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "tomorrow"], "--at: 'tomorrow' is not an ISO 8601 time"),
        (["--at", "2026-06-09T09:00"], "naive datetime"),
        (["--agent", "ceo"], "agent.role: 'ceo' is not a role of this policy"),
        (["--policy", "missing.toml"], "cannot read 'missing.toml'"),
    ],
)
def test_decide_bad_input_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("decide", *argv, str(CASES / "coffee-order.json"))
    assert 2 == code
    assert message in capsys.readouterr().err
