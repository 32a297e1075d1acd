"""The bundled default policy, read once per process: each caller gets its own copy."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import Engine, default_policy, load_case, load_policy
from cxrecovery.policy._fingerprint import canonical, fingerprint

CASE = load_case(Path(__file__).parent.parent / "examples" / "cases" / "laptop-repair.json")


def parsed_text() -> dict[str, Any]:
    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_default_policy_is_its_text_parsed_each_time_as_if_anew() -> None:
    first = default_policy()
    assert first.document == canonical(parsed_text())
    assert first == load_policy(parsed_text())  # the same policy as the text, parsed now
    # What one caller does to its copy, no later caller sees.
    first.document["compensation"]["hard_cap_ratio"] = "9"
    first.tables[first.compensation.table]["rules"].clear()
    second = default_policy()
    assert second.document == canonical(parsed_text())
    assert second.tables[second.compensation.table]["rules"]
    assert second.fingerprint == first.fingerprint
    at = CASE.last_event_at()
    assert Engine(second).decide(CASE, at=at) == Engine(load_policy(parsed_text())).decide(
        CASE, at=at
    )


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
_documents = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["a", "b", "source", "policy"]), inner, max_size=3),
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["policy", "tables", "x"]), _documents, max_size=3))
def test_the_fingerprint_of_a_canonical_document_needs_no_second_conversion(
    document: dict[str, Any],
) -> None:
    assert fingerprint(document) == fingerprint(canonical(document), is_canonical=True)
    assert fingerprint(document) == fingerprint(canonical(document))
