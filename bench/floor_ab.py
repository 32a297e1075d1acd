"""The replay and the cold sweep against their physical floor, and 5481824 beside them.

Run (from a tree with this script; ``--new`` defaults to that tree)::

    .venv/bin/python bench/floor_ab.py --base /work/wt/base            # --cases 100 --rounds 5
    .venv/bin/python bench/floor_ab.py --base /work/wt/base --rounds 0  # instructions only

The inputs are ``bench/ab.py``'s: the replay's synthetic documents (seed 7, written by
the base tree with ``ab_driver.write_docs``) and the sweep's open backlog (seed 11,
``ab_driver.open_backlog``, the sweep at ``ab_driver.SWEEP_AT``). Of those, only the
cases ``floor.floor_decision`` was written for (in scope) are measured, by all three:

- the floor (``floor_runs.floor_replay``, ``floor_runs.floor_sweep``: plain Python by
  hand; it imports the library for its enumerations only);
- the library of ``--new`` and of ``--base``: ``cx.simulate(policy, path,
  executor=None)`` over a JSON Lines file of exactly those documents, and
  ``cx.Engine(policy).sweep(cases, SWEEP_AT)`` over exactly those cases (a new engine
  each time: the compile is in it). ``Engine(policy)`` alone is measured too, so the
  sweep can also be given with its compile shared by 100 cases, as in ``ab.py``'s
  100-case sweep.

First the floor is checked against ``--new``: the replay's totals must equal the
``Summary``'s (``floor_runs.summary_dict``), and the sweep's items (case, kind, due
instant, text) and next reviews must equal the ``SweepResult``'s; any difference exits 1.
Then each operation runs under callgrind between ``os.getppid()`` markers as in
``ab.py`` (the median of ``--ops`` operations after a warm-up on other cases, per case),
then ``--rounds`` interleaved rounds of fresh processes (floor, new, base) timing CPU
time per case. Prints new/floor, base/floor and what the targets of issue 13 (replay
2.5x base's speed, sweep 3x) would be as a multiple of the floor.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ab import DRIVER, env_for, fmt_ir, python, run_callgrind  # bench/ is first on sys.path

HERE = Path(__file__).resolve().parent

WHATS = ("floor-replay", "replay", "floor-sweep", "sweep", "compile", "floor-replay-steps")
TARGETS = {"replay": 2.5, "sweep": 3.0}


# --- the child: one tree's operations --------------------------------------------------
def _child_setup(what: str, work: Path, ops: int) -> tuple[list[Callable[[], object]], int]:
    import ab_driver

    import cxrecovery as cx

    docs = json.loads((work / "docs.json").read_text(encoding="utf-8"))
    chosen = json.loads((work / "in_scope.json").read_text(encoding="utf-8"))
    if what == "floor-replay-steps":
        return _replay_steps(work / "replay.jsonl"), len(chosen["replay"])
    if what in ("floor-replay", "replay"):
        path = work / "replay.jsonl"
        warm = work / "warm.jsonl"
        units = len(chosen["replay"])
        if what == "replay":
            policy = cx.default_policy()
            cx.simulate(policy, warm, executor=None)
            return [lambda: cx.simulate(policy, path, executor=None)] * ops, units
        from floor_runs import floor_replay

        floor_replay(warm, skip_out_of_scope=True)
        return [lambda: floor_replay(path)] * ops, units
    if what == "compile":
        policy = cx.default_policy()
        cx.Engine(policy)
        return [lambda: cx.Engine(policy)] * ops, 1
    wanted = set(chosen["sweep"])
    cases = [c for c in ab_driver.open_backlog(len(docs["synthetic"]), seed=11) if c.id in wanted]
    assert len(cases) == len(wanted), (len(cases), len(wanted))
    warm_cases = ab_driver.open_backlog(len(docs["warm"]), seed=12)
    at = ab_driver.SWEEP_AT
    if what == "sweep":
        policy = cx.default_policy()
        cx.Engine(policy).sweep(warm_cases, at)
        return [lambda: cx.Engine(policy).sweep(cases, at)] * ops, len(cases)
    from floor import OutOfScope
    from floor_runs import floor_sweep

    for case in warm_cases:
        with contextlib.suppress(OutOfScope):
            floor_sweep([case], at)
    return [lambda: floor_sweep(cases, at)] * ops, len(cases)


def _replay_steps(path: Path) -> list[Callable[[], object]]:
    """The replay floor's steps, each over every line at once (after one warm-up run):
    decoding, reading, deciding, adding up."""
    from floor import floor_decision
    from floor_read import last_event_at, read_case
    from floor_runs import Tally

    lines = path.read_bytes().splitlines()
    state: dict[str, list[Any]] = {}

    def decode() -> None:
        state["docs"] = [json.loads(line) for line in lines]

    def read() -> None:
        state["cases"] = [read_case(doc) for doc in state["docs"]]

    def decide() -> None:
        state["decided"] = []
        for case in state["cases"]:
            at = last_event_at(case)
            state["decided"].append((case, at, floor_decision(case, at)))

    def add_up() -> None:
        tally = Tally()
        for case, at, decision in state["decided"]:
            tally.add(case, decision, at)
        tally.freeze()

    steps = [decode, read, decide, add_up]
    for step in steps:
        step()
    return steps


def _select(work: Path) -> int:
    """Pick the in-scope inputs and check the floor against this tree's library."""
    import ab_driver
    from floor import OutOfScope, floor_decision
    from floor_read import last_event_at, read_case
    from floor_runs import floor_replay, floor_sweep, summary_dict

    import cxrecovery as cx

    docs = json.loads((work / "docs.json").read_text(encoding="utf-8"))
    replay = []
    for doc in docs["synthetic"]:
        try:
            case = read_case(json.loads(doc))
            floor_decision(case, last_event_at(case))
        except OutOfScope:
            continue
        replay.append(doc)
    (work / "replay.jsonl").write_text("".join(d + "\n" for d in replay), encoding="utf-8")
    (work / "warm.jsonl").write_text("".join(d + "\n" for d in docs["warm"]), encoding="utf-8")
    backlog = ab_driver.open_backlog(len(docs["synthetic"]), seed=11)
    at = ab_driver.SWEEP_AT
    swept = []
    for case in backlog:
        try:
            floor_sweep([case], at)
        except OutOfScope:
            continue
        swept.append(case)
    problems = []
    mine = floor_replay(work / "replay.jsonl")
    theirs = summary_dict(cx.simulate(cx.default_policy(), work / "replay.jsonl", executor=None))
    problems += [
        f"replay {k}: floor {mine[k]!r}, simulate {theirs[k]!r}"
        for k in mine
        if mine[k] != theirs[k]
    ]
    items, reviews = floor_sweep(swept, at)
    result = cx.Engine(cx.default_policy()).sweep(swept, at)
    listed = [(i.case_id, i.kind.value, i.due, i.summary) for i in result.items]
    if items != listed:
        wrong = next(
            (a, b) for a, b in zip([*items, None], [*listed, None], strict=False) if a != b
        )
        problems.append(
            f"sweep: {len(items)} items, sweep() {len(listed)}; first differing {wrong}"
        )
    if reviews != dict(result.next_reviews):
        problems.append("sweep: next reviews differ")
    report = {
        "replay": len(replay),
        "replay_of": len(docs["synthetic"]),
        "sweep": [c.id for c in swept],
        "sweep_of": len(backlog),
        "items": len(items),
        "problems": problems,
    }
    (work / "in_scope.json").write_text(
        json.dumps({"replay": list(range(len(replay))), "sweep": report["sweep"]}),
        encoding="utf-8",
    )
    print(json.dumps(report))
    return 0


def child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["select", "callgrind", "wall"])
    parser.add_argument("work", type=Path)
    parser.add_argument("--what", choices=WHATS)
    parser.add_argument("--ops", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "select":
        return _select(args.work)
    operations, units = _child_setup(args.what, args.work, args.ops)
    if args.mode == "callgrind":
        import ab_driver

        ab_driver.run_marked(operations, units)
        return 0
    cpu = []
    for op in operations:
        start = time.process_time()
        op()
        cpu.append(time.process_time() - start)
    print(json.dumps({"units": units, "cpu": cpu}))
    return 0


# --- the parent ----------------------------------------------------------------------------
def _argv(mode: str, work: Path, what: str, ops: int) -> list[str]:
    return [
        python(),
        str(Path(__file__).resolve()),
        "child",
        mode,
        str(work),
        f"--what={what}",
        f"--ops={ops}",
    ]


def instructions(tree: Path, work: Path, what: str, ops: int) -> float:
    """Median instructions per unit (case) of ``ops`` operations on ``tree``."""
    with tempfile.TemporaryDirectory(prefix="floor-cg-") as tmp:
        stdout, parts = run_callgrind(
            Path(tmp), _argv("callgrind", work, what, ops), env_for(tree)
        )
    report = json.loads(stdout.strip().splitlines()[-1])
    marker = parts[1]
    per_op = [p - marker for p in parts[2 : 2 + report["ops"]]]
    assert len(per_op) == report["ops"], (len(per_op), report)
    return statistics.median(per_op) / report["units"]


STEPS = ("json.loads", "read_case", "floor_decision", "tally")


def step_instructions(tree: Path, work: Path) -> list[float]:
    """The replay floor's instructions per case, step by step."""
    with tempfile.TemporaryDirectory(prefix="floor-cg-") as tmp:
        argv = _argv("callgrind", work, "floor-replay-steps", 1)
        stdout, parts = run_callgrind(Path(tmp), argv, env_for(tree))
    report = json.loads(stdout.strip().splitlines()[-1])
    return [(p - parts[1]) / report["units"] for p in parts[2 : 2 + report["ops"]]]


def cpu_seconds(tree: Path, work: Path, what: str, ops: int) -> float:
    """Median CPU seconds per unit, in a fresh process."""
    proc = subprocess.run(
        _argv("wall", work, what, ops), env=env_for(tree), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} on {tree} failed:\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return statistics.median(report["cpu"]) / report["units"]


# (label, what, tree name): the floor runs with the new tree's enumerations.
RUNS = (
    ("floor", "floor-replay", "new"),
    ("new", "replay", "new"),
    ("base", "replay", "base"),
    ("floor", "floor-sweep", "new"),
    ("new", "sweep", "new"),
    ("base", "sweep", "base"),
)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        return child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the baseline tree (5481824)")
    parser.add_argument("--new", type=Path, default=HERE.parent, help="the tree under test")
    parser.add_argument("--cases", type=int, default=100, help="synthetic cases (default 100)")
    parser.add_argument("--ops", type=int, default=3, help="operations under callgrind (3)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved CPU-time rounds (5)")
    parser.add_argument("--wall-ops", type=int, default=20, help="operations per timed process")
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "new": args.new.resolve()}
    with tempfile.TemporaryDirectory(prefix="floor-ab-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [python(), str(DRIVER), "docs", str(work / "docs.json"), f"--cases={args.cases}"],
            env=env_for(trees["base"]),
            check=True,
        )
        proc = subprocess.run(
            [python(), str(Path(__file__).resolve()), "child", "select", str(work)],
            env=env_for(trees["new"]),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"select failed:\n{proc.stderr[-3000:]}")
        scope = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"in the floor's scope: {scope['replay']} of the {scope['replay_of']} replayed "
            f"documents, {len(scope['sweep'])} of the {scope['sweep_of']} swept cases "
            f"({scope['items']} items listed)"
        )
        if scope["problems"]:
            print("the floor and the library disagree:\n" + "\n".join(scope["problems"]))
            return 1
        print("agreement: replay totals and sweep items/next reviews equal the library's")
        ir: dict[tuple[str, str], float] = {}
        jobs = [(label, what, name) for label, what, name in RUNS]
        jobs += [("new", "compile", "new"), ("base", "compile", "base")]
        with ThreadPoolExecutor(2) as pool:
            futures = {
                (label, what): pool.submit(instructions, trees[name], work, what, args.ops)
                for label, what, name in jobs
            }
            steps = pool.submit(step_instructions, trees["new"], work)
            ir = {key: f.result() for key, f in futures.items()}
            ir.update(zip((("floor", s) for s in STEPS), steps.result(), strict=True))
        cpu: dict[tuple[str, str], list[float]] = {(label, what): [] for label, what, _ in RUNS}
        for r in range(args.rounds):
            for label, what, name in RUNS:
                cpu[(label, what)].append(cpu_seconds(trees[name], work, what, args.wall_ops))
            print(f"CPU-time round {r + 1}/{args.rounds} done", file=sys.stderr)
    report(ir, cpu, scope, trees, args)
    return 0


def _cpu_ratio(cpu: dict[tuple[str, str], list[float]], name: str, what: str) -> str:
    """The median over the rounds of ``name``'s CPU time / the floor's, in the same round."""
    floors = cpu[("floor", f"floor-{what}")]
    if not floors:
        return ""
    mine = cpu[(name, what)]
    return f"{statistics.median([m / f for m, f in zip(mine, floors, strict=True)]):.2f}×"


def report(
    ir: dict[tuple[str, str], float],
    cpu: dict[tuple[str, str], list[float]],
    scope: dict[str, Any],
    trees: dict[str, Path],
    args: argparse.Namespace,
) -> None:
    n = len(scope["sweep"])
    print(f"base: {trees['base']}\nnew:  {trees['new']}")
    print(
        f"python {sys.version.split()[0]}; Ir: instructions per case, the median of "
        f"{args.ops} operations under callgrind; CPU: the median of {args.rounds} "
        "interleaved rounds' ratios of CPU time"
    )
    print()
    print(
        "| operation | cases | floor Ir | new Ir | base Ir | new/floor | base/floor "
        "| target as ×floor | new/floor CPU | base/floor CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    shared = {  # the sweep with the compile shared by 100 cases, as in ab.py's
        name: ir[(name, "sweep")] - ir[(name, "compile")] / n + ir[(name, "compile")] / 100
        for name in ("new", "base")
    }
    rows = (
        (
            "serial replay",
            "replay",
            scope["replay"],
            ir[("new", "replay")],
            ir[("base", "replay")],
        ),
        ("cold sweep", "sweep", n, ir[("new", "sweep")], ir[("base", "sweep")]),
        ("cold sweep, compile / 100", "", n, shared["new"], shared["base"]),
    )
    for label, what, count, new, base in rows:
        floor = ir[("floor", f"floor-{what or 'sweep'}")]
        limit = TARGETS[what or "sweep"]
        cells = [
            label,
            str(count),
            fmt_ir(floor),
            fmt_ir(new),
            fmt_ir(base),
            f"{new / floor:.2f}×",
            f"{base / floor:.2f}×",
            f"{base / limit / floor:.2f}× ({limit:g}× base's speed)",
            _cpu_ratio(cpu, "new", what) if what else "",
            _cpu_ratio(cpu, "base", what) if what else "",
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    steps = ", ".join(f"{step} {fmt_ir(ir[('floor', step)])}" for step in STEPS)
    print(f"the replay floor by step, per case: {steps}")
    for name in ("new", "base"):
        print(f"{name}: Engine(policy) {fmt_ir(ir[(name, 'compile')])}")
    if args.rounds:
        print(f"CPU time per case, median of {args.rounds} interleaved rounds:")
        for (label, what), values in cpu.items():
            print(f"  {what:13} {label:5} {statistics.median(values) * 1e6:9.1f} µs")


if __name__ == "__main__":
    raise SystemExit(main())
