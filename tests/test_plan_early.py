"""One field of a deferred value read alone: FieldParts, early() and decided_actions()."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import pytest

from _deferral import is_set
from cxrecovery import Engine, default_policy, load_case
from cxrecovery.errors import InvalidValueError
from cxrecovery.plan import FieldParts, Parts, RecoveryPlan, decided_actions, early

ENGINE = Engine(default_policy())
CASES = Path(__file__).parent.parent / "examples" / "cases"


@pytest.fixture(scope="module")
def plan() -> RecoveryPlan:
    case = load_case(CASES / "laptop-repair.json")
    return ENGINE.decide(case, at=case.last_event_at(), explain=True)


def counted(plan: RecoveryPlan) -> tuple[RecoveryPlan, dict[str, int]]:
    """A twin of ``plan`` with actions, facts and trace deferred to counting parts."""
    calls = {"actions": 0, "facts": 0, "trace": 0}

    def part(name: str) -> Callable[[RecoveryPlan], object]:
        def made(source: RecoveryPlan) -> object:
            calls[name] += 1
            return getattr(source, name)

        return made

    eager = {
        f.name: getattr(plan, f.name) for f in attrs.fields(RecoveryPlan) if f.name not in calls
    }
    parts = FieldParts(plan, {name: part(name) for name in calls})
    return RecoveryPlan._deferred(parts, **eager), calls


def test_the_actions_read_alone_work_out_nothing_else(plan: RecoveryPlan) -> None:
    twin, calls = counted(plan)
    actions = decided_actions(twin)
    assert actions == plan.actions
    assert {"actions": 1, "facts": 0, "trace": 0} == calls
    assert not is_set(twin, "actions")  # the plan itself is not filled
    assert not is_set(twin, "facts")
    assert decided_actions(twin) is actions  # kept: worked out once
    assert 1 == calls["actions"]


def test_the_fill_after_an_early_read_gives_the_same_actions_and_the_rest(
    plan: RecoveryPlan,
) -> None:
    twin, calls = counted(plan)
    actions = decided_actions(twin)
    assert twin.facts == plan.facts  # the first read of another field fills the plan
    assert twin.actions is actions
    assert {"actions": 1, "facts": 1, "trace": 1} == calls
    assert twin == plan
    assert hash(twin) == hash(plan)
    assert repr(twin) == repr(plan)
    assert pickle.dumps(twin) == pickle.dumps(plan)
    assert decided_actions(twin) is actions
    assert {"actions": 1, "facts": 1, "trace": 1} == calls


def test_a_filled_plan_an_eager_plan_and_a_plain_fill_give_their_actions(
    plan: RecoveryPlan,
) -> None:
    assert decided_actions(plan) is plan.actions  # made in one go
    twin, calls = counted(plan)
    assert twin.trace == plan.trace
    assert decided_actions(twin) is twin.actions  # filled already: nothing worked out
    assert {"actions": 1, "facts": 1, "trace": 1} == calls
    values = {f.name: getattr(plan, f.name) for f in attrs.fields(RecoveryPlan)}
    plain = RecoveryPlan._deferred(
        lambda: {"actions": values["actions"], "facts": values["facts"]},
        **{n: v for n, v in values.items() if n not in ("actions", "facts")},
    )
    assert decided_actions(plain) == plan.actions  # a plain fill: the whole fill runs
    assert is_set(plain, "facts")


def test_a_field_without_a_part_of_its_own_is_read_as_any_read_reads_it(
    plan: RecoveryPlan,
) -> None:
    twin, calls = counted(plan)
    assert early(twin, "owner") == plan.owner  # set already
    assert early(twin, "facts") == plan.facts  # a part: made alone
    assert {"actions": 0, "facts": 1, "trace": 0} == calls
    assert not is_set(twin, "facts")


def test_fieldparts_give_each_field_once_and_a_failing_part_leaves_the_plan_pending(
    plan: RecoveryPlan,
) -> None:
    failures = [RuntimeError("no")]

    def actions(source: RecoveryPlan) -> Any:
        if failures:
            raise failures.pop()
        return source.actions

    eager = {
        f.name: getattr(plan, f.name)
        for f in attrs.fields(RecoveryPlan)
        if f.name not in ("actions", "facts")
    }
    parts = FieldParts(plan, {"actions": actions, "facts": lambda p: p.facts})
    twin = RecoveryPlan._deferred(parts, **eager)
    with pytest.raises(RuntimeError):
        decided_actions(twin)
    assert decided_actions(twin) == plan.actions
    assert twin == plan


def test_threads_reading_early_and_filling_at_once_work_each_part_out_once(
    plan: RecoveryPlan,
) -> None:
    def read(twin: RecoveryPlan, alone: bool, start: threading.Barrier, seen: list[Any]) -> None:
        start.wait()
        seen.append(decided_actions(twin) if alone else twin.actions)

    for _ in range(20):
        twin, calls = counted(plan)
        start = threading.Barrier(8)
        seen: list[object] = []
        threads = [
            threading.Thread(target=read, args=(twin, i % 2 == 1, start, seen)) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert {"actions": 1, "facts": 1, "trace": 1} == calls
        assert all(s is twin.actions for s in seen)


def test_decide_keeps_a_plan_it_did_not_explain_unfilled_after_decided_actions() -> None:
    case = load_case(CASES / "laptop-repair.json")
    made = ENGINE.decide(case, at=case.last_event_at())
    actions = decided_actions(made)
    assert not is_set(made, "facts")
    assert not is_set(made, "trace")
    # Their words wait too (an escalation's as well).
    waiting = [a for a in actions if not is_set(a, "summary")]
    assert list(actions) == waiting
    assert made.actions is actions
    assert made == ENGINE.decide(case, at=case.last_event_at(), explain=False)


def test_a_part_of_a_partial_of_parts_is_read_alone(plan: RecoveryPlan) -> None:
    """A fill that is a ``partial`` of :class:`Parts` gives one field to ``early`` by
    its part alone (worked out again, equal, by the fill), and the rest when read."""
    calls = {"owner": 0, "facts": 0}

    def part(name: str) -> Callable[[RecoveryPlan, str], object]:
        def made(source: RecoveryPlan, tag: str) -> object:
            assert tag == "tag"
            calls[name] += 1
            return getattr(source, name)

        return made

    eager = {
        f.name: getattr(plan, f.name) for f in attrs.fields(RecoveryPlan) if f.name not in calls
    }
    fill = partial(Parts({name: part(name) for name in calls}), plan, "tag")
    twin = RecoveryPlan._deferred(fill, **eager)
    assert early(twin, "owner") == plan.owner
    assert {"owner": 1, "facts": 0} == calls
    assert not is_set(twin, "owner")  # not kept: the fill works it out again
    assert early(twin, "trace") == plan.trace  # set already: read as it is
    assert twin.facts == plan.facts
    assert {"owner": 2, "facts": 1} == calls
    assert twin == plan
    assert early(twin, "owner") == plan.owner  # filled: read as it is
    assert {"owner": 2, "facts": 1} == calls


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: Parts(5), "parts"),  # type: ignore[arg-type]
        (lambda: Parts({1: len}), "parts"),  # type: ignore[dict-item]
        (lambda: Parts({"owner": "not a function"}), "parts['owner']"),  # type: ignore[dict-item]
        (lambda: FieldParts(None, 5), "parts"),  # type: ignore[arg-type]
    ],
)
def test_parts_not_a_mapping_of_names_to_functions_are_refused(
    make: Callable[[], object], where: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        make()
    assert [where] == [p.path for p in caught.value.problems]


def test_a_fieldparts_part_that_is_not_a_function_is_said_when_it_is_called(
    plan: RecoveryPlan,
) -> None:
    eager = {f.name: getattr(plan, f.name) for f in attrs.fields(RecoveryPlan)}
    del eager["owner"], eager["facts"]
    bad = {"owner": lambda p: p.owner, "facts": "not a function"}
    early_twin = RecoveryPlan._deferred(FieldParts(plan, bad), **eager)  # type: ignore[arg-type]
    assert early(early_twin, "owner") == plan.owner
    with pytest.raises(InvalidValueError, match=r"parts\['facts'\]"):
        early(early_twin, "facts")
    read_twin = RecoveryPlan._deferred(FieldParts(plan, bad), **eager)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"parts\['facts'\]"):
        read_twin.facts  # noqa: B018 - the read fills
    assert not is_set(read_twin, "owner")  # still to fill


@pytest.mark.parametrize("name", ["no_such_field", 3, None])
def test_early_refuses_what_is_not_a_field(plan: RecoveryPlan, name: object) -> None:
    twin, _ = counted(plan)
    for made in (plan, twin):
        with pytest.raises(InvalidValueError) as caught:
            early(made, name)  # type: ignore[arg-type]
        assert ["name"] == [p.path for p in caught.value.problems]
    with pytest.raises(InvalidValueError, match="not an attrs value"):
        early(5, "owner")  # type: ignore[arg-type]


def test_early_lets_a_parts_own_error_through(plan: RecoveryPlan) -> None:
    """An AttributeError or TypeError raised inside a part, for a real field, is that
    part's error: it is not said to be a bad name."""

    def broken(source: RecoveryPlan) -> object:
        raise AttributeError("inside the part")

    eager = {f.name: getattr(plan, f.name) for f in attrs.fields(RecoveryPlan)}
    del eager["owner"]
    twin = RecoveryPlan._deferred(FieldParts(plan, {"owner": broken}), **eager)
    with pytest.raises(AttributeError, match="inside the part"):
        early(twin, "owner")
