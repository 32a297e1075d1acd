from __future__ import annotations

import copy
import json
import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from _corruption import places
from cxrecovery import (
    Agent,
    Case,
    Engine,
    FactKind,
    FactSpec,
    Money,
    PolicyError,
    default_policy,
    load_case,
    load_policy,
)

CASES = Path(__file__).parent.parent / "examples" / "cases"


def default_document() -> dict[str, Any]:
    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_default_policy_loads_and_compiles() -> None:
    policy = default_policy()
    assert "cxrecovery-default" == policy.name
    assert ["front_line", "supervisor", "manager", "duty_manager"] == [
        r.name for r in policy.roles
    ]
    assert policy.fingerprint.startswith("sha256:")
    Engine(policy)


def test_the_fingerprint_is_the_content_not_the_spelling() -> None:
    document = default_document()
    as_json = json.dumps(document, default=str)
    assert default_policy().fingerprint == load_policy(document).fingerprint
    assert default_policy().fingerprint == load_policy(as_json).fingerprint
    document["compensation"]["hard_cap_ratio"] = "1.40"
    assert default_policy().fingerprint != load_policy(document).fingerprint


def test_load_from_toml_text_json_text_and_paths(tmp_path: Path) -> None:
    toml_text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(toml_text)
    assert default_policy().fingerprint == load_policy(toml_text).fingerprint
    assert default_policy().fingerprint == load_policy(path).fingerprint
    assert default_policy().fingerprint == load_policy(str(path)).fingerprint


def test_extends_merges_roles_by_name_and_replaces_tables() -> None:
    policy = load_policy(
        {
            "policy": {"name": "acme", "version": "1", "extends": "default"},
            "roles": [
                {"name": "front_line", "max_ratio": "0.30"},
                {"name": "regional_director", "rank": 9, "title": "Director"},
            ],
            "tables": {
                "remedy": {
                    "hit_policy": "first",
                    "inputs": ["category"],
                    "outputs": {"action": "string", "estimate": "string", "calendar": "string"},
                    "rules": [
                        {"then": {"action": "fix", "estimate": "PT2H", "calendar": "always"}}
                    ],
                }
            },
        }
    )
    front = policy.role("front_line")
    assert front is not None
    assert "0.30" == str(front.max_ratio)
    assert front.max_per_case  # kept from the default
    assert "regional_director" == policy.roles[-1].name
    assert 1 == len(policy.tables["remedy"]["rules"])
    assert "recovery" in policy.tables
    Engine(policy)


def test_extends_replaces_a_calendars_hours_and_keeps_its_other_keys() -> None:
    header = {"name": "acme", "version": "1", "extends": "default"}
    policy = load_policy(
        {
            "policy": header,
            "calendars": {
                "support": {"hours": {"mon-sat": ["08:00-18:00"]}},
                "always": {"time_zone": "Europe/Paris"},
            },
        }
    )
    support = policy.calendars["support"]
    assert 6 == sum(1 for day in support.hours or () if day)  # not mon-fri laid over mon-sat
    assert "UTC" == str(support.time_zone)  # kept from the default
    assert "Europe/Paris" == str(policy.calendars["always"].time_zone)
    assert policy.calendars["always"].hours == default_policy().calendars["always"].hours
    combined = load_policy(
        {
            "policy": header,
            "calendars": {
                "support": {
                    "any_of": [{"time_zone": "UTC", "hours": {"sat-sun": ["10:00-14:00"]}}],
                    "time_zone": "UTC",
                }
            },
        }
    )
    assert combined.calendars["support"].hours is None  # the default's hours gave way


def test_a_broken_calendar_is_one_problem_not_one_per_reference() -> None:
    document = default_document()
    overlapping = {"mon-fri": ["09:00-17:00"], "mon": ["10:00-11:00"]}
    document["calendars"]["support"]["hours"] = overlapping
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    paths = [p.path for p in caught.value.problems]
    assert all(path.startswith("calendars.support") for path in paths), paths
    document["facts"]["calendar"] = "nights"  # a name that is nowhere is still reported
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    assert "facts.calendar" in {p.path for p in caught.value.problems}


def test_every_problem_is_reported_with_its_path() -> None:
    document = default_document()
    document["roles"][1]["max_ratio"] = 1.5
    document["roles"][3]["rank"] = 2
    document["compensation"]["hard_cap_ratio"] = "lots"
    document["escalation"]["levels"][2]["role"] = "ceo"
    document["clocks"]["resolution"]["calendar"] = "nights"
    document["facts"]["history_windw"] = "P30D"
    document["calendars"]["support"]["time_zone"] = "Mars/Olympus"
    with pytest.raises(PolicyError) as caught:
        load_policy(document)
    paths = {p.path for p in caught.value.problems}
    assert "escalation.levels[0].role" not in paths  # supervisor's own mistake is enough
    assert {
        "roles[1].max_ratio",
        "roles[3].rank",
        "compensation.hard_cap_ratio",
        "escalation.levels[2].role",
        "clocks.resolution.calendar",
        "facts.history_windw",
        "calendars.support.time_zone",
    } <= paths
    text = str(caught.value)
    assert "1.5 is a float; write decimals as strings" in text
    assert "did you mean 'history_window'?" in text


def test_table_problems_are_found_when_the_engine_compiles() -> None:
    document = default_document()
    document["tables"]["recovery"]["rules"][1]["when"]["severity"] = "hgih"
    document["tables"]["recovery"]["inputs"].append("vip_level")
    document["tables"]["recovery"]["rules"][2]["then"]["tier"] = "T9"
    policy = load_policy(document)
    with pytest.raises(PolicyError) as caught:
        Engine(policy)
    text = str(caught.value)
    assert "tables.recovery" in text
    assert "hgih" in text
    assert "vip_level" in text


def test_a_host_fact_makes_such_a_policy_compile() -> None:
    class Loyalty:
        def specs(self) -> dict[str, FactSpec]:
            return {"loyalty_years": FactSpec("loyalty_years", FactKind.INTEGER)}

        def compute(self, case: Case, at: datetime) -> dict[str, object]:
            return {"loyalty_years": 7}

    document = default_document()
    document["tables"]["recovery"]["inputs"].append("loyalty_years")
    document["tables"]["recovery"]["rules"][0]["when"]["loyalty_years"] = ">= 5"
    policy = load_policy(document)
    with pytest.raises(PolicyError, match="loyalty_years"):
        Engine(policy)
    engine = Engine(policy, facts=[Loyalty()])
    case = load_case(CASES / "coffee-order.json")
    assert 7 == engine.facts(case, case.last_event_at())["loyalty_years"]


def test_a_host_fact_may_not_shadow_a_builtin_one() -> None:
    class Clash:
        def specs(self) -> dict[str, FactSpec]:
            return {"severity": FactSpec("severity", FactKind.STRING)}

        def compute(self, case: Case, at: datetime) -> dict[str, object]:
            return {}

    with pytest.raises(PolicyError, match=r"facts\[0\]\.severity: clashes"):
        Engine(default_policy(), facts=[Clash()])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[policy\nname=", "not valid TOML"),
        ('{"policy": ', "not valid JSON"),
        (b"\xff", "not UTF-8"),
        ("nope.toml", "cannot read"),
        ("bad\x00.toml", "cannot read"),
        (42, "expected a mapping"),
        ({"policy": {"name": "x", "version": "1", "extends": "mine"}}, "cannot read 'mine'"),
    ],
)
def test_unreadable_policies_raise_policy_error(source: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy(source)  # type: ignore[arg-type]


class TestAuthorize:
    def test_inside_the_limits_the_agent_may(self) -> None:
        engine = Engine(default_policy())
        case = load_case(CASES / "coffee-order.json")
        answer = engine.authorize(
            case,
            Money("1.00", "EUR"),
            "credit",
            at=case.last_event_at(),
            agent=Agent("b", "front_line"),
        )
        assert answer.allowed
        assert answer.approver is None

    def test_outside_the_limits_the_lowest_approver_is_named(self) -> None:
        engine = Engine(default_policy())
        case = load_case(CASES / "laptop-repair.json")
        at = case.last_event_at()
        answer = engine.authorize(
            case, Money("600.00", "GBP"), "refund", at=at, agent=Agent("a", "front_line")
        )
        assert not answer.allowed
        assert "supervisor" == answer.approver
        failed = {c.rule for c in answer.checks if not c.ok}
        assert "roles[front_line].forms" in failed
        big = engine.authorize(case, Money("900.00", "GBP"), "refund", at=at)
        assert "manager" == big.approver

    def test_the_agents_spend_this_period_counts(self) -> None:
        engine = Engine(default_policy())
        case = load_case(CASES / "coffee-order.json")
        at = case.last_event_at()
        answer = engine.authorize(
            case, Money("2.00", "EUR"), "credit", at=at, spent=Money("249.00", "EUR")
        )
        assert not answer.allowed
        assert any(
            c.rule == "roles[front_line].max_per_period" and not c.ok for c in answer.checks
        )

    def test_bad_arguments(self) -> None:
        engine = Engine(default_policy())
        case = load_case(CASES / "coffee-order.json")
        at = case.last_event_at()
        with pytest.raises(ValueError, match="not in EUR"):
            engine.authorize(case, Money("1", "USD"), "credit", at=at)
        with pytest.raises(ValueError, match="form"):
            engine.authorize(case, Money("1", "EUR"), "hug", at=at)
        with pytest.raises(ValueError, match="naive"):
            engine.authorize(case, Money("1", "EUR"), "credit", at=datetime(2026, 1, 1))


# --- corrupted policies: nothing but PolicyError ----------------------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.sampled_from(
        ["", "hgih", "P1M", "-PT1H", "XXX", "0.5", ">= 2", "Mars/Olympus", "T9", "any"]
    ),
    st.lists(st.sampled_from(["a", "credit", "severity"]), max_size=2),
    st.dictionaries(st.sampled_from(["when", "then", "x", "name"]), st.integers(0, 2), max_size=2),
)


_PLACES = places(default_document())


@st.composite
def corrupted_policies(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(default_document())
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_PLACES))
        parent: Any = document
        try:
            for key in where[:-1]:
                parent = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        if not where:
            return draw(_JUNK)
        action = draw(st.sampled_from(["replace", "delete"]))
        try:
            if action == "delete":
                del parent[where[-1]]
            else:
                parent[where[-1]] = draw(_JUNK)
        except (KeyError, IndexError, TypeError):
            continue
    return document


@pytest.mark.slow
@given(corrupted_policies())
def test_corrupted_policies_raise_only_policy_errors_with_paths(document: Any) -> None:
    note(repr(document)[:2000])
    try:
        engine = Engine(load_policy(document))
    except PolicyError as error:
        assert error.problems
        assert all(p.message for p in error.problems)
        return
    case = load_case(CASES / "laptop-repair.json")
    try:
        engine.decide(case, at=case.last_event_at())
    except PolicyError as error:
        assert error.problems
