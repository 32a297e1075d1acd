"""The testing kit: strategies, invariants, the hypothesis registration, the pytest plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from cxrecovery import BusinessCalendar, Case, Engine, default_policy, load_policy
from cxrecovery.analysis import check_policy
from cxrecovery.policy import Policy
from cxrecovery.testing._hypothesis_plugin import _hypothesis_setup_hook
from cxrecovery.testing.invariants import (
    PolicyInvariantError,
    assert_lint_clean,
    assert_monotone_compensation,
    assert_policy_invariants,
)
from cxrecovery.testing.strategies import business_calendars, cases, policies

pytest_plugins = ["pytester"]
ROOT = Path(__file__).parent.parent
HOST = ROOT / "examples" / "host-tests"
CASES = ROOT / "examples" / "cases"


@given(business_calendars())
def test_business_calendars_are_open_some_time(calendar: BusinessCalendar) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert calendar.between(start, start + timedelta(days=14)) > timedelta(0)


@settings(max_examples=10, deadline=None)
@given(policies())
def test_policies_load_and_keep_the_ladder_climbing(policy: Policy) -> None:
    report = check_policy(policy)
    assert not {"roles.not_increasing", "compensation.approval_unreachable"} & set(report.codes())
    Engine(policy)


POLICY = default_policy()
CATEGORIES = {"wrong_order", "wrong_item", "order_error", "support_appointment"}


@settings(max_examples=60)
@given(cases(policy=POLICY))
def test_cases_for_a_policy_always_carry_a_value_at_stake(case: Case) -> None:
    assert case.failure.value_at_stake


@pytest.mark.slow
def test_cases_for_a_policy_reach_the_categories_its_tables_name() -> None:
    seen: set[str] = set()

    @settings(max_examples=150, database=None)
    @given(cases(policy=POLICY))
    def collect(case: Case) -> None:
        seen.add(case.failure.category)

    collect()
    assert seen & CATEGORIES


def _draw_once(strategy: st.SearchStrategy[object]) -> None:
    @settings(max_examples=1, database=None)
    @given(strategy)
    def draw(value: object) -> None:
        pass

    draw()


@pytest.mark.parametrize(
    "strategy",
    [cases(max_size=-1), cases(policy="default"), business_calendars(max_size=-1)],  # type: ignore[arg-type]
    ids=["negative-size", "policy-not-a-policy", "negative-holidays"],
)
def test_impossible_arguments_raise_invalid_argument(strategy: st.SearchStrategy[object]) -> None:
    with pytest.raises(InvalidArgument):
        _draw_once(strategy)


def test_the_hypothesis_hook_makes_from_type_draw_cases() -> None:
    _hypothesis_setup_hook()

    @settings(max_examples=5)
    @given(st.from_type(Case))
    def draw(case: Case) -> None:
        assert isinstance(case, Case)

    draw()


def test_the_host_policy_holds_every_invariant() -> None:
    assert_policy_invariants(load_policy(HOST / "policy.toml"), max_examples=25)


def test_lint_invariant_holds_on_the_default_policy_and_names_a_broken_ones_finding() -> None:
    assert_lint_clean(POLICY)
    broken = load_policy(ROOT / "tests" / "policies" / "broken" / "not-monotone-history.toml")
    with pytest.raises(PolicyInvariantError, match=r"compensation\.not_monotone"):
        assert_lint_clean(broken)
    assert_lint_clean(broken, allow=["compensation.not_monotone"])


def test_monotone_invariant_catches_a_policy_that_pays_less_for_worse() -> None:
    from datetime import timedelta

    from cxrecovery import load_case

    broken = load_policy(ROOT / "tests" / "policies" / "broken" / "not-monotone-severity.toml")
    case = load_case(CASES / "laptop-repair.json")
    with pytest.raises(PolicyInvariantError, match="falls"):
        assert_monotone_compensation(
            Engine(broken), case, at=case.last_event_at() + timedelta(minutes=1)
        )


# --- the pytest plugin -----------------------------------------------------------------------

# The plugin loads through its pytest11 entry point, as in a host's suite.
PLUGIN: tuple[str, ...] = ()


@pytest.mark.slow
def test_the_plugin_and_the_strategies_are_registered_as_entry_points() -> None:
    from importlib.metadata import entry_points

    assert "cxrecovery.testing.pytest_plugin" in {e.value for e in entry_points(group="pytest11")}
    hooks = {e.value for e in entry_points(group="hypothesis")}
    assert "cxrecovery.testing._hypothesis_plugin:_hypothesis_setup_hook" in hooks

    # registered at hypothesis's import, with no explicit call: a fresh interpreter
    code = (
        "from hypothesis import given, settings, strategies as st\n"
        "from cxrecovery import Case\n"
        "@settings(max_examples=5, database=None)\n"
        "@given(st.from_type(Case))\n"
        "def t(case): assert isinstance(case, Case)\n"
        "t()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_plugin_fixtures_default_to_the_bundled_policy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fixtures(cxrecovery_policy, cxrecovery_engine, cxrecovery_now, cxrecovery_clock):
            assert cxrecovery_policy.name == "cxrecovery-default"
            assert cxrecovery_engine.policy is cxrecovery_policy
            assert cxrecovery_clock() == cxrecovery_now
            assert cxrecovery_now.tzinfo is not None
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_plugin_reads_the_policy_option(pytester: pytest.Pytester) -> None:
    shutil.copy(HOST / "policy.toml", pytester.path / "acme.toml")
    pytester.makepyfile(
        """
        def test_policy(cxrecovery_policy):
            assert cxrecovery_policy.name == "acme-crm"
        """
    )
    pytester.runpytest(*PLUGIN, "--cxrecovery-policy", "acme.toml").assert_outcomes(passed=1)


def test_plugin_reads_the_ini_value(pytester: pytest.Pytester) -> None:
    shutil.copy(HOST / "policy.toml", pytester.path / "acme.toml")
    pytester.makeini("[pytest]\ncxrecovery_policy = acme.toml\n")
    pytester.makepyfile(
        """
        def test_policy(cxrecovery_policy):
            assert cxrecovery_policy.name == "acme-crm"
        """
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


GOLDEN_TEST = """
def test_golden(cxrecovery_golden):
    cxrecovery_golden.check("cases")
"""


def _golden_project(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "cases"
    folder.mkdir()
    for name in ("coffee-order", "laptop-repair"):
        shutil.copy(CASES / f"{name}.json", folder / f"{name}.json")
    pytester.makepyfile(GOLDEN_TEST)
    return folder


def test_golden_files_fail_until_recorded_then_pass(pytester: pytest.Pytester) -> None:
    folder = _golden_project(pytester)
    missing = pytester.runpytest(*PLUGIN)
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(["*no recorded plan*--cxrecovery-update-golden*"])
    pytester.runpytest(*PLUGIN, "--cxrecovery-update-golden").assert_outcomes(passed=1)
    assert (folder / "coffee-order.plan.json").exists()
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_golden_files_show_a_readable_diff_when_the_policy_changes(
    pytester: pytest.Pytester,
) -> None:
    _golden_project(pytester)
    pytester.runpytest(*PLUGIN, "--cxrecovery-update-golden").assert_outcomes(passed=1)
    shutil.copy(HOST / "policy.toml", pytester.path / "acme.toml")
    changed = pytester.runpytest(*PLUGIN, "--cxrecovery-policy", "acme.toml")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(["*plan(s) changed*", "*(recorded)*", '*"policy_name"*'])


@pytest.mark.slow
def test_the_sample_host_project_passes_as_shipped(pytester: pytest.Pytester) -> None:
    # examples/host-tests is a complete project: its linter, invariant, property and
    # golden-file tests all pass against the policy and the plans it ships with.
    shutil.copytree(HOST, pytester.path, dirs_exist_ok=True)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
