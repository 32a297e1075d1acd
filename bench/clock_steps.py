"""Instructions of the clock and escalation steps of ``decide()``, under callgrind.

Usage::

    .venv/bin/python bench/clock_steps.py --tree /work/wt/base --tree .   # typical, synthetic

For each tree (``PYTHONPATH=<tree>/src``), decides the typical case of ``bench/ab_driver.py``
(``--ops`` times) and ``--cases`` synthetic cases (seed 7, an engine warmed on seed 8),
each an hour after its last event, with the engine's ``clocks()`` and ``escalation()``
steps bracketed by callgrind dump markers (``os.getppid``, as ``bench/ab.py`` does), and
prints the median instructions per decision of the two steps, of their sum and of the
whole ``decide()``. The markers' own cost is subtracted. The driver reaches into the
engine's decision context to bracket the steps, so it runs on trees that have one
(``DecisionContext`` in ``cxrecovery.engine._context``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from ab import run_callgrind  # bench/ is the script's own folder, first on sys.path

_DRIVER = r"""
import os, sys
sys.path.insert(0, os.path.join(os.environ["CLOCK_STEPS_TREE"], "bench"))
import ab_driver as d
import cxrecovery as cx
from cxrecovery.engine import _context

mark = os.getppid
context = _context.DecisionContext
clocks, escalation = context.clocks, context.escalation

def bracketed_clocks(self):
    mark()
    found = clocks(self)
    mark()
    return found

def bracketed_escalation(self, levels):
    found = escalation(self, levels)
    mark()
    return found

engine = cx.Engine(cx.default_policy())
if sys.argv[1] == "typical":
    case = d.typical_case()
    ops = [(case, d.after_last_event(case))] * int(sys.argv[2])
else:
    for c in cx.synthetic_cases(max(10, int(sys.argv[2]) // 4), seed=8):
        engine.decide(c, at=d.after_last_event(c))
    ops = [(c, d.after_last_event(c)) for c in cx.synthetic_cases(int(sys.argv[2]), seed=7)]
for case, at in ops[:3]:
    engine.decide(case, at=at)
context.clocks, context.escalation = bracketed_clocks, bracketed_escalation
mark()
mark()
for case, at in ops:
    engine.decide(case, at=at)
    mark()
"""


def measure(tree: Path, what: str, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="clock-steps-") as tmp:
        out = Path(tmp)
        driver = out / "driver.py"
        driver.write_text(_DRIVER, encoding="utf-8")
        env = dict(
            os.environ,
            PYTHONPATH=str(tree / "src"),
            PYTHONHASHSEED="0",
            CLOCK_STEPS_TREE=str(tree),
        )
        _, found = run_callgrind(out, [sys.executable, str(driver), what, str(count)], env)
    # setup, the marker alone, then per decision: before the clocks, the clocks, the
    # escalation, the rest; then the exit.
    marker = found[1]
    steps = [p - marker for p in found[2:]]
    n = len(steps) // 4
    rows = [steps[4 * i : 4 * i + 4] for i in range(n)]
    return {
        "clocks": statistics.median(r[1] for r in rows),
        "escalation": statistics.median(r[2] for r in rows),
        "clocks + escalation": statistics.median(r[1] + r[2] for r in rows),
        "decide()": statistics.median(sum(r) for r in rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", type=Path, required=True)
    parser.add_argument("--ops", type=int, default=50, help="decisions of the typical case")
    parser.add_argument("--cases", type=int, default=100, help="synthetic cases")
    args = parser.parse_args()
    for what, count in (("typical", args.ops), ("synthetic", args.cases)):
        print(f"{what} (median instructions per decision)")
        for tree in args.tree:
            shown = ", ".join(f"{k} {v:,.0f}" for k, v in measure(tree, what, count).items())
            print(f"  {tree}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
