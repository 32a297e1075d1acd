"""Instructions of the engine's own steps of ``decide()`` (compensation, authority, the
remedy, notifying, following up, the owner), under callgrind, all in one run.

Usage::

    .venv/bin/python bench/engine_steps.py --tree /work/wt/head1 --tree .   # --ops N --cases N

For each tree (``PYTHONPATH=<tree>/src``) decides the typical case of ``bench/ab_driver.py``
(``--ops`` times, warm) and ``--cases`` synthetic cases (seed 7, an engine warmed on seed
8), each an hour after its last event, as ``bench/ab.py`` does. Every step named in
``STEPS`` that the tree has is wrapped where its caller looks it up by one that calls
``os.getppid()`` on entry and on exit (a callgrind dump marker, as ``ab.py`` uses), and so
is each ``decide()``. A step's instructions in one call are the dump parts between its
two markers, less one marker's own cost (two markers back to back) for each part; the
wrappers add a few hundred instructions to the step that calls them. Prints, per step,
the median over the decisions of its instructions per decision (0 for a decision that
does not call it), and the whole ``decide()``. ``PYTHONHASHSEED=0``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from ab import run_callgrind  # bench/ is the script's own folder, first on sys.path

# (label, module, attribute path): wrapped where the label's caller looks it up.
STEPS = [
    ("compensate", "cxrecovery.engine._decision", "compensate"),
    ("  _size", "cxrecovery.engine._compensation", "_size"),
    ("    lateness_share", "cxrecovery.engine._compensation", "lateness_share"),
    ("    downtime_share", "cxrecovery.engine._compensation", "downtime_share"),
    ("  repay", "cxrecovery.engine._compensation", "repay"),
    ("  _amount", "cxrecovery.engine._compensation", "_amount"),
    ("  request", "cxrecovery.engine.compile", "CompiledPolicy._request"),
    # Since the request is made in one call (_grant.asked), the step calls it directly;
    # a tree has one or the other (the same label: their counts add up).
    ("  request", "cxrecovery.engine._compensation", "asked"),
    ("  verdict", "cxrecovery.engine.authority", "Ladder.verdict"),
    ("  _authority", "cxrecovery.engine._compensation", "_authority"),
    ("repay (no row)", "cxrecovery.engine._decision", "repay"),
    ("owner", "cxrecovery.engine._decision", "owner_of"),
    ("apologize", "cxrecovery.engine._decision", "apologize"),
    ("remedy", "cxrecovery.engine._decision", "remedy"),
    ("notify", "cxrecovery.engine._decision", "notify"),
    ("follow_up", "cxrecovery.engine._decision", "follow_up"),
    ("recognise", "cxrecovery.engine._decision", "recognise"),
    ("future_windows", "cxrecovery.engine._decision", "future_windows"),
]

_DRIVER = r"""
import importlib, json, os, sys
sys.path.insert(0, os.path.join(os.environ["ENGINE_STEPS_TREE"], "bench"))
import ab_driver as d
import cxrecovery as cx

mark = os.getppid
log = []
on = [False]

def wrap(label, inner):
    def wrapped(*args, **kwargs):
        if not on[0]:
            return inner(*args, **kwargs)
        log.append(label)
        mark()
        try:
            return inner(*args, **kwargs)
        finally:
            log.append("/" + label)
            mark()
    return wrapped

for label, module, path in json.loads(os.environ["ENGINE_STEPS"]):
    try:
        owner = importlib.import_module(module)
        *parents, last = path.split(".")
        for part in parents:
            owner = getattr(owner, part)
        inner = getattr(owner, last)
    except (ImportError, AttributeError):
        continue
    setattr(owner, last, wrap(label, inner))

engine = cx.Engine(cx.default_policy())
if sys.argv[1] == "typical":
    case = d.typical_case()
    ops = [(case, d.after_last_event(case))] * int(sys.argv[2])
    for _ in range(20):  # warm: the interpreter has specialised its code by then
        engine.decide(case, at=d.after_last_event(case))
else:
    for c in cx.synthetic_cases(30, seed=8):
        engine.decide(c, at=d.after_last_event(c))
    ops = [(c, d.after_last_event(c)) for c in cx.synthetic_cases(int(sys.argv[2]), seed=7)]
decide = wrap("decide()", engine.decide)
mark()
mark()
on[0] = True
for case, at in ops:
    decide(case, at=at)
on[0] = False
with open(os.environ["ENGINE_STEPS_LOG"], "w") as f:
    json.dump(log, f)
"""


def measure(
    tree: Path, what: str, count: int, steps: list[tuple[str, str, str]]
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="engine-steps-") as tmp:
        out = Path(tmp)
        driver = out / "driver.py"
        driver.write_text(_DRIVER, encoding="utf-8")
        env = dict(
            os.environ,
            PYTHONPATH=str(tree / "src"),
            PYTHONHASHSEED="0",
            ENGINE_STEPS_TREE=str(tree),
            ENGINE_STEPS=json.dumps(steps),
            ENGINE_STEPS_LOG=str(out / "log.json"),
        )
        _, found = run_callgrind(out, [sys.executable, str(driver), what, str(count)], env)
        log = json.loads((out / "log.json").read_text(encoding="utf-8"))
    # A part holds what ran up to the marker that wrote it: part 0 the setup, part 1
    # the marker alone, part 2 up to the first logged marker; part 3 + i follows the
    # i-th logged marker.
    marker = found[1]
    after = [p - marker for p in found[3 : 3 + len(log)]]
    per_decision: list[dict[str, int]] = []
    open_at: dict[str, int] = {}
    for i, label in enumerate(log):
        if label == "decide()":
            per_decision.append({})
        if not label.startswith("/"):
            open_at[label] = i
            continue
        name = label[1:]
        start = open_at.pop(name)
        spent = sum(after[start:i])
        row = per_decision[-1]
        row[name] = row.get(name, 0) + spent
    labels = [*dict.fromkeys(label for label, _, _ in steps), "decide()"]
    return {
        label: statistics.median(row.get(label, 0) for row in per_decision) for label in labels
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", type=Path, required=True)
    parser.add_argument("--ops", type=int, default=20, help="decisions of the typical case")
    parser.add_argument("--cases", type=int, default=60, help="synthetic cases")
    parser.add_argument(
        "--only", action="store_true", help="only the steps given with --step, not STEPS"
    )
    parser.add_argument(
        "--step",
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="a function to bracket too (where MODULE looks NAME up; NAME may be dotted)",
    )
    args = parser.parse_args()
    extra = [(name, *name.split(":")) for name in args.step]
    steps = extra if args.only else STEPS + extra
    for what, count in (("typical", args.ops), ("synthetic", args.cases)):
        if not count:
            continue
        results = [measure(tree.resolve(), what, count, steps) for tree in args.tree]
        print(f"{what}: median instructions per decision")
        print(f"  {'step':<40}" + "".join(f"{str(t)[-14:]:>16}" for t in args.tree))
        for label in results[0]:
            print(f"  {label:<40}" + "".join(f"{r[label]:>16,.0f}" for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
