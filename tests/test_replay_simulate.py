"""Replay, compare, executors, JSON Lines streaming and the CLI commands."""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import re
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxrecovery.documents import dump
from cxrecovery.engine import Engine
from cxrecovery.errors import DocumentError
from cxrecovery.model import Case
from cxrecovery.model import _case as _case_module
from cxrecovery.plan import ActionKind
from cxrecovery.policy import Policy, default_policy, load_policy
from cxrecovery.replay import compare, read_cases, simulate, synthetic_cases, walk_instants
from cxrecovery.replay.cli import add_commands

DEFAULT = default_policy()


def _with_t2(low: str, high: str) -> Policy:
    tiers = [dict(t) for t in DEFAULT.document["compensation"]["tiers"]]
    for tier in tiers:
        if tier["name"] == "T2":
            tier.update(min=low, max=high)
    return load_policy(
        {
            "policy": {"name": "wider-t2", "version": "1", "extends": "default"},
            "compensation": {"tiers": tiers},
        }
    )


def _write(path: Path, cases: Iterator[Case], *, extra: dict[int, str] | None = None) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i, case in enumerate(cases, 1):
            if extra and i in extra:
                out.write(extra[i] + "\n")
            out.write(json.dumps(dump(case)) + "\n")
    return path


def test_summary_adds_up_the_plans() -> None:
    cases = list(synthetic_cases(200, seed=5))
    engine = Engine(DEFAULT)
    cost: dict[str, Decimal] = {}
    approvals: dict[str, int] = {}
    escalated = 0
    for case in cases:
        plan = engine.decide(case, at=case.last_event_at())
        comp = plan.action(ActionKind.COMPENSATE)
        if comp is not None and comp.amount is not None:
            cur = comp.amount.currency
            cost[cur] = cost.get(cur, Decimal(0)) + comp.amount.amount
        for approval in plan.approvals:
            approvals[approval.role] = approvals.get(approval.role, 0) + 1
        escalated += plan.escalation_level > 0
    summary = simulate(DEFAULT, cases)
    assert 200 == summary.cases == summary.decisions
    assert cost == dict(summary.cost)
    assert approvals == dict(summary.approvals)
    assert escalated == sum(summary.escalations.values())
    assert sum(summary.cost.values()) == sum(summary.cost_by_tier.values())
    assert sum(summary.cost.values()) == sum(summary.cost_by_segment.values())


def test_several_decision_times_per_case_count_as_decisions() -> None:
    cases = list(synthetic_cases(20, seed=2))
    summary = simulate(DEFAULT, cases, at=lambda c: (c.opened_at, c.last_event_at()))
    assert 20 == summary.cases
    assert 40 == summary.decisions


def test_a_walk_takes_a_case_with_promises_as_of_each_instant_once() -> None:
    # The plans of both policies and the tally see the case as known at the instant:
    # it is copied once there, not once per policy and again for the tally.
    stories = [c for c in synthetic_cases(60, seed=4) if c.promises][:12]
    later = sum(1 for case in stories for at in walk_instants(case) if case.as_of(at) is not case)
    assert later > 12
    with mock.patch.object(_case_module, "_as_of", wraps=_case_module._as_of) as copies:
        result = compare(DEFAULT, load_policy(DEFAULT.document), stories, at="walk")
    assert later == copies.call_count
    assert sum(len(walk_instants(c)) for c in stories) == result.a.decisions


def test_a_policy_against_itself_changes_nothing() -> None:
    result = compare(DEFAULT, load_policy(DEFAULT.document), synthetic_cases(300, seed=9))
    assert 0 == result.changed
    assert () == result.changes
    assert result.a.cost == result.b.cost


@settings(max_examples=5)
@given(seed=st.integers(0, 10_000))
def test_changing_one_tier_changes_exactly_the_cases_in_that_tier(seed: int) -> None:
    cases = list(synthetic_cases(60, seed=seed))
    engine = Engine(DEFAULT)
    expected = set()
    for case in cases:
        comp = engine.decide(case, at=case.last_event_at()).action(ActionKind.COMPENSATE)
        if comp is not None and comp.tier == "T2" and comp.amount and comp.amount.amount > 0:
            expected.add(case.id)
    result = compare(DEFAULT, _with_t2("0.30", "0.60"), cases)
    assert expected == {c.case_id for c in result.changes}
    assert len(expected) == result.changed
    for change in result.changes:
        assert any(line.startswith("compensation: T2") for line in change.changes)


def test_cost_difference_is_b_minus_a_per_currency() -> None:
    result = compare(DEFAULT, _with_t2("0.30", "0.60"), synthetic_cases(200, seed=1))
    for currency, diff in result.cost_difference.items():
        assert result.b.cost[currency] - result.a.cost[currency] == diff
    assert all(d >= 0 for d in result.cost_difference.values())


def test_a_lower_role_limit_moves_approvals_up() -> None:
    stricter = load_policy(
        {
            "policy": {"name": "strict", "version": "1", "extends": "default"},
            "roles": [{"name": "front_line", "max_ratio": "0.10"}],
        }
    )
    result = compare(DEFAULT, stricter, synthetic_cases(300, seed=4))
    assert result.changed > 0
    assert result.b.approvals["supervisor"] > result.a.approvals["supervisor"]
    assert all(any(line.startswith("approvals:") for line in c.changes) for c in result.changes)


def test_json_lines_bad_lines_are_counted_with_their_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "cases.jsonl",
        synthetic_cases(5, seed=1),
        extra={2: "{not json", 4: '{"id": "x"}'},
    )
    summary = simulate(DEFAULT, path)
    assert 5 == summary.cases
    assert 2 == summary.errors
    assert [2, 5] == [b.line for b in summary.bad_lines]
    assert summary.bad_lines[0].error.startswith("line 2:")


def test_json_lines_bad_line_is_fatal_on_request(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", synthetic_cases(3, seed=1), extra={3: "[]"})
    with pytest.raises(DocumentError, match="line 3"):
        simulate(DEFAULT, path, on_error="fail")
    with pytest.raises(DocumentError, match="line 3"):
        list(read_cases(path))


@pytest.mark.slow  # spawns two worker processes
def test_executor_gives_the_same_summary_as_serial(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", synthetic_cases(400, seed=8))
    serial = compare(DEFAULT, _with_t2("0.30", "0.60"), path)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        parallel = compare(DEFAULT, _with_t2("0.30", "0.60"), path, executor=pool, chunk_size=50)
    assert serial == parallel


@pytest.mark.slow
def test_dask_executor_gives_the_same_summary_as_serial() -> None:
    distributed = pytest.importorskip("distributed")
    cases = list(synthetic_cases(100, seed=6))
    serial = simulate(DEFAULT, cases)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        parallel = simulate(DEFAULT, cases, executor=client.get_executor(), chunk_size=25)
    assert serial == parallel


def _peak(path: Path) -> int:
    tracemalloc.start()
    try:
        simulate(DEFAULT, path, chunk_size=100)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_cases(tmp_path: Path) -> None:
    small = _write(tmp_path / "small.jsonl", synthetic_cases(500, seed=1))
    large = _write(tmp_path / "large.jsonl", synthetic_cases(2000, seed=1))
    simulate(DEFAULT, small)  # compile and warm caches outside the measurement
    peak_small, peak_large = _peak(small), _peak(large)
    # Four times the cases: the peak stays within a small margin, not 4x.
    assert peak_large < peak_small * 1.5 + 512 * 1024


def _run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="cxrecovery")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out = io.StringIO()
    code = args.run(args, out)
    return code, out.getvalue()


def test_cli_synth_writes_json_lines_for_the_seed() -> None:
    code, text = _run(["synth", "--cases", "3", "--seed", "5"])
    assert 0 == code
    assert [dump(c) for c in synthetic_cases(3, seed=5)] == [
        json.loads(line) for line in text.splitlines()
    ]


def test_cli_simulate_prints_a_table_json_and_a_report(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", synthetic_cases(50, seed=2))
    code, table = _run(["simulate", str(path)])
    assert 0 == code
    assert "cxrecovery-default" in table
    assert "promises at risk" in table
    report = tmp_path / "out.html"
    code, text = _run(["simulate", str(path), "--json", "--report", str(report)])
    data: dict[str, Any] = json.loads(text)
    assert 50 == data["cases"]
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # self-contained: charts (with the report extra) inline, nothing loaded from elsewhere
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    assert "Escalations per month" in page


def test_cli_simulate_against_lists_the_changed_cases(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", synthetic_cases(100, seed=2))
    policy = tmp_path / "b.json"
    policy.write_text(json.dumps(_with_t2("0.30", "0.60").document), encoding="utf-8")
    code, text = _run(["simulate", str(path), "--against", str(policy), "--json"])
    data = json.loads(text)
    assert 0 == code
    assert data["changed"] == len(data["changes"]) > 0


def test_cli_simulate_exits_2_on_a_bad_line_with_on_error_fail(tmp_path: Path) -> None:
    path = _write(tmp_path / "cases.jsonl", synthetic_cases(2, seed=2), extra={1: "oops"})
    assert 2 == _run(["simulate", str(path), "--on-error", "fail"])[0]
    code, text = _run(["simulate", str(path)])
    assert 0 == code
    assert "line 1:" in text


def test_cli_simulate_exits_2_on_a_missing_file(tmp_path: Path) -> None:
    assert 2 == _run(["simulate", str(tmp_path / "missing.jsonl")])[0]
