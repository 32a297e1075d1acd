"""The one driver ``bench/ab.py`` runs for both trees: public API only.

Not meant to be run by hand. ``bench/ab.py`` starts it with ``PYTHONPATH=<tree>/src`` so
that ``import cxrecovery`` picks the tree under test; everything here must therefore work
on every tree compared (the public names used: ``Engine``, ``default_policy``,
``load_case``, ``dump``, ``simulate``, ``Engine.sweep``, ``synthetic_cases`` and the
model's constructors).

Modes:

- ``docs OUT``: write the input documents (the typical case's JSON text and
  ``--cases`` synthetic case documents) to OUT, so both trees read the same bytes;
- ``callgrind``: set up, then call ``os.getppid()`` once as a marker, once more right away
  (the marker's own cost, to subtract), and once after each operation. Run under
  ``valgrind --tool=callgrind --dump-before=os_getppid`` each marker starts a new dump
  part, so every part after the second is one operation's instructions;
- ``wall``: set up, time each operation with ``perf_counter`` (wall clock) and
  ``process_time`` (this process's CPU time, which a loaded machine inflates less) and
  print both as JSON lists of seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cxrecovery as cx

SWEEP_START = datetime(2026, 3, 2, tzinfo=UTC)
SWEEP_SPAN = timedelta(days=14)
SWEEP_AT = SWEEP_START + SWEEP_SPAN + timedelta(hours=10)


def typical_case() -> Any:
    """The typical case of ``bench/bench_engine.py``: 10 touchpoints, 3 promises."""
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def at(hours: float) -> datetime:
        return t0 + timedelta(hours=hours)

    channels = [cx.Channel.CHAT, cx.Channel.EMAIL, cx.Channel.PHONE]
    touchpoints = [
        cx.Touchpoint(
            at(i * 3),
            channels[i % 3],
            cx.TouchpointKind.TRANSFER if i == 4 else cx.TouchpointKind.CONTACT,
            direction=cx.Direction.OUTBOUND if i % 2 else cx.Direction.INBOUND,
            agent="agent-7" if i % 2 else None,
            outcome=cx.Outcome.FAILED if i == 6 else cx.Outcome.PROGRESSED,
            sentiment=cx.Sentiment.NEGATIVE if i > 5 else cx.Sentiment.NEUTRAL,
            wait=timedelta(minutes=5 * i),
        )
        for i in range(10)
    ]
    promises = (
        cx.Promise(
            "p1", "call back", at(1), at(2), status=cx.PromiseStatus.KEPT, settled_at=at(1.5)
        ),
        cx.Promise(
            "p2", "send the part", at(4), at(20), status=cx.PromiseStatus.BROKEN, settled_at=at(21)
        ),
        cx.Promise("p3", "repair done", at(22), at(60)),
    )
    return cx.Case(
        "bench-1",
        cx.Customer("c-1", segment="gold", preferred_channel=cx.Channel.EMAIL),
        cx.Failure(
            "late_delivery",
            cx.Severity.MEDIUM,
            cx.Fault.COMPANY,
            value_at_stake=cx.Money("240.00", "EUR"),
            service_usable=True,
        ),
        t0,
        touchpoints=tuple(touchpoints),
        promises=promises,
    )


def text(case: Any) -> str:
    return json.dumps(cx.dump(case), separators=(",", ":"))


def write_docs(out: Path, count: int) -> None:
    docs = {
        "typical": text(typical_case()),
        # Measured: seed 7 as bench_engine.py's varied stream. Warm-up: seed 8.
        "synthetic": [text(c) for c in cx.synthetic_cases(count, seed=7)],
        "warm": [text(c) for c in cx.synthetic_cases(max(10, count // 4), seed=8)],
    }
    out.write_text(json.dumps(docs), encoding="utf-8")


def open_backlog(count: int, seed: int) -> list[Any]:
    """``count`` distinct open cases opened over the fortnight before SWEEP_AT."""
    history = cx.synthetic_cases(count * 3, seed=seed, start=SWEEP_START, span=SWEEP_SPAN)
    pool = [c for c in history if not c.is_closed][:count]
    assert len(pool) == count, f"only {len(pool)} open cases"
    return pool


def after_last_event(case: Any) -> datetime:
    when: datetime = case.last_event_at() + timedelta(hours=1)
    return when


# Each setup returns the operations to measure, in order, and their unit count (how many
# cases one operation covers: an operation of a replay or a sweep covers many).
Setup = tuple[list[Callable[[], object]], int]


def setup(measure: str, docs: dict[str, Any], ops: int, tmp: Path) -> Setup:
    synthetic: list[str] = docs["synthetic"]
    warm: list[str] = docs["warm"]
    if measure == "decide":
        engine = cx.Engine(cx.default_policy())
        case = typical_case()
        at = after_last_event(case)
        for _ in range(3):
            engine.decide(case, at=at)
        return [lambda: engine.decide(case, at=at)] * ops, 1
    if measure == "decide-synthetic":
        engine = cx.Engine(cx.default_policy())
        # Warm the engine on other cases: calendars and zones loaded, but nothing kept
        # from deciding exactly the measured cases.
        for c in map(cx.load_case, warm):
            engine.decide(c, at=after_last_event(c))
        cases = [cx.load_case(d) for d in synthetic]
        return [_decider(engine, c) for c in cases], 1
    if measure in ("decide-fresh", "decide-synthetic-fresh"):
        engine = cx.Engine(cx.default_policy())
        case = typical_case()
        for _ in range(3):
            engine.decide(case, at=after_last_event(case))
        if measure == "decide-fresh":
            texts = [docs["typical"]] * ops
        else:
            for c in map(cx.load_case, warm):
                engine.decide(c, at=after_last_event(c))
            texts = synthetic
        # The time from one copy, the decision on another that nothing has asked yet.
        return [
            _decider_at(engine, cx.load_case(d), after_last_event(cx.load_case(d))) for d in texts
        ], 1
    if measure == "load_case":
        typical = docs["typical"]
        for _ in range(3):
            cx.load_case(typical)
        return [lambda: cx.load_case(typical)] * ops, 1
    if measure == "load_case-synthetic":
        for d in warm:
            cx.load_case(d)
        return [_loader(d) for d in synthetic], 1
    if measure == "replay":
        policy = cx.default_policy()
        path = tmp / "cases.jsonl"
        path.write_text("".join(d + "\n" for d in synthetic), encoding="utf-8")
        warm_path = tmp / "warm.jsonl"
        warm_path.write_text("".join(d + "\n" for d in warm), encoding="utf-8")
        cx.simulate(policy, warm_path, executor=None)

        def replay() -> object:
            summary = cx.simulate(policy, path, executor=None)
            assert summary.cases == len(synthetic), summary.errors
            return summary

        return [replay] * max(1, ops), len(synthetic)
    if measure == "sweep":
        policy = cx.default_policy()
        cases = open_backlog(len(synthetic), seed=11)
        warm_cases = open_backlog(len(warm), seed=12)
        cx.Engine(policy).sweep(warm_cases, SWEEP_AT)

        def cold_sweep() -> object:
            return cx.Engine(policy).sweep(cases, SWEEP_AT)

        return [cold_sweep] * max(1, ops), len(cases)
    raise SystemExit(f"unknown measure {measure!r}")


def _decider(engine: Any, case: Any) -> Callable[[], object]:
    return _decider_at(engine, case, after_last_event(case))


def _decider_at(engine: Any, case: Any, at: datetime) -> Callable[[], object]:
    return lambda: engine.decide(case, at=at)


def _loader(doc: str) -> Callable[[], object]:
    return lambda: cx.load_case(doc)


def run_marked(operations: list[Callable[[], object]], units: int) -> None:
    """Run each operation after a callgrind dump marker (``os.getppid()``; two back to back
    first, whose part is the markers' own cost) and print the line ``ab.py`` reads."""
    mark = os.getppid
    mark()
    mark()
    for op in operations:
        op()
        mark()
    print(json.dumps({"units": units, "ops": len(operations)}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["docs", "callgrind", "wall"])
    parser.add_argument("target", help="docs: the file to write; else the docs to read")
    parser.add_argument("--measure", default="decide")
    parser.add_argument("--ops", type=int, default=200)
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    if args.mode == "docs":
        write_docs(Path(args.target), args.cases)
        return 0
    docs = json.loads(Path(args.target).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        operations, units = setup(args.measure, docs, args.ops, Path(tmp))
        if args.mode == "callgrind":
            run_marked(operations, units)
            return 0
        wall, cpu = time.perf_counter, time.process_time
        seconds = []
        cpu_seconds = []
        for op in operations:
            start, start_cpu = wall(), cpu()
            op()
            seconds.append(wall() - start)
            cpu_seconds.append(cpu() - start_cpu)
        print(json.dumps({"units": units, "seconds": seconds, "cpu": cpu_seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
