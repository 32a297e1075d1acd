"""The ``policy`` commands, ``default`` as a policy name, ``--version`` and ``--agent-id``."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import __version__, default_policy, load_policy
from cxrecovery.cli import main
from cxrecovery.documents import dump
from cxrecovery.policy import Policy
from cxrecovery.replay import compare, synthetic_cases
from cxrecovery.testing.strategies import policies

ROOT = Path(__file__).parent.parent
CASES = ROOT / "examples" / "cases"
HOST = ROOT / "examples" / "host-tests" / "policy.toml"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "cases.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for case in synthetic_cases(150, seed=3):
            out.write(json.dumps(dump(case)) + "\n")
    return path


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("--version")
    assert 0 == code
    assert f"cxrecovery {__version__}\n" == capsys.readouterr().out


def test_an_agent_id_alone_acts_in_the_lowest_role() -> None:
    code, text = run("decide", str(CASES / "dropped-call.json"), "--agent-id", "fl-anna", "--json")
    assert 0 == code
    plan = json.loads(text)
    assert ("fl-anna", "front_line") == (plan["agent"], plan["role"])


def test_default_is_a_policy_name_for_decide_check_and_simulate(cases_file: Path) -> None:
    code, text = run("decide", str(CASES / "dropped-call.json"), "--policy", "default")
    assert 0 == code
    assert "cxrecovery-default" in text
    assert 0 == run("check", "default")[0]
    code, text = run("simulate", str(cases_file), "--policy", str(HOST), "--against", "default")
    assert 0 == code
    assert "B: cxrecovery-default" in text


def test_show_resolved_prints_toml_that_loads_to_the_same_policy() -> None:
    code, text = run("policy", "show", "--resolved", str(HOST))
    assert 0 == code
    document = tomllib.loads(text)
    assert "extends" not in document["policy"]
    assert "front_line" in {role["name"] for role in document["roles"]}  # from the default
    assert load_policy(HOST).fingerprint == load_policy(document).fingerprint


def test_show_resolved_json_is_the_resolved_document() -> None:
    code, text = run("policy", "show", "--resolved", "--json", str(HOST))
    assert 0 == code
    assert load_policy(HOST).fingerprint == load_policy(json.loads(text)).fingerprint


def test_show_without_resolved_prints_the_file_as_written() -> None:
    code, text = run("policy", "show", str(HOST))
    assert 0 == code
    document = tomllib.loads(text)
    assert "default" == document["policy"]["extends"]
    assert "roles" not in document
    assert tomllib.loads(HOST.read_text()) == document


def test_show_default_round_trips() -> None:
    code, text = run("policy", "show", "default")
    assert 0 == code
    assert default_policy().fingerprint == load_policy(tomllib.loads(text)).fingerprint


def test_diff_lists_rows_limits_and_clocks(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        f'[policy]\nname = "mine"\nversion = "1"\nextends = "{HOST}"\n'
        '[[roles]]\nname = "front_line"\nmax_per_case = { EUR = "20.00" }\n'
    )
    code, text = run("policy", "diff", "default", str(mine))
    assert 0 == code
    assert "roles[front_line].max_per_case.EUR: 50.00 -> 20.00" in text
    assert "tables.recovery.rules[moderate-unusable]: added when" in text
    assert "clocks.resolution.targets.rules[urgent]: removed" in text
    assert "Plans:" not in text


def test_diff_of_a_policy_with_itself_finds_nothing() -> None:
    code, text = run("policy", "diff", "default", "default")
    assert 0 == code
    assert "decide alike" in text


def test_diff_with_cases_counts_the_plans_that_change(cases_file: Path) -> None:
    expected = compare(default_policy(), load_policy(HOST), cases_file)
    assert expected.changed > 0
    code, text = run("policy", "diff", "default", str(HOST), "--cases", str(cases_file))
    assert 0 == code
    line = f"Plans: {expected.changed} of {expected.a.decisions} decision(s) change"
    assert line in text
    code, text = run("policy", "diff", "--json", "default", str(HOST), "--cases", str(cases_file))
    assert 0 == code
    plans = json.loads(text)["plans"]
    assert expected.changed == plans["changed"]
    assert expected.changed >= plans["by_aspect"]["compensation"] > 0


def test_a_missing_policy_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("policy", "show", "nope.toml")
    assert 2 == code
    assert "cannot read 'nope.toml'" in capsys.readouterr().err


@given(policies())
def test_the_toml_writer_round_trips_any_policy(policy: Policy) -> None:
    from cxrecovery.policy.toml import dumps

    document = tomllib.loads(dumps(policy.document))
    assert policy.fingerprint == load_policy(document).fingerprint
    assert policy.document == document


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(st.text(max_size=10), st.integers(), st.booleans()),
        max_size=4,
    )
)
def test_the_toml_writer_quotes_any_key_and_string(table: dict[str, object]) -> None:
    from cxrecovery.policy.toml import dumps

    document = {"section": {"inner": table, "n": 1}}
    assert document == tomllib.loads(dumps(document))
