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
