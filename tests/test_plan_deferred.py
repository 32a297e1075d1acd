"""A deferred plan: some fields filled on first read, indistinguishable from an eager plan."""

from __future__ import annotations

import copy
import gc
import pickle
import threading
import weakref
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _deferral import is_set
from cxrecovery import Agent, Case, Engine, default_policy, load_case
from cxrecovery.plan import Action, Approval, RecoveryPlan
from cxrecovery.plan._deferred import Deferrable
from cxrecovery.testing.strategies import cases

POLICY = default_policy()
ENGINE = Engine(POLICY)
ROLES = [r.name for r in POLICY.roles]
NAMES = [f.name for f in attrs.fields(RecoveryPlan)]
CASES = Path(__file__).parent.parent / "examples" / "cases"
D = TypeVar("D", bound=Deferrable)


def values_of(value: Deferrable) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in attrs.fields(type(value))}


def split(value: D, deferred: set[str]) -> tuple[D, list[int], Callable[[], dict[str, Any]]]:
    """A deferred twin of ``value`` (the fields in ``deferred`` left to the fill), the
    list the fill counts its calls in, and the fill."""
    values = values_of(value)
    calls: list[int] = []

    def fill() -> dict[str, Any]:
        calls.append(1)
        return {n: values[n] for n in deferred}

    eager = {n: v for n, v in values.items() if n not in deferred}
    return type(value)._deferred(fill, **eager), calls, fill


@st.composite
def plans(draw: st.DrawFn) -> RecoveryPlan:
    case: Case = draw(cases())
    at = case.last_event_at() + timedelta(seconds=draw(st.integers(0, 30 * 86400)))
    role = draw(st.sampled_from(ROLES))
    return ENGINE.decide(case, at=at, agent=Agent("a-1", role), explain=draw(st.booleans()))


@pytest.fixture(scope="module")
def plan() -> RecoveryPlan:
    case = load_case(CASES / "laptop-repair.json")
    return ENGINE.decide(case, at=case.last_event_at())


@given(plans(), st.data())
def test_a_deferred_plan_behaves_as_the_eager_plan_of_the_same_values(
    plan: RecoveryPlan, data: st.DataObject
) -> None:
    deferred_names = data.draw(st.sets(st.sampled_from(NAMES), min_size=1))
    # Each way of reading the plan, on a fresh twin each time.
    reads: list[Callable[[RecoveryPlan], object]] = [
        lambda p: p,
        hash,
        repr,
        pickle.dumps,
        lambda p: pickle.loads(pickle.dumps(p)),
        lambda p: attrs.evolve(p, role="x"),
        attrs.asdict,
        RecoveryPlan.to_json,
        copy.copy,
        copy.deepcopy,
        RecoveryPlan.decision,
    ]
    for read in reads:
        twin, calls, _ = split(plan, deferred_names)
        assert type(twin) is RecoveryPlan
        assert [] == calls
        assert read(twin) == read(plan)
        assert len(calls) <= 1  # evolve and decision() need not read what they replace
        assert values_of(twin) == values_of(plan)
        assert [1] == calls
    twin, calls, _ = split(plan, deferred_names)
    assert plan == twin
    assert twin == plan
    assert values_of(twin) == values_of(plan)
    assert [1] == calls  # once, whatever is read after


@given(plans(), st.data())
def test_deferred_actions_and_approvals_behave_as_eager_ones_in_and_out_of_a_plan(
    plan: RecoveryPlan, data: st.DataObject
) -> None:
    parts: list[Action | Approval] = [*plan.actions, *plan.approvals]
    twins = []
    for part in parts:
        names = [f.name for f in attrs.fields(type(part))]
        twin, calls, _ = split(part, data.draw(st.sets(st.sampled_from(names), min_size=1)))
        assert type(twin) is type(part)
        assert (twin, hash(twin), repr(twin)) == (part, hash(part), repr(part))
        assert pickle.dumps(twin) == pickle.dumps(part)
        assert [1] == calls
        twins.append(split(part, set(names[1:]))[0])
    actions, approvals = twins[: len(plan.actions)], twins[len(plan.actions) :]
    whole = attrs.evolve(plan, actions=tuple(actions), approvals=tuple(approvals))
    assert plan.to_json() == whole.to_json()
    assert attrs.asdict(plan) == attrs.asdict(whole)
    assert plan.decision() == whole.decision()


@given(plans(), st.data())
def test_a_maker_by_position_makes_what_the_maker_by_keyword_makes(
    plan: RecoveryPlan, data: st.DataObject
) -> None:
    """``_deferring(*names)(fill, *values)`` is ``_deferred(fill, **dict(zip(names,
    values)))``, whatever fields are given, in whatever order."""
    values = values_of(plan)
    given_names = data.draw(
        st.permutations(NAMES).flatmap(
            lambda n: st.sampled_from([tuple(n[:i]) for i in range(len(n) + 1)])
        )
    )
    left = [n for n in NAMES if n not in given_names]
    calls: list[str] = []

    def fill(way: str) -> Callable[[], dict[str, Any]]:
        def filled() -> dict[str, Any]:
            calls.append(way)
            return {n: values[n] for n in left}

        return filled

    maker = RecoveryPlan._deferring(*given_names)
    assert maker is RecoveryPlan._deferring(*given_names)  # written once, kept
    by_position = maker(fill("position"), *(values[n] for n in given_names))
    by_keyword = RecoveryPlan._deferred(fill("keyword"), **{n: values[n] for n in given_names})
    assert type(by_position) is RecoveryPlan
    assert [] == calls
    for name in given_names:  # set now, read without a fill
        assert is_set(by_position, name)
    assert pickle.dumps(by_position) == pickle.dumps(by_keyword) == pickle.dumps(plan)
    assert by_position == by_keyword == plan
    assert calls == (["position", "keyword"] if left else [])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        by_position.owner = "someone"  # type: ignore[misc]


def test_a_maker_by_position_refuses_a_name_not_a_field_or_given_twice() -> None:
    with pytest.raises(TypeError, match="unexpected field 'colour'"):
        RecoveryPlan._deferring("owner", "colour")
    with pytest.raises(TypeError, match="repeated field 'owner'"):
        RecoveryPlan._deferring("owner", "role", "owner")
    toy = ToyChild._deferring("made", "cls")(lambda: {"fill": 2, "left": 3}, "x", 1)
    assert type(toy) is ToyChild
    assert ToyChild(1, 2, 3, "x") == toy


def test_the_fields_and_the_class_are_those_of_any_plan(plan: RecoveryPlan) -> None:
    twin, _, _ = split(plan, {"actions", "trace", "facts"})
    assert type(twin) is RecoveryPlan
    assert attrs.fields(type(twin)) == attrs.fields(type(plan))
    assert NAMES == list(attrs.asdict(twin))
    assert attrs.asdict(plan) == attrs.asdict(twin)


def test_pickling_a_deferred_plan_pickles_the_filled_values_not_the_fill(
    plan: RecoveryPlan,
) -> None:
    values = values_of(plan)
    lock = threading.Lock()  # a fill holding a lock cannot be pickled itself

    def fill() -> dict[str, Any]:
        with lock:
            return {"trace": values["trace"], "actions": values["actions"]}

    eager = {n: v for n, v in values.items() if n not in ("trace", "actions")}
    twin = RecoveryPlan._deferred(fill, **eager)
    again = pickle.loads(pickle.dumps(twin))
    assert plan == again
    assert pickle.dumps(plan) == pickle.dumps(twin)
    assert None is again.__getstate__().get("_pending")


def test_the_fill_is_dropped_once_it_has_run(plan: RecoveryPlan) -> None:
    class Fill:
        def __init__(self, values: dict[str, Any]) -> None:
            self.values = values

        def __call__(self) -> dict[str, Any]:
            return dict(self.values)

    values = values_of(plan)
    fill = Fill({"facts": values["facts"]})
    alive = weakref.ref(fill)
    twin = RecoveryPlan._deferred(fill, **{n: v for n, v in values.items() if n != "facts"})
    del fill
    gc.collect()
    assert alive() is not None  # kept alive until the first read
    assert plan.facts == twin.facts
    gc.collect()
    assert alive() is None


def test_a_deferred_plan_is_frozen_before_and_after_its_fill(plan: RecoveryPlan) -> None:
    twin, calls, _ = split(plan, {"owner", "actions"})
    for _ in range(2):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            twin.owner = "someone"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            twin._pending = None
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            del twin.actions
        assert plan.owner == twin.owner
    assert [1] == calls


def test_threads_reading_at_once_see_one_fill(plan: RecoveryPlan) -> None:
    values = values_of(plan)
    deferred = {"actions", "trace", "facts", "clocks", "owner"}
    calls: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def fill() -> dict[str, Any]:
        calls.append(1)
        started.set()
        release.wait(5)
        # Fresh (equal, not identical) objects, so a second fill would show.
        return {n: copy.deepcopy(values[n]) for n in deferred}

    twin = RecoveryPlan._deferred(fill, **{n: v for n, v in values.items() if n not in deferred})
    seen: list[tuple[object, ...]] = []

    def read(name: str) -> None:
        seen.append((getattr(twin, name), twin.actions, twin.trace, twin.owner))

    threads = [threading.Thread(target=read, args=(n,)) for n in sorted(deferred) * 4]
    threads[0].start()
    assert started.wait(5)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert [1] == calls
    assert 20 == len(seen)
    first = seen[0][1:]
    assert all(all(a is b for a, b in zip(s[1:], first, strict=True)) for s in seen)
    assert plan == twin


def test_a_fill_that_raises_raises_on_the_read_and_stays_pending(plan: RecoveryPlan) -> None:
    values = values_of(plan)
    outcomes: list[Mapping[str, Any] | Exception] = [RuntimeError("broken"), {"trace": ()}]

    def fill() -> Mapping[str, Any]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    twin = RecoveryPlan._deferred(fill, **{n: v for n, v in values.items() if n != "trace"})
    with pytest.raises(RuntimeError, match="broken"):
        _ = twin.trace
    assert () == twin.trace
    assert [] == outcomes


@pytest.mark.parametrize(
    ("given_back", "message"),
    [
        ({"trace": ()}, r"must give exactly \['facts', 'trace'\], gave \['trace'\]"),
        ({"trace": (), "facts": {}, "owner": "x"}, r"gave \['facts', 'owner', 'trace'\]"),
        ([("trace", ())], r"gave list"),
        # As many fields as are left, but one of them set already, or not a field.
        ({"trace": (), "owner": "x"}, r"gave \['owner', 'trace'\]"),
        ({"trace": (), "nothing": 1}, r"gave \['nothing', 'trace'\]"),
    ],
)
def test_a_fill_must_give_exactly_the_fields_left(
    plan: RecoveryPlan, given_back: object, message: str
) -> None:
    values = values_of(plan)
    eager = {n: v for n, v in values.items() if n not in ("trace", "facts")}
    twin = RecoveryPlan._deferred(lambda: given_back, **eager)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=message):
        _ = twin.facts


def test_a_fill_that_reads_its_own_plan_is_refused(plan: RecoveryPlan) -> None:
    values = values_of(plan)
    twin: RecoveryPlan

    def fill() -> dict[str, Any]:
        return {"trace": twin.trace}

    twin = RecoveryPlan._deferred(fill, **{n: v for n, v in values.items() if n != "trace"})
    with pytest.raises(RuntimeError, match="read one of the fields it fills"):
        _ = twin.trace


def test_an_unknown_eager_name_is_refused_and_a_full_set_needs_no_fill(
    plan: RecoveryPlan,
) -> None:
    with pytest.raises(TypeError, match="colour"):
        RecoveryPlan._deferred(dict, colour="red")

    def never() -> dict[str, Any]:
        raise AssertionError("not called")

    whole = RecoveryPlan._deferred(never, **values_of(plan))
    assert plan == whole
    with pytest.raises(AttributeError):
        _ = whole.colour  # type: ignore[attr-defined]


@attrs.frozen
class Toy(Deferrable):
    cls: int
    fill: int
    left: int = 0


@attrs.frozen
class ToyChild(Toy):
    made: str = ""


def test_any_field_names_and_a_subclass_with_fields_of_its_own() -> None:
    toy = Toy._deferred(lambda: {"fill": 2, "left": 3}, cls=1)
    assert Toy(1, 2, 3) == toy
    child = ToyChild._deferred(lambda: {"made": "x", "left": 3}, cls=1, fill=2)
    assert type(child) is ToyChild
    assert ToyChild(1, 2, 3, "x") == child
    assert Toy(4, 5, 6) == Toy._deferred(dict, cls=4, fill=5, left=6)


def test_a_made_value_is_of_its_own_class_and_frozen_whatever_was_given(
    plan: RecoveryPlan,
) -> None:
    # The maker sets the slots on a twin class and then gives the value its own class.
    action = plan.actions[0]
    for value, deferred in ((plan, {"facts"}), (plan, set()), (action, {"summary"})):
        twin, _, _ = split(value, deferred)
        assert type(twin) is type(value)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            twin.owner = "someone"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            del twin.owner
        assert value == twin
        assert pickle.dumps(value) == pickle.dumps(twin)
