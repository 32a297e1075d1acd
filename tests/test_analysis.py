"""The policy linter: the broken corpus, the default policy, tables against brute force."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxrecovery import default_policy
from cxrecovery.analysis import analyze_table, check_policy, regions
from cxrecovery.cli import main
from cxrecovery.tables import DecisionTable, FactKind, FactSpec

BROKEN = Path(__file__).parent / "policies" / "broken"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def _expected(path: Path) -> tuple[str, str]:
    code, where = path.read_text().splitlines()[0].removeprefix("# expect: ").split(" ", 1)
    return code, where


def test_the_corpus_holds_at_least_thirty_broken_policies() -> None:
    assert len(list(BROKEN.glob("*.toml"))) >= 30


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.toml")), ids=lambda p: p.stem)
def test_the_linter_finds_the_planted_defect(path: Path) -> None:
    # Each broken policy extends the clean default with one defect: exactly it is found.
    report = check_policy(path, as_of=AS_OF)
    assert [_expected(path)] == [(f.code, f.path) for f in report.findings]


def test_the_default_policy_is_clean() -> None:
    assert () == check_policy(default_policy(), as_of=AS_OF).findings


def test_a_repeat_on_an_unusable_service_never_gets_less_than_the_first_time() -> None:
    # The linter once found this in the default policy: medium, repeat, unusable fell
    # from a full refund (first) to a quarter (repeat). The fix is a row of its own.
    policy = default_policy()
    rows = {r["id"]: r for r in policy.document["tables"]["recovery"]["rules"]}
    assert "FULL_PLUS" == rows["moderate-repeat-rejected"]["then"]["tier"]
    assert "T3_PLUS" == rows["moderate-double-deviation-rejected"]["then"]["tier"]


def test_the_host_example_policy_is_clean() -> None:
    policy = Path(__file__).parent.parent / "examples" / "host-tests" / "policy.toml"
    report = check_policy(policy, as_of=AS_OF)
    assert () == report.findings


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_check_exits_0_on_a_clean_policy() -> None:
    policy = Path(__file__).parent.parent / "examples" / "host-tests" / "policy.toml"
    code, text = run("check", str(policy))
    assert (0, "no findings") == (code, text.strip().rsplit(": ", 1)[-1])


def test_check_exits_1_with_findings_as_json() -> None:
    code, text = run("check", "--json", str(BROKEN / "gap-integer-point.toml"))
    data = json.loads(text)
    assert 1 == code
    gap = next(f for f in data["findings"] if f["code"] == "table.gap")
    assert {"contacts": 3} == gap["example"]
    assert "error" == gap["severity"]


def test_check_reports_what_the_loader_refuses_as_errors() -> None:
    code, text = run("check", str(BROKEN / "escalation-missing-role.toml"))
    assert 1 == code
    assert "escalation.levels[2].role: 'ceo' is not a role" in text


def test_check_exits_2_on_unusable_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\n")
    assert 2 == run("check", str(bad))[0]
    assert 2 == run("check", str(tmp_path / "missing.toml"))[0]


def test_a_gap_comes_with_a_counterexample_the_table_refuses() -> None:
    report = check_policy(BROKEN / "gap-decimal-point.toml", as_of=AS_OF)
    gap = next(f for f in report.findings if f.code == "table.gap")
    assert gap.example is not None
    assert "100" == str(gap.example["value_at_stake"])


# --- tables against a brute-force enumeration ----------------------------------------------

FACTS = {
    "flag": FactSpec("flag", FactKind.BOOLEAN),
    "level": FactSpec("level", FactKind.ORDINAL, ("low", "mid", "high")),
    "colour": FactSpec("colour", FactKind.ENUM, ("red", "blue")),
    "count": FactSpec("count", FactKind.INTEGER),
    "label": FactSpec("label", FactKind.STRING),
}
DOMAINS: dict[str, list[object]] = {
    "flag": [False, True],
    "level": ["low", "mid", "high"],
    "colour": ["red", "blue"],
    "count": list(range(-2, 9)),
    "label": ["a", "b", "zzz"],
}
CELLS = {
    "flag": st.sampled_from(["-", True, False]),
    "level": st.sampled_from(["-", "low", ">= mid", "<= mid", "!= high", "high"]),
    "colour": st.sampled_from(["-", "red", "blue"]),
    "count": st.sampled_from(["-", "< 3", ">= 3", "[1..4]", "(2..5)", "!= 4", "0", "> 6"]),
    "label": st.sampled_from(["-", "a", "!= a", "a, b", "not b"]),
}


@st.composite
def small_tables(draw: st.DrawFn) -> DecisionTable:
    inputs = draw(st.lists(st.sampled_from(sorted(FACTS)), min_size=1, max_size=3, unique=True))
    size = draw(st.integers(1, 5))
    rules = [
        {"when": {name: draw(CELLS[name]) for name in inputs}, "then": {"out": i}}
        for i in range(size)
    ]
    policy = draw(st.sampled_from(["first", "unique", "collect", "priority", "any"]))
    if policy == "priority":
        for rule in rules:
            rule["priority"] = draw(st.integers(0, 2))
    return DecisionTable.from_dict(
        "t",
        {"hit_policy": policy, "inputs": inputs, "outputs": {"out": "integer"}, "rules": rules},
        facts=FACTS,
    )


def brute_masks(table: DecisionTable) -> set[int]:
    masks: set[int] = set()
    for combo in itertools.product(*(DOMAINS[name] for name in table.inputs)):
        values = dict(zip(table.inputs, combo, strict=True))
        masks.add(
            sum(
                1 << i
                for i, rule in enumerate(table.rules)
                if all(c.admits(values[c.column]) for c in rule.conditions)
            )
        )
    return masks


@settings(max_examples=150)
@given(small_tables())
def test_the_sweep_finds_exactly_the_sets_of_matching_rows_brute_force_finds(
    table: DecisionTable,
) -> None:
    assert brute_masks(table) == {r.mask for r in regions(table)}


@settings(max_examples=150)
@given(small_tables())
def test_gaps_and_overlaps_agree_with_brute_force(table: DecisionTable) -> None:
    masks = brute_masks(table)
    codes = {f.code for f in analyze_table(table)}
    single = str(table.hit_policy) in ("first", "unique", "priority", "any")
    assert (single and 0 in masks) == ("table.gap" in codes)
    overlapping = any(bin(m).count("1") > 1 for m in masks)
    assert (str(table.hit_policy) == "unique" and overlapping) == ("table.overlap" in codes)


@settings(max_examples=100)
@given(small_tables())
def test_every_region_example_matches_the_rows_of_its_region(table: DecisionTable) -> None:
    from cxrecovery.analysis._sweep import example

    for region in regions(table):
        values = example(table, region)
        matched = sum(
            1 << i
            for i, rule in enumerate(table.rules)
            if all(c.admits(values[c.column]) for c in rule.conditions)
        )
        assert region.mask == matched
