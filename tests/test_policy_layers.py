"""Layered policies: ``extends`` chains, merge rules, ``replace`` and ``remove``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxrecovery import Engine, Money, PolicyError, default_policy, load_policy
from cxrecovery.policy import merge_documents


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


COMPANY = """
[policy]
name = "acme"
version = "2026.1"
extends = "default"
remove = ["roles.front_line.max_per_period.JPY"]

[calendars.support]
time_zone = "Europe/Berlin"
"""

TEAM = """
[policy]
name = "acme-berlin-desk"
version = "7"
extends = "company.toml"
replace = ["roles.front_line.max_per_case"]

[[roles]]
name = "front_line"
max_per_case = { EUR = "20.00" }
"""


def chain(tmp_path: Path) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir()
    write(policies / "company.toml", COMPANY)
    return write(policies / "team.toml", TEAM)


def test_a_chain_default_company_team_is_laid_in_order(tmp_path: Path) -> None:
    policy = load_policy(chain(tmp_path))
    assert ("acme-berlin-desk", "7") == (policy.name, policy.version)
    assert "Europe/Berlin" == str(policy.calendars["support"].time_zone)
    front = policy.role("front_line")
    assert front is not None
    # replaced whole by the team: only the euro limit is left
    assert {"EUR": Money("20.00", "EUR")} == dict(front.max_per_case)
    # removed by the company, kept otherwise
    assert "JPY" not in front.max_per_period
    assert Money("250.00", "EUR") == front.max_per_period["EUR"]
    assert "extends" not in policy.document["policy"]
    Engine(policy)


def test_a_chain_resolves_relative_to_the_extending_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = chain(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert "acme-berlin-desk" == load_policy(team.relative_to(tmp_path)).name


def test_a_mapping_can_name_the_file_it_came_from(tmp_path: Path) -> None:
    team = chain(tmp_path)
    document = {"policy": {"name": "x", "version": "1", "extends": "company.toml"}}
    assert "Europe/Berlin" == str(
        load_policy(document, origin=team).calendars["support"].time_zone
    )


def test_a_given_money_map_merges_by_currency_without_replace() -> None:
    policy = load_policy(
        {
            "policy": {"name": "acme", "version": "1", "extends": "default"},
            "roles": [{"name": "front_line", "max_per_case": {"EUR": "20.00"}}],
        }
    )
    front = policy.role("front_line")
    assert front is not None
    assert Money("20.00", "EUR") == front.max_per_case["EUR"]
    assert Money("45.00", "GBP") == front.max_per_case["GBP"]


def test_remove_takes_a_whole_role_away() -> None:
    policy = load_policy(
        {
            "policy": {
                "name": "acme",
                "version": "1",
                "extends": "default",
                "remove": ["roles.duty_manager", "clocks.limbo"],
            },
            "escalation": {
                "levels": [
                    {"level": 1, "role": "supervisor", "name": "Supervisor"},
                    {"level": 2, "role": "manager", "name": "Manager"},
                ]
            },
        }
    )
    assert ["front_line", "supervisor", "manager"] == [r.name for r in policy.roles]
    assert "limbo" not in {c.name for c in policy.clocks}


def test_a_loop_is_one_error_naming_the_files(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", '[policy]\nname = "a"\nversion = "1"\nextends = "b.toml"\n')
    write(tmp_path / "b.toml", '[policy]\nname = "b"\nversion = "1"\nextends = "a.toml"\n')
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "a.toml")
    (problem,) = caught.value.problems
    assert problem.path == f"{tmp_path / 'b.toml'}: policy.extends"
    assert "closes a loop" in problem.message
    assert "a.toml -> " in problem.message


def test_a_missing_file_is_one_error_naming_both_files(tmp_path: Path) -> None:
    team = write(tmp_path / "team.toml", TEAM)
    with pytest.raises(PolicyError) as caught:
        load_policy(team)
    (problem,) = caught.value.problems
    assert f"{team}: policy.extends" == problem.path
    assert "'company.toml': cannot read" in problem.message


def test_a_nul_byte_in_extends_is_a_policy_error_not_a_value_error() -> None:
    # Found by fuzzing: resolving the path raised ValueError from os.path.realpath.
    with pytest.raises(PolicyError) as caught:
        load_policy({"policy": {"name": "t", "version": "1", "extends": "team\x00.toml"}})
    (problem,) = caught.value.problems
    assert problem.path == "policy.extends"
    assert "cannot read" in problem.message


@pytest.mark.parametrize(
    "url", ["https://example.com/policy.toml", "file:///etc/policy.toml", "s3://bucket/p.toml"]
)
def test_a_url_is_refused(tmp_path: Path, url: str) -> None:
    team = write(
        tmp_path / "team.toml", f'[policy]\nname = "t"\nversion = "1"\nextends = "{url}"\n'
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(team)
    (problem,) = caught.value.problems
    assert f"{team}: policy.extends" == problem.path
    assert "never a URL" in problem.message


def test_a_chain_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    for i in range(12):
        write(
            tmp_path / f"p{i}.toml",
            f'[policy]\nname = "p{i}"\nversion = "1"\nextends = "p{i + 1}.toml"\n',
        )
    write(tmp_path / "p12.toml", '[policy]\nname = "p12"\nversion = "1"\nextends = "default"\n')
    with pytest.raises(PolicyError, match="a chain of more than 8 policies"):
        load_policy(tmp_path / "p0.toml")


def test_an_extending_policy_must_name_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "team.toml", '[policy]\nextends = "default"\n')
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert [f"{path}: policy.name", f"{path}: policy.version"] == [
        p.path for p in caught.value.problems
    ]


def test_a_new_role_named_like_an_existing_one_is_a_typo(tmp_path: Path) -> None:
    path = write(
        tmp_path / "team.toml",
        '[policy]\nname = "t"\nversion = "1"\nextends = "default"\n'
        '[[roles]]\nname = "frontline"\nmax_ratio = "0.30"\n',
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (problem,) = caught.value.problems
    assert f"{path}: roles[0].name" == problem.path
    assert "did you mean 'front_line'?" in problem.message


def test_a_problem_is_located_in_the_file_that_gave_it(tmp_path: Path) -> None:
    write(tmp_path / "company.toml", COMPANY)
    team = write(
        tmp_path / "team.toml",
        '[policy]\nname = "t"\nversion = "1"\nextends = "company.toml"\n'
        '[[roles]]\nname = "regional_director"\ntitle = "no rank"\n'
        "[calendars.support]\ntime_zone = 'Berlin'\n",
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(team)
    paths = sorted(p.path for p in caught.value.problems)
    assert [f"{team}: calendars.support.time_zone", f"{team}: roles[0].rank"] == paths


def test_remove_of_nothing_says_what_there_is(tmp_path: Path) -> None:
    document: dict[str, Any] = {
        "policy": {"name": "t", "version": "1", "extends": "default", "remove": ["clocks.limb"]}
    }
    with pytest.raises(PolicyError, match=r"policy.remove: 'clocks.limb'.*did you mean 'limbo'"):
        load_policy(document)


def test_replace_must_name_something_the_policy_gives() -> None:
    document = {
        "policy": {"name": "t", "version": "1", "extends": "default", "replace": ["roles"]}
    }
    with pytest.raises(PolicyError, match="gives nothing there to replace with"):
        load_policy(document)


def test_replace_and_remove_need_something_to_extend() -> None:
    document = dict(default_policy().document)
    document["policy"] = {**document["policy"], "remove": ["clocks.limbo"]}
    with pytest.raises(
        PolicyError, match=r"policy\.remove: applies to the policy this one extends"
    ):
        load_policy(document)


def test_default_names_the_bundled_policy() -> None:
    assert default_policy().fingerprint == load_policy("default").fingerprint


def test_the_fingerprint_leaves_the_description_out() -> None:
    document = dict(default_policy().document)
    document["policy"] = {**document["policy"], "description": "reworded"}
    assert default_policy().fingerprint == load_policy(document).fingerprint
    document["policy"] = {**document["policy"], "version": "other"}
    assert default_policy().fingerprint != load_policy(document).fingerprint


def test_merge_documents_replaces_only_the_paths_named() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 2}}
    over = {"a": {"x": 3}, "b": {"x": 3}}
    assert {"a": {"x": 3}, "b": {"x": 3, "y": 2}} == merge_documents(base, over, replace=["a"])


def test_a_table_problem_found_when_compiling_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "company.toml", COMPANY)
    team = write(
        tmp_path / "team.toml",
        '[policy]\nname = "t"\nversion = "1"\nextends = "company.toml"\n'
        "[tables.remedy]\nhit_policy = 'first'\ninputs = ['category']\n"
        "outputs = { action = 'string', estimate = 'string', calendar = 'string' }\n"
        "[[tables.remedy.rules]]\nid = 'all'\nwhen = { category = '>= 3' }\n"
        "then = { action = 'fix', estimate = 'PT2H', calendar = 'support' }\n",
    )
    with pytest.raises(PolicyError) as caught:
        Engine(load_policy(team))
    assert caught.value.problems
    assert all(p.path.startswith(f"{team}: tables.remedy") for p in caught.value.problems)
