"""Hostile and extreme input: every document refused cleanly, in bounded time and memory.

Each test here is one escape or hang a structure-aware fuzz run found: a document that
crashed with a builtin error from deep inside, pinned a CPU, or read a file. Times are
CPU times (``time.process_time``), so a busy machine does not make them flaky; the
bounds are generous multiples of what the fixed code takes.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from cxrecovery import (
    CxRecoveryError,
    DocumentError,
    Engine,
    Limits,
    PolicyError,
    default_policy,
    dump,
    load_case,
    load_policy,
)
from cxrecovery.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples" / "cases"


def example(name: str = "laptop-cover") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return data


@contextmanager
def cpu_under(seconds: float) -> Iterator[None]:
    start = time.process_time()
    yield
    spent = time.process_time() - start
    assert spent < seconds, f"took {spent:.2f} s of CPU, more than {seconds} s"


def refused(error: CxRecoveryError) -> tuple[str, str]:
    """The first problem of an error: its path and message."""
    problems = getattr(error, "problems", ())
    assert problems, f"{error!r} carries no problem"
    first = problems[0]
    return first.path, first.message


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(default_policy())


# --- limits as a value -------------------------------------------------------------------


def test_limits_are_frozen_with_safe_defaults() -> None:
    limits = Limits()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        limits.max_document_bytes = 1  # type: ignore[misc]
    assert 0 < limits.max_document_bytes <= 64 * 1024 * 1024
    assert 0 < limits.max_depth <= 100
    assert 0 < limits.max_items


def test_limits_refuse_a_non_positive_bound() -> None:
    with pytest.raises(CxRecoveryError, match="max_depth"):
        Limits(max_depth=0)


# --- case documents ----------------------------------------------------------------------


def test_duration_of_thousands_of_digits_is_refused_with_its_path() -> None:
    data = example()
    data["touchpoints"][0]["wait"] = "PT" + "9" * 5000 + "S"
    with pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    path, message = refused(caught.value)
    assert "touchpoints[0].wait" == path
    assert "longest duration" in message


def test_duration_error_hint_takes_linear_time() -> None:
    data = example()
    data["touchpoints"][0]["wait"] = "P" + "9" * 100_000
    with cpu_under(0.5), pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    assert "touchpoints[0].wait" == refused(caught.value)[0]


def test_duration_above_the_longest_is_refused() -> None:
    data = example()
    data["touchpoints"][0]["wait"] = "P99999999W"
    with pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    path, message = refused(caught.value)
    assert "touchpoints[0].wait" == path
    assert "longest duration" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opened_at", "0001-01-01T00:00:00+14:00"),
        ("opened_at", "1850-01-01T00:00:00+00:00"),
        ("touchpoints[0].at", "2400-01-01T00:00:00+00:00"),
    ],
)
def test_instant_outside_the_handled_years_is_refused(field: str, value: str) -> None:
    data = example()
    if field == "opened_at":
        data["opened_at"] = value
    else:
        data["touchpoints"][0]["at"] = value
    with cpu_under(0.5), pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    path, message = refused(caught.value)
    assert field == path
    assert "1900" in message
    assert "2200" in message


def test_grant_at_the_end_of_time_is_refused() -> None:
    data = example("laptop-cover")
    data["grants"][0]["at"] = "9999-12-31T23:59:59.999999-14:00"
    with pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    assert "grants[0].at" == refused(caught.value)[0]


def test_deciding_outside_the_handled_years_is_refused(engine: Engine) -> None:
    case = load_case(json.dumps(example()))
    with pytest.raises(CxRecoveryError) as caught:
        engine.decide(case, at=datetime.fromisoformat("0001-01-01T00:00:00+14:00"))
    assert "at" == refused(caught.value)[0]


def test_expected_ratio_with_a_huge_exponent_is_refused() -> None:
    data = example("laptop-cover")
    data["customer"]["expectation"] = {"compensation_ratio": "1E+999999999"}
    with pytest.raises(DocumentError) as caught:
        load_case(json.dumps(data))
    assert "customer.expectation.compensation_ratio" == refused(caught.value)[0]


def test_expected_ratio_as_a_huge_json_number_is_refused() -> None:
    expectation = '"customer": {"expectation": {"compensation_ratio": 1E+999999999}, '
    text = json.dumps(example("laptop-cover")).replace('"customer": {', expectation, 1)
    with pytest.raises(DocumentError) as caught:
        load_case(text)
    assert "customer.expectation.compensation_ratio" == refused(caught.value)[0]


def test_attributes_are_read_by_key_in_linear_time() -> None:
    data = example()
    data["customer"]["attributes"] = {f"k{i:05d}": i for i in range(20_000)}
    text = json.dumps(data)
    with cpu_under(1.0):
        case = load_case(text)
        dumped = dump(case)
    assert 20_000 == len(dumped["customer"]["attributes"])
    assert 19_999 == case.customer.attributes["k19999"]


def test_huge_integer_in_a_mapping_is_refused_with_its_path() -> None:
    data = example()
    data["id"] = 10**5000
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    path, message = refused(caught.value)
    assert "id" == path
    assert len(message) < 300


def test_deeply_nested_value_in_a_mapping_is_refused_with_its_path() -> None:
    deep: Any = "x"
    for _ in range(990):
        deep = [deep]
    data = example()
    data["touchpoints"][0]["note"] = deep
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    path, message = refused(caught.value)
    assert "touchpoints[0].note" == path
    assert len(message) < 300


def test_signalling_nan_as_the_format_is_refused() -> None:
    data = example()
    data["format"] = Decimal("sNaN")
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    assert "format" == refused(caught.value)[0]


def test_document_above_the_byte_limit_is_refused() -> None:
    data = example()
    text = json.dumps(data)
    with pytest.raises(DocumentError, match="max_document_bytes"):
        load_case(text, limits=Limits(max_document_bytes=len(text) - 1))
    assert load_case(text, limits=Limits(max_document_bytes=len(text))).id == data["id"]


def test_case_file_above_the_byte_limit_is_refused_after_reading_no_more(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(example()) + " " * 4096)
    with pytest.raises(DocumentError, match="max_document_bytes"):
        load_case(path, limits=Limits(max_document_bytes=1024))


def test_reading_a_device_stops_at_the_byte_limit() -> None:
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero here")
    with cpu_under(1.0), pytest.raises(DocumentError, match="max_document_bytes"):
        load_case(zero, limits=Limits(max_document_bytes=1 << 20))


def test_too_many_touchpoints_are_refused() -> None:
    data = example()
    data["touchpoints"] = [data["touchpoints"][0]] * 11
    with pytest.raises(DocumentError, match="max_items") as caught:
        load_case(json.dumps(data), limits=Limits(max_items=10))
    assert "touchpoints" == refused(caught.value)[0]


@pytest.mark.parametrize("most", [1, 2, 3, 10, 25])
@pytest.mark.parametrize("key", ["touchpoints", "events", "attributes"])
def test_the_shortest_text_with_one_item_too_many_is_refused(most: int, key: str) -> None:
    # load_case checks the sizes only of JSON text longer than twice max_items: no list or
    # object in shorter text can hold more. At the edge, the shortest text that does:
    items = ",".join([f'"{chr(97 + i % 26)}{i}":0' for i in range(most + 1)])
    body = "{" + items + "}" if key == "attributes" else "[" + ",".join("0" * (most + 1)) + "]"
    with pytest.raises(DocumentError, match="max_items") as caught:
        load_case(f'{{"{key}":{body}}}', limits=Limits(max_items=most))
    assert key == refused(caught.value)[0]


# --- policies ----------------------------------------------------------------------------

HEADER = '[policy]\nname = "hostile"\nversion = "1"\nextends = "default"\n'


def policy_error(text: str) -> tuple[str, str]:
    """Load a policy that must be refused (in bounded time); its first problem."""
    with cpu_under(1.0), pytest.raises(PolicyError) as caught:
        load_policy(text)
    return refused(caught.value)


def refused_by_engine(text: str) -> tuple[str, str]:
    """A policy refused when it loads or when an engine compiles it."""
    with cpu_under(1.0), pytest.raises(PolicyError) as caught:
        Engine(load_policy(text))
    return refused(caught.value)


def test_policy_with_a_long_integer_is_refused_with_its_path() -> None:
    path, message = policy_error(HEADER + "[facts]\neffort_high_at = " + "9" * 4000 + "\n")
    assert "facts.effort_high_at" == path
    assert "digits" in message


def test_policy_with_an_integer_python_will_not_read_is_refused() -> None:
    # Past 4,300 digits the TOML parser itself refuses the number, without its place.
    _, message = policy_error(HEADER + "[facts]\neffort_high_at = " + "9" * 5000 + "\n")
    assert "digits" in message


def test_policy_with_deeply_nested_arrays_is_refused() -> None:
    _, message = policy_error(HEADER + "x = " + "[" * 2000 + "]" * 2000 + "\n")
    assert "max_depth" in message or "nested" in message


def test_policy_with_deeply_nested_tables_and_extends_is_refused() -> None:
    header = "[" + ".".join(["deep"] * 1000) + "]\nx = 1\n"
    path, message = policy_error(HEADER + header)
    assert path.startswith("deep.deep")
    assert "max_depth" in message


def test_json_policy_nested_900_deep_is_refused() -> None:
    text = '{"policy": {"name": "x", "version": "1", "extends": "default"}, "x": '
    text += "[" * 900 + "]" * 900 + "}"
    path, message = policy_error(text)
    assert path.startswith("x[0][0]")
    assert "max_depth" in message


def test_deeply_nested_policy_mapping_is_refused() -> None:
    deep: Any = 1
    for _ in range(900):
        deep = {"a": deep}
    data = {"policy": {"name": "x", "version": "1", "extends": "default"}, "x": deep}
    with cpu_under(1.0), pytest.raises(PolicyError, match="max_depth"):
        load_policy(data)


def test_policy_limits_can_be_raised_by_the_host() -> None:
    doc = HEADER + '[facts]\nhistory_window = "P30D"\n'
    assert load_policy(doc, limits=Limits(max_depth=20)).facts.history_window == timedelta(days=30)
    with pytest.raises(PolicyError, match="max_depth"):
        load_policy(doc + "x = [[[[1]]]]\n", limits=Limits(max_depth=3))


@pytest.mark.parametrize("warning", ["99999999999999999999%", "1E-999999999%", "1E+999999999%"])
def test_absurd_warning_percentages_are_refused(warning: str) -> None:
    text = HEADER + f'[clocks.first_response]\nwarnings = ["{warning}"]\n'
    path, _ = policy_error(text)
    assert "clocks.first_response.warnings[0]" == path


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("compensation", "hard_cap_ratio", '"1E+999999"'),
        ("promises", "margin_ratio", '"1E+999999"'),
        ("promises", "margin_ratio", str(2**63)),
        ("facts", "recency_decay", '"1E-999999999"'),
        ("facts", "recency_decay", '"1E+999999999"'),
    ],
)
def test_absurd_ratios_are_refused_quickly(section: str, key: str, value: str) -> None:
    path, _ = policy_error(HEADER + f"[{section}]\n{key} = {value}\n")
    assert f"{section}.{key}" == path


@pytest.mark.parametrize(
    ("section", "key"),
    [("facts", "history_window"), ("facts", "goodwill_window"), ("promises", "min_margin")],
)
def test_absurd_durations_are_refused(section: str, key: str) -> None:
    path, message = policy_error(HEADER + f'[{section}]\n{key} = "P999999999D"\n')
    assert f"{section}.{key}" == path
    assert "longest duration" in message


def test_absurd_respond_within_is_refused() -> None:
    text = HEADER.replace(
        'extends = "default"\n', 'extends = "default"\nreplace = ["escalation.levels"]\n'
    )
    text += (
        '[[escalation.levels]]\nlevel = 1\nrole = "supervisor"\nrespond_within = "P999999999D"\n'
    )
    path, message = policy_error(text)
    assert "escalation.levels[0].respond_within" == path
    assert "longest duration" in message


def test_absurd_estimate_in_a_table_is_refused_when_compiled() -> None:
    text = (
        HEADER
        + '[tables.remedy]\nhit_policy = "first"\ninputs = ["category"]\n'
        + 'outputs = { action = "string", estimate = "string", calendar = "string" }\n'
        + '[[tables.remedy.rules]]\nid = "all"\n'
        + 'then = { action = "fix", estimate = "P999999999D", calendar = "support" }\n'
    )
    path, _ = refused_by_engine(text)
    assert path.startswith("tables.remedy")


@pytest.mark.parametrize(
    ("fact", "cell"),
    [
        ("contacts", ">= " + "9" * 5000),
        ("contacts", "9" * 5000),
        ("value_at_stake", ">= " + "9" * 5000),
        ("value_at_stake", "1E-999999999"),
    ],
    ids=["integer-bound", "integer", "decimal-bound", "decimal-exponent"],
)
def test_cell_with_an_absurd_number_is_refused(fact: str, cell: str) -> None:
    text = (
        HEADER
        + f'[tables.remedy]\nhit_policy = "first"\ninputs = ["{fact}"]\n'
        + 'outputs = { action = "string", estimate = "string", calendar = "string" }\n'
        + '[[tables.remedy.rules]]\nid = "big"\n'
        + f'when = {{ {fact} = "{cell}" }}\n'
        + 'then = { action = "fix", estimate = "PT1H", calendar = "support" }\n'
        + '[[tables.remedy.rules]]\nid = "rest"\n'
        + 'then = { action = "fix", estimate = "PT1H", calendar = "support" }\n'
    )
    path, message = refused_by_engine(text)
    assert path.startswith("tables.remedy.rules[0]")
    assert len(message) < 400


def test_empty_top_level_key_is_named() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy('"" = 1\n' + HEADER)
    path, message = refused(caught.value)
    assert path  # a problem the reader can find
    assert "unknown key" in message


def test_set_value_in_a_policy_mapping_is_refused() -> None:
    data = {
        "policy": {"name": "x", "version": "1", "extends": "default"},
        "tables": {"remedy": {"hit_policy": "first", "rules": [{"id": {"a", "b"}}]}},
    }
    with pytest.raises(PolicyError) as caught:
        load_policy(data)
    path, message = refused(caught.value)
    assert "tables.remedy.rules[0].id" == path
    assert "set" in message


def test_policy_text_above_the_byte_limit_is_refused() -> None:
    with pytest.raises(PolicyError, match="max_document_bytes"):
        load_policy(HEADER + "#" * 2000 + "\n", limits=Limits(max_document_bytes=1000))


# --- the command line --------------------------------------------------------------------


def one_line_exit_2(capsys: pytest.CaptureFixture[str], run: Callable[[], int]) -> str:
    code = run()
    err = capsys.readouterr().err
    assert 2 == code
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert 1 == len(lines), err
    assert lines[0].startswith("cxrecovery: ")
    return lines[0]


def case_file(tmp_path: Path) -> str:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example()))
    return str(path)


@pytest.mark.parametrize(
    "policy",
    [
        HEADER + "[facts]\neffort_high_at = " + "9" * 5000 + "\n",
        HEADER + "x = " + "[" * 2000 + "]" * 2000 + "\n",
        HEADER + "[" + ".".join(["deep"] * 1000) + "]\nx = 1\n",
    ],
    ids=["huge-integer", "deep-arrays", "deep-tables"],
)
def test_cli_refuses_a_hostile_policy_in_one_line(
    policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(policy)
    case = case_file(tmp_path)
    for argv in (["decide", case, "--policy", str(path)], ["check", str(path)]):
        one_line_exit_2(capsys, lambda argv=argv: main(argv, out=io.StringIO()))


def test_cli_refuses_a_decision_time_outside_the_handled_years(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = case_file(tmp_path)
    line = one_line_exit_2(
        capsys,
        lambda: main(["decide", case, "--at", "0001-01-01T00:00:00+14:00"], out=io.StringIO()),
    )
    assert "--at" in line or "at:" in line


def test_cli_reads_a_policy_file_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "team-policy.conf"
    path.write_text(HEADER + '[facts]\nhistory_window = "P30D"\n')
    out = io.StringIO()
    assert 0 == main(["decide", case_file(tmp_path), "--policy", str(path)], out=out)
    assert "hostile 1" in out.getvalue()


def test_cli_names_a_missing_policy_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = case_file(tmp_path)
    line = one_line_exit_2(
        capsys,
        lambda: main(["decide", case, "--policy", str(tmp_path / "nope.conf")], out=io.StringIO()),
    )
    assert "nope.conf" in line


@pytest.mark.parametrize("where", ["a-directory", "missing/report.html"])
def test_cli_simulate_report_to_an_unusable_place_exits_2(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-directory").mkdir()
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(example()) + "\n")
    line = one_line_exit_2(
        capsys,
        lambda: main(
            ["simulate", str(cases), "--report", str(tmp_path / where)], out=io.StringIO()
        ),
    )
    assert "--report" in line


@pytest.mark.parametrize("command", ["decide", "show", "check"])
def test_cli_reading_a_device_stops_with_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with cpu_under(5.0):
        line = one_line_exit_2(capsys, lambda: main([command, "/dev/zero"], out=io.StringIO()))
    assert "max_document_bytes" in line


def test_cli_simulate_reading_a_device_stops_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with cpu_under(5.0):
        line = one_line_exit_2(
            capsys,
            lambda: main(["simulate", "/dev/zero", "--on-error", "fail"], out=io.StringIO()),
        )
    assert "max_document_bytes" in line


def test_huge_integer_amount_in_a_mapping_is_refused_with_its_path() -> None:
    data = example()
    data["failure"]["value_at_stake"]["amount"] = 10**5000
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    path, message = refused(caught.value)
    assert "failure.value_at_stake.amount" == path
    assert len(message) < 300
