"""Bad arguments to the public functions: a CxRecoveryError naming the argument, always.

Each row calls one entry point with one bad argument (everything else good) and names
the path the error must start with. Nothing here may escape as a TypeError,
AttributeError or FileNotFoundError from inside the library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import cxrecovery as cx
from cxrecovery import metrics
from cxrecovery.documents import dump
from cxrecovery.ledger import SQLiteLedger
from cxrecovery.replay import compare, read_cases, simulate, synthetic_cases
from cxrecovery.tables import DecisionTable, FactKind, FactSpec

POLICY = cx.default_policy()
ENGINE = cx.Engine(POLICY)
CASE = next(c for c in synthetic_cases(50, seed=3) if not c.is_closed)
AT = CASE.last_event_at() + timedelta(hours=1)
NAIVE = datetime(2026, 5, 4, 9, 0)
EUR = cx.Money(
    "5.00", CASE.failure.value_at_stake.currency if CASE.failure.value_at_stake else "EUR"
)

TABLE = DecisionTable.from_dict(
    "t",
    {
        "hit_policy": "first",
        "inputs": ["n"],
        "outputs": {"o": "string"},
        "rules": [{"then": {"o": "x"}}],
    },
    facts={"n": FactSpec("n", FactKind.INTEGER)},
)

Call = Callable[[], object]

BAD: list[tuple[str, Call, str]] = [
    # the engine
    ("decide spent float", lambda: ENGINE.decide(CASE, at=AT, spent=3.5), "spent"),
    ("decide goodwill str", lambda: ENGINE.decide(CASE, at=AT, goodwill="5"), "goodwill"),
    ("decide case str", lambda: ENGINE.decide("case", at=AT), "case"),
    ("decide at naive", lambda: ENGINE.decide(CASE, at=NAIVE), "at"),
    ("facts case str", lambda: ENGINE.facts("case", AT), "case"),
    ("facts at str", lambda: ENGINE.facts(CASE, "soon"), "at"),
    ("authorize case", lambda: ENGINE.authorize(None, EUR, "credit", at=AT), "case"),
    ("authorize spent", lambda: ENGINE.authorize(CASE, EUR, "credit", at=AT, spent=1), "spent"),
    ("authorize amount", lambda: ENGINE.authorize(CASE, 5, "credit", at=AT), "amount"),
    # the sweep
    ("sweep not iterable", lambda: ENGINE.sweep(5, AT), "open_cases"),
    ("sweep one case", lambda: ENGINE.sweep(CASE, AT), "open_cases"),
    ("sweep item", lambda: ENGINE.sweep([CASE, "x"], AT), "open_cases[1]"),
    ("sweep at naive", lambda: ENGINE.sweep([CASE], NAIVE), "at"),
    (
        "sweep review str",
        lambda: ENGINE.sweep([CASE], AT, next_reviews={CASE.id: "soon"}),
        "next_reviews['",
    ),
    (
        "sweep review naive",
        lambda: ENGINE.sweep([CASE], AT, next_reviews={CASE.id: NAIVE}),
        "next_reviews['",
    ),
    ("sweep reviews list", lambda: ENGINE.sweep([CASE], AT, next_reviews=[AT]), "next_reviews"),
    ("sweep horizon int", lambda: ENGINE.sweep([CASE], AT, horizon=5), "horizon"),
    ("sweep horizon negative", lambda: ENGINE.sweep([CASE], AT, horizon=timedelta(-1)), "horizon"),
    (
        "sweep promise_horizon",
        lambda: ENGINE.sweep([CASE], AT, promise_horizon=None),
        "promise_horizon",
    ),
    # metrics
    ("nps not iterable", lambda: metrics.nps(5), "cases"),
    ("csat item", lambda: metrics.csat([CASE, None]), "cases[1]"),
    ("ces item", lambda: metrics.ces(["x"]), "cases[0]"),
    ("promise_kept_rate at", lambda: metrics.promise_kept_rate([CASE], at=NAIVE), "at"),
    ("double_deviation_rate at", lambda: metrics.double_deviation_rate([CASE], at="x"), "at"),
    (
        "repeat_failure_rate window",
        lambda: metrics.repeat_failure_rate([CASE], window=90),
        "window",
    ),
    ("first_contact_resolution item", lambda: metrics.first_contact_resolution([1]), "cases[0]"),
    ("contacts_per_resolution", lambda: metrics.contacts_per_resolution(CASE), "cases"),
    ("time_in_limbo at", lambda: metrics.time_in_limbo([CASE], at=NAIVE), "at"),
    (
        "ratio distribution item",
        lambda: metrics.compensation_ratio_distribution([CASE]),
        "plans[0]",
    ),
    # replay
    ("simulate cases int", lambda: simulate(POLICY, 5), "cases"),
    ("simulate at str", lambda: simulate(POLICY, [CASE], at="x"), "at"),
    ("simulate at naive", lambda: simulate(POLICY, [CASE], at=NAIVE), "at"),
    ("simulate executor", lambda: simulate(POLICY, [CASE], executor=5), "executor"),
    ("simulate risk_horizon", lambda: simulate(POLICY, [CASE], risk_horizon=24), "risk_horizon"),
    ("simulate progress", lambda: simulate(POLICY, [CASE], progress=True), "progress"),
    ("compare cases int", lambda: compare(POLICY, POLICY, 7), "cases"),
    ("synthetic seed", lambda: list(synthetic_cases(2, seed="a")), "seed"),
    ("synthetic start", lambda: list(synthetic_cases(2, start=NAIVE)), "start"),
    ("synthetic span", lambda: list(synthetic_cases(2, span=timedelta(0))), "span"),
    # the building blocks
    ("table facts list", lambda: TABLE.evaluate([1]), "facts"),
    ("ledger path int", lambda: SQLiteLedger(5), "path"),
]


@pytest.mark.parametrize(("call", "path"), [(c, p) for _, c, p in BAD], ids=[n for n, _, _ in BAD])
def test_a_bad_argument_is_named(call: Call, path: str) -> None:
    with pytest.raises(cx.CxRecoveryError) as caught:
        call()
    assert str(caught.value).startswith(path), str(caught.value)


def test_the_good_calls_beside_them_work() -> None:
    # The rows above fail for their one bad argument, not for the rest of the call.
    ENGINE.decide(CASE, at=AT, spent=None, goodwill=None)
    ENGINE.sweep([CASE], AT, next_reviews={CASE.id: None}, horizon=timedelta(hours=1))
    metrics.time_in_limbo([CASE], at=AT)
    simulate(POLICY, [CASE], at=AT, risk_horizon=timedelta(hours=2), progress=lambda n: None)
    assert 2 == len(list(synthetic_cases(2, seed=-4, start=datetime(2026, 1, 1, tzinfo=UTC))))


def test_a_missing_file_is_a_document_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(cx.DocumentError, match=r"^cases: cannot read .*missing\.jsonl"):
        simulate(POLICY, missing)
    with pytest.raises(cx.DocumentError, match=r"^cases: cannot read"):
        list(read_cases(str(missing)))


def test_a_line_that_is_not_utf8_is_one_bad_line(tmp_path: Path) -> None:

    good = json.dumps(dump(CASE)).encode()
    path = tmp_path / "cases.jsonl"
    path.write_bytes(good + b"\n" + b'{"id": "caf\xe9"}\n' + b"\n" + good + b"\n")
    summary = simulate(POLICY, path)
    assert (2, 1) == (summary.cases, summary.errors)
    assert 2 == summary.bad_lines[0].line
    assert "not UTF-8" in summary.bad_lines[0].error
    with pytest.raises(cx.DocumentError, match=r"^line 2: not UTF-8"):
        list(read_cases(path))


def test_a_settable_maker_makes_the_instance_the_class_would() -> None:
    import attrs

    from cxrecovery._validation import settable_maker

    @attrs.frozen
    class Pair:  # field names that the maker's own locals must not shadow
        make: int
        made: str

    make = settable_maker(Pair, "being tested")
    made = make(1, "x")
    assert type(made) is Pair
    assert (made, hash(made), repr(made)) == (
        Pair(1, "x"),
        hash(Pair(1, "x")),
        "Pair(make=1, made='x')",
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.make = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        make(1)  # every field, by position
    money = cx.Money._made(cx.Money("1.50", "EUR").amount, "EUR")
    assert (type(money), money) == (cx.Money, cx.Money("1.50", "EUR"))
